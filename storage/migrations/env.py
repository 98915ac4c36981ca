"""Alembic environment: migrations run on the connection `storage.migrate` hands over.

The caller owns the transaction, so the whole upgrade is one transaction on both
backends (SQLite and PostgreSQL both have transactional DDL).
"""
from __future__ import annotations

from alembic import context

from storage.schema import Base

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("catalog migrations run through storage.migrate.upgrade(engine)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
