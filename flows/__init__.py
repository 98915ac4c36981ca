"""Prefect flows: the nightly run, one-model runs, deployments and schedules."""
