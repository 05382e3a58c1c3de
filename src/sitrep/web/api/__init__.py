"""The HTTP API (``/api/v1``): incidents, coordination requests, notes, bulk changes, partners, metrics,
events and reports for other tools.

Every request carries an API token (``Authorization: Bearer <token>``, from ``sitrep users token``);
the token's user and role decide what it may do.  Errors are problem details; the OpenAPI 3.1 spec is
served at ``/api/v1/openapi.json`` and kept in the repository (``docs/api/openapi.json``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from sitrep import __version__
from sitrep.config import Workspace
from sitrep.incidents.desk import Desk
from sitrep.web.api import bulk, coordination, problems, routes


def create_api(workspace: Workspace) -> FastAPI:
    """The API application of ``workspace`` (mounted at ``/api/v1`` by the web app)."""
    api = FastAPI(
        title="Sitrep API",
        version=__version__,
        summary="Incidents, coordination, metrics, events and reports of a Sitrep workspace.",
        docs_url=None,
        redoc_url=None,
    )
    api.state.desk = Desk.open(workspace)
    problems.install(api)
    # Bulk paths first: /incidents/bulk/... is not an incident's ref.
    for router in (bulk.router, routes.router, coordination.router):
        api.include_router(router)

    def spec() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = problems.problem_media(FastAPI.openapi(api))
        return api.openapi_schema

    api.openapi = spec  # type: ignore[method-assign]
    return api
