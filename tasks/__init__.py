"""Prefect tasks: thin wrappers over library code (fetch, download, convert, validate, record)."""
