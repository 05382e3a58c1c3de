"""What every incident use case works with: the workspace's store and its handling rules.

The CLI opens a desk per command; the web desk opens one at start and keeps it (the store behind it
is the process's one engine, :func:`sitrep.incidents.db.open_store`).
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sitrep.config import IncidentRules, Workspace
from sitrep.incidents.db import Store, open_store
from sitrep.incidents.sla import Sla
from sitrep.incidents.workflow import Home


@dataclass(frozen=True)
class Desk:
    """A workspace's incident store with the rules its use cases apply."""

    workspace: Workspace
    store: Store
    home: Home
    sla: Sla

    @classmethod
    def open(cls, workspace: Workspace) -> Desk:
        """The desk of ``workspace`` (its database opened and migrated on first use in the process)."""
        return cls(workspace, open_store(workspace), Home.of(workspace), Sla.of(workspace.settings.incidents))

    @property
    def tz(self) -> ZoneInfo:
        """The workspace time zone (times without an offset, weeks, the day of a ref)."""
        return self.workspace.timezone

    @property
    def rules(self) -> IncidentRules:
        """``[incidents]`` of ``sitrep.toml``."""
        return self.workspace.settings.incidents
