"""What the account use cases refuse, as facts (the CLI and the web add their hints)."""

from __future__ import annotations


class AccountError(ValueError):
    """A refused account change or input; the message says what and why."""


class UnknownUser(AccountError):
    """No user has this name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no user {name!r}")
        self.name = name


class DuplicateUser(AccountError):
    """A user with this name exists already."""

    def __init__(self, name: str) -> None:
        super().__init__(f"a user {name!r} exists already")
        self.name = name


class WeakPassword(AccountError):
    """A password the policy refuses (the message says which rule)."""


class UnknownToken(AccountError):
    """The user has no active API token with this ID."""

    def __init__(self, name: str, token_id: int) -> None:
        super().__init__(f"user {name!r} has no active API token {token_id}")
        self.name = name
        self.token_id = token_id
