"""Who calls the API: the user of the bearer token, and whether their role allows an action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from sitrep.accounts.roles import Action, may
from sitrep.accounts.service import UserView, token_user
from sitrep.incidents.desk import Desk

_bearer = HTTPBearer(auto_error=False, description="An API token: 'sitrep users token NAME' prints one.")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="sitrep"'}


def desk_of(request: Request) -> Desk:
    """The workspace desk the API was created with."""
    desk: Desk = request.app.state.desk
    return desk


def caller(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> UserView:
    """The active user whose token the request carries; 401 without one or with an unknown, revoked or
    deactivated user's token."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "an API token is required: Authorization: Bearer <token>", headers=_CHALLENGE)
    user = token_user(desk_of(request).store, credentials.credentials)
    if user is None:
        raise HTTPException(401, "the API token is unknown or revoked", headers=_CHALLENGE)
    return user


def allowed(action: Action) -> Callable[..., UserView]:
    """A dependency: the caller, when their role may take ``action``; 403 otherwise."""

    def check(user: Annotated[UserView, Depends(caller)]) -> UserView:
        if not may(user.role, action):
            raise HTTPException(403, f"the role {user.role.value} may not {action.value.replace('_', ' ')}")
        return user

    return check
