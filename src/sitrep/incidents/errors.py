"""What the incident use cases refuse, as facts: the CLI and the web desk add their own hints.

Every error is a ``ValueError`` (bad input or a refused change) and carries the value it is about, so a
caller can word its hint (``see 'sitrep incidents list'``) without parsing the message.
"""

from __future__ import annotations


class IncidentError(ValueError):
    """A use case refused its input or a change; the message says what and why."""


class WorkflowError(IncidentError):
    """A change the workflow refuses (illegal transition, missing reason…); the message says why."""


class IllegalTransition(WorkflowError):
    """The workflow does not allow the incident to go from its status to the one asked for."""

    def __init__(self, ref: str, current: str, goal: str, allowed: tuple[str, ...]) -> None:
        choices = ", ".join(allowed) or "none: it is closed"
        super().__init__(f"incident {ref}: cannot go from {current} to {goal} (allowed from {current}: {choices})")
        self.ref, self.current, self.goal, self.allowed = ref, current, goal, allowed


class AlreadyTriaged(WorkflowError):
    """A decision on a new incident (accept or reject) came after it had been decided: it is no longer new."""

    def __init__(self, ref: str, status: str) -> None:
        super().__init__(f"incident {ref} is {status} already: only a new incident is accepted or rejected")
        self.ref, self.status = ref, status


class UnknownIncident(IncidentError):
    """No incident has this ref."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"no incident with ref {ref!r}")
        self.ref = ref


class UnknownPartner(IncidentError):
    """No partner of the directory has this name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no partner {name!r} in the directory")
        self.name = name


class InactivePartner(IncidentError):
    """The partner was deactivated: it keeps its history but gets no new requests."""

    def __init__(self, name: str) -> None:
        super().__init__(f"partner {name!r} is deactivated")
        self.name = name


class DuplicateRef(IncidentError):
    """An incident with this ref exists already."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"an incident with ref {ref!r} exists already")
        self.ref = ref


class StaleIncident(IncidentError):
    """The incident changed since the version the change was made against."""

    def __init__(self, ref: str, expected: str, current: str) -> None:
        super().__init__(f"incident {ref} changed since version {expected} (it is now at version {current})")
        self.ref, self.expected, self.current = ref, expected, current


class KeyReused(IncidentError):
    """A client key already created an incident from a different request."""

    def __init__(self, key: str, ref: str) -> None:
        super().__init__(f"the key {key!r} already created incident {ref} from a different request")
        self.key, self.ref = key, ref


class PartnerInUse(IncidentError):
    """The partner is named by coordination requests, so removing it would rewrite their history."""

    def __init__(self, name: str, requests: int) -> None:
        super().__init__(f"partner {name!r} has {requests} coordination request(s)")
        self.name = name
        self.requests = requests


class RequestWithoutPartner(IncidentError):
    """Request times, a due date or an outcome were given without the partner whose request they are."""

    def __init__(self) -> None:
        super().__init__(
            "request times, the due date and the outcome belong to one partner's request; no partner given"
        )


class StoreError(IncidentError):
    """The incident database cannot be used (unreachable, refused, or busy beyond the wait limit)."""


class StoreBusy(StoreError):
    """Another writer held the database longer than the wait limit."""


class UnknownRequest(IncidentError):
    """The incident has no coordination request to this partner."""

    def __init__(self, ref: str, partner: str) -> None:
        super().__init__(f"incident {ref} has no coordination request to {partner!r}")
        self.ref, self.partner = ref, partner


class RequestExists(IncidentError):
    """The incident has a coordination request to this partner already (one per partner)."""

    def __init__(self, ref: str, partner: str) -> None:
        super().__init__(f"incident {ref} has a coordination request to {partner!r} already")
        self.ref, self.partner = ref, partner


class StaleRequest(IncidentError):
    """The coordination request changed since the version the change was made against."""

    def __init__(self, ref: str, partner: str, expected: str, current: str) -> None:
        super().__init__(
            f"the request of incident {ref} to {partner!r} changed since version {expected} "
            f"(it is now at version {current})"
        )
        self.ref, self.partner, self.expected, self.current = ref, partner, expected, current
