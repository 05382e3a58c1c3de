"""The whole schema of the workspace's store: the incident tables and those that share them (accounts,
jobs, collection records).  Importing this module registers every model module with the one
metadata, which the migrations and ``sitrep database copy`` need whole."""

from __future__ import annotations

import sitrep.accounts.models
import sitrep.collect.records
import sitrep.jobs.records  # noqa: F401
from sitrep.incidents.models import Base

METADATA = Base.metadata
