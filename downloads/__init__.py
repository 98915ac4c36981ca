"""HTTP for the whole product: one session factory, verified resumable downloads."""
