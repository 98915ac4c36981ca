"""The nightly pipeline as plain library code: plan, fetch, convert+validate, record.

Prefect tasks (tasks/) and flows (flows/) only orchestrate these functions, so every
step is testable without a Prefect server.
"""
