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
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from sitrep.accounts.errors import AccountError, UnknownUser
from sitrep.incidents.errors import (
    DuplicateRef,
    InactivePartner,
    IncidentError,
    KeyReused,
    PartnerInUse,
    RequestExists,
    StaleIncident,
    StaleRequest,
    StoreBusy,
    StoreError,
    UnknownIncident,
    UnknownPartner,
    UnknownRequest,
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
    (UnknownRequest, HTTPStatus.NOT_FOUND),
    (DuplicateRef, HTTPStatus.CONFLICT),
    (RequestExists, HTTPStatus.CONFLICT),
    (PartnerInUse, HTTPStatus.CONFLICT),
    (InactivePartner, HTTPStatus.CONFLICT),
    (WorkflowError, HTTPStatus.CONFLICT),
    (StaleIncident, HTTPStatus.PRECONDITION_FAILED),
    (StaleRequest, HTTPStatus.PRECONDITION_FAILED),
    (KeyReused, HTTPStatus.UNPROCESSABLE_ENTITY),
    (StoreBusy, HTTPStatus.SERVICE_UNAVAILABLE),
    (StoreError, HTTPStatus.SERVICE_UNAVAILABLE),
    (IncidentError, HTTPStatus.BAD_REQUEST),
    (AccountError, HTTPStatus.BAD_REQUEST),
    (ExploreError, HTTPStatus.BAD_REQUEST),
)


# What each problem status means, as the spec documents it for the operations that can answer it.
MEANING: dict[int, str] = {
    400: "A value the core refused (an unknown category, a bad time or week…); `detail` names it.",
    401: "No API token, or an unknown or revoked one.",
    403: "The token's role may not do this.",
    404: "No such incident, partner, request or user (`detail` names it).",
    409: "A conflict with what is stored: a ref or a request that exists, a refused status change.",
    412: "It changed since the version `If-Match` names: read it again.",
    422: "A body, parameter or header of the wrong shape (`errors` lists each), or a reused Idempotency-Key.",
    428: "A change needs `If-Match` with the `ETag` it was read with.",
    503: "The database stayed busy or cannot be reached: retry later.",
}


class FieldError(BaseModel):
    """One thing wrong with a request's shape: where (``body.title``) and what."""

    location: str
    message: str


class Problem(BaseModel):
    """An error (RFC 9457 problem details): ``title`` is the status phrase, ``detail`` says what was
    wrong; a 422 lists each fault in ``errors``."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


def answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The problem responses of an operation, for its ``responses=`` (every operation can answer 401,
    422 and 503 as well)."""
    chosen = sorted({*statuses, 401, 422, 503})
    return {status: {"model": Problem, "description": MEANING[status]} for status in chosen}


def problem_media(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with every 4xx/5xx response served as ``application/problem+json`` (FastAPI writes a
    response model under ``application/json``)."""
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and "application/json" in content:
                    content[PROBLEM] = content.pop("application/json")
    return spec


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


def _message(error: Any) -> str:
    """A validation error's message, naming the value refused (cut short: it may be long or hostile)."""
    if error.get("type") in ("missing", "extra_forbidden") or "input" not in error:
        return str(error["msg"])
    shown = repr(error["input"])
    return f"{error['msg']}, not {shown if len(shown) <= 80 else shown[:77] + '...'}"


def install(app: FastAPI) -> None:
    """Make ``app`` answer every error — its own, FastAPI's validation, the core's — as a problem."""

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return problem(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [{"location": ".".join(str(p) for p in e["loc"]), "message": _message(e)} for e in exc.errors()]
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
