"""Alembic migrations of the incident store (configured in code by :mod:`sitrep.incidents.db`)."""
