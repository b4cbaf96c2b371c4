"""Alembic migrations of the read-model schema (run by `infrastructure.migrate`)."""
