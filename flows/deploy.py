"""The nightly deployment: `zoo_nightly` served on a cron schedule, one run at a time."""
from __future__ import annotations

from prefect.schedules import Cron

from flows.nightly import zoo_nightly
from zoo2tf.pipeline.options import RunOptions

DEPLOYMENT_NAME = "zoo-nightly"


def serve_nightly(options: RunOptions, *, cron: str = "0 2 * * *",
                  timezone: str | None = "UTC") -> None:
    """Block, serving the deployment. Needs a real Prefect server (`prefect server start`
    and PREFECT_API_URL): the ephemeral one refuses schedules. `global_limit=1` makes
    nights never overlap: a run still going at the next tick delays that one."""
    zoo_nightly.serve(
        name=DEPLOYMENT_NAME,
        schedules=[Cron(cron, timezone=timezone)],
        parameters={"options": options.to_dict()},
        global_limit=1,
        enforce_parameter_schema=False,
        description="Scan the Caffe Model Zoo, convert and validate what changed, record all.",
        tags=["zoo2tf"],
    )
