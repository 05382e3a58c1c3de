"""What stops ``sitrep send``, as facts (the CLI adds the hints); :class:`~.log.AlreadySent` is one."""

from __future__ import annotations


class DistributionError(Exception):
    """Nothing was sent: the issue may not go out, the configuration is incomplete, or the relay
    cannot be used (the message names the week, the key, the server or the recipient)."""
