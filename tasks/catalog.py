"""Prefect task: scan the zoo catalog (wiki page, gists) into a CatalogScan."""
from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from zoo2tf.pipeline.options import RunOptions
from zoo_catalog.records import CatalogScan
from zoo_catalog.scan import scan_catalog


@task(name="scan-catalog", cache_policy=NO_CACHE, persist_result=False)
def scan_catalog_task(options: RunOptions) -> CatalogScan:
    return scan_catalog(options.catalog_url, options.github_api_base, token=options.github_token,
                        cache_dir=Path(options.cache_dir) / "github")
