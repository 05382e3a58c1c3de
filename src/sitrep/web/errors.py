"""Refusals of the web layer that become error pages (see :mod:`sitrep.web.app`)."""

from __future__ import annotations


class NotFound(Exception):
    """No such page (or no such issue, week, file)."""


class BadRequest(Exception):
    """A parameter that does not parse; the message names it."""
