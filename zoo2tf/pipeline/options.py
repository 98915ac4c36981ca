"""The settings of one pipeline run; plain data so that any task runner can ship them."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

TASK_RUNNERS = ("thread", "process", "dask")


@dataclass(frozen=True)
class RunOptions:
    db_url: str
    store_url: str
    models_dir: str
    cache_dir: str  # conditional-GET caches (catalog page, gist API, small files)
    catalog_url: str
    github_api_base: str
    github_token: str | None = None
    force: bool = False
    only: tuple[str, ...] = ()
    limit: int | None = None
    workers: int = 2
    task_runner: str = "thread"
    dask_address: str | None = None
    timeout_s: float = 900.0
    memory_cap_mb: int = 8192
    reference: str = "opencv"
    fetch_retries: int = 2
    worker_env: tuple[tuple[str, str], ...] = ()  # extra environment of isolated workers

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def coerce(cls, value: RunOptions | dict[str, Any]) -> RunOptions:
        """Accept the options as a deployment's JSON parameters deliver them."""
        if isinstance(value, cls):
            return value
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in value.items() if k in known}
        data["only"] = tuple(data.get("only") or ())
        data["worker_env"] = tuple(tuple(pair) for pair in data.get("worker_env") or ())
        return cls(**data)
