"""What the endpoints of ``/api/v1`` share: the callers they admit, the paging parameters, the
``next`` link, and versions as ``ETag`` and ``If-Match``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Path, Query, Request
from starlette.exceptions import HTTPException

from sitrep.accounts.roles import Action
from sitrep.accounts.service import UserView
from sitrep.incidents import service
from sitrep.web.api.caller import allowed

Viewer = Annotated[UserView, Depends(allowed(Action.VIEW))]
Editor = Annotated[UserView, Depends(allowed(Action.EDIT_INCIDENTS))]
Limit = Annotated[int, Query(ge=1, le=service.MAX_PAGE, description="Items per page.")]
Cursor = Annotated[str | None, Query(max_length=200, description="The `next` cursor of the previous page.")]
Ref = Annotated[str, Path(description="The incident's ref.")]
PartnerName = Annotated[str, Path(description="The partner's name in the directory, percent-encoded (`JPCERT%2FCC`).")]
IfMatch = Annotated[
    str | None,
    Header(max_length=200, description="The `ETag` of the version the change is made against (`*`: any)."),
]

# The longest one-line value a body field takes (names, times) and the longest note.
SHORT = 200
LONG = 10_000


_HEADERS = {
    "ETag": "The version of what the answer shows; send it back as `If-Match` to change it.",
    "Location": "Where what was created is.",
}


def with_headers(status: int, *names: str) -> dict[int | str, dict[str, Any]]:
    """The success response ``status`` of an operation, documenting the headers it carries."""
    return {
        status: {"headers": {name: {"description": _HEADERS[name], "schema": {"type": "string"}} for name in names}}
    }


def next_link(request: Request, cursor: str | None) -> str | None:
    """The URL of the page after this one (None on the last)."""
    return str(request.url.include_query_params(cursor=cursor)) if cursor else None


def etag(version: str) -> str:
    """The ``ETag`` of a version."""
    return f'"{version}"'


def required_version(if_match: str | None, what: str) -> str | None:
    """The version ``If-Match`` names (None for ``*``: whatever is stored); 428 without one."""
    if not if_match or not if_match.strip():
        raise HTTPException(428, f"send If-Match with the ETag of the {what} as you read it")
    tag = if_match.strip()
    return None if tag == "*" else tag.removeprefix("W/").strip('"')
