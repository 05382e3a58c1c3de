"""Who may do what: the roles of the desk and the actions each may take, as one table.

Every web route and API endpoint names the :class:`Action` it needs; :func:`may` answers from
:data:`PERMISSIONS` and nothing else does.  The roles (DESIGN.md's duty officer publishes)::

    viewer     reads the dashboard, the incidents, the ledger, the events and the report drafts
    analyst    + handles incidents and coordination, ingests feeds, renders and edits a report's draft
    publisher  + publishes and withdraws issues (the duty officer)
    admin      + manages users and their tokens
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's role."""

    ADMIN = "admin"
    ANALYST = "analyst"
    PUBLISHER = "publisher"
    VIEWER = "viewer"


class Action(StrEnum):
    """What a route or an endpoint does, as far as permissions go."""

    VIEW = "view"  # dashboard, incidents, ledger, events, report drafts
    EDIT_INCIDENTS = "edit_incidents"  # create, change, assign, resolve; coordination requests, notes
    NOTIFY_PARTNERS = "notify_partners"  # send notifications and reminders to partners
    INGEST = "ingest"  # upload and ingest feed files
    RENDER = "render"  # render a week's report files (both languages, every format)
    EDIT_REPORT = "edit_report"  # a draft's narrative (summary and highlights)
    PUBLISH = "publish"  # publish and unpublish an issue
    MANAGE_USERS = "manage_users"  # add, deactivate users; issue and revoke their tokens


_READ = frozenset({Action.VIEW})
_HANDLE = _READ | {Action.EDIT_INCIDENTS, Action.NOTIFY_PARTNERS, Action.INGEST, Action.RENDER, Action.EDIT_REPORT}
_PUBLISH = _HANDLE | {Action.PUBLISH}

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.VIEWER: _READ,
    Role.ANALYST: _HANDLE,
    Role.PUBLISHER: _PUBLISH,
    Role.ADMIN: _PUBLISH | {Action.MANAGE_USERS},
}


def may(role: Role, action: Action) -> bool:
    """Whether ``role`` may take ``action``."""
    return action in PERMISSIONS[role]


def parse_role(text: str) -> Role:
    """The role named ``text`` (case does not matter); a ``ValueError`` names the choices."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {text!r} (one of: {choices})") from None
