"""The SQLAlchemy catalog (schema, migrations, queries) and the artifact store."""
