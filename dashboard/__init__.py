"""The web dashboard over the catalog database (read-only)."""
