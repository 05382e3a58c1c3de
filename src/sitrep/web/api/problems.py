"""Errors of the API as RFC 9457 problem details (``application/problem+json``).

Core exceptions state facts; here each family of them gets its HTTP status, in one table.  Any other
``ValueError`` of the core is a value it refused: 400.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from sitrep.accounts.errors import AccountError, UnknownUser
from sitrep.incidents.errors import (
    DuplicateRef,
    InactivePartner,
    IncidentError,
    KeyReused,
    PartnerInUse,
    StaleIncident,
    StoreBusy,
    StoreError,
    UnknownIncident,
    UnknownPartner,
    WorkflowError,
)
from sitrep.metrics.explore import ExploreError

PROBLEM = "application/problem+json"
log = logging.getLogger("sitrep.web.api")

# The most specific class first: the first match decides the status.
STATUS_OF: tuple[tuple[type[Exception], HTTPStatus], ...] = (
    (UnknownIncident, HTTPStatus.NOT_FOUND),
    (UnknownPartner, HTTPStatus.NOT_FOUND),
    (UnknownUser, HTTPStatus.NOT_FOUND),
    (DuplicateRef, HTTPStatus.CONFLICT),
    (PartnerInUse, HTTPStatus.CONFLICT),
    (InactivePartner, HTTPStatus.CONFLICT),
    (WorkflowError, HTTPStatus.CONFLICT),
    (StaleIncident, HTTPStatus.PRECONDITION_FAILED),
    (KeyReused, HTTPStatus.UNPROCESSABLE_ENTITY),
    (StoreBusy, HTTPStatus.SERVICE_UNAVAILABLE),
    (StoreError, HTTPStatus.SERVICE_UNAVAILABLE),
    (IncidentError, HTTPStatus.BAD_REQUEST),
    (AccountError, HTTPStatus.BAD_REQUEST),
    (ExploreError, HTTPStatus.BAD_REQUEST),
)


def problem(status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    """A problem-details response: ``title`` is the status phrase, ``detail`` says what was wrong."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def core_status(exc: Exception) -> HTTPStatus:
    """The HTTP status of a core exception (400 for a refusal not in :data:`STATUS_OF`)."""
    for kind, status in STATUS_OF:
        if isinstance(exc, kind):
            return status
    return HTTPStatus.BAD_REQUEST


def install(app: FastAPI) -> None:
    """Make ``app`` answer every error — its own, FastAPI's validation, the core's — as a problem."""

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return problem(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [{"location": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        first = errors[0] if errors else {"location": "", "message": "invalid request"}
        return problem(422, f"{first['location']}: {first['message']}", errors=errors)

    async def refused(_: Request, exc: Exception) -> JSONResponse:
        return problem(core_status(exc), str(exc))

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    # The core refuses a bad value with a ValueError (its own errors are ValueErrors too), as the CLI
    # takes it: the message names the value.
    app.add_exception_handler(ValueError, refused)

    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the server log, never to the client.
        log.exception("error serving %s %s", request.method, request.url.path)
        return problem(500, "the server failed to answer; the error is in its log")

    app.add_exception_handler(Exception, crashed)
