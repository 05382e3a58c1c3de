"""The account tests run on SQLite and on the real PostgreSQL server of the incident tests."""

from __future__ import annotations

from incidents.conftest import _one_store_per_test, backend, postgres, ws

__all__ = ["_one_store_per_test", "backend", "postgres", "ws"]
