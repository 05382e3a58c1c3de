"""Typed results passed between layers, and their JSON form.

The layers hand each other frozen dataclasses (metrics → report facts → report model) so that a renamed
field is caught by the type check and the tests, not when a report renders.  Each result's JSON form —
what ``sitrep metrics --json`` prints and what a published issue freezes — is :meth:`Result.as_dict`;
:meth:`Result.from_dict` reads it back, refusing a missing, extra or mistyped field with its path.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any, Self

from pydantic import ConfigDict, TypeAdapter, ValidationError


class ResultError(ValueError):
    """A stored result does not have the fields its type declares; the message names them."""


@cache
def _adapter(cls: type) -> TypeAdapter[Any]:
    return TypeAdapter(cls)


@dataclasses.dataclass(frozen=True, slots=True)
class Result:
    """Base of the typed results: ``as_dict`` gives the JSON form, ``from_dict`` validates it back."""

    # An unknown key is refused: a renamed field must not load silently.
    __pydantic_config__ = ConfigDict(extra="forbid")

    def as_dict(self) -> dict[str, Any]:
        """The JSON-ready form (nested results become dicts, tuples become lists), keys in field order."""
        return _plain(self)

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """The result ``data`` (a JSON object) holds; :class:`ResultError` names each bad field."""
        try:
            return _adapter(cls).validate_python(data)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in error.errors()[:5]
            )
            raise ResultError(f"not a valid {cls.__name__}: {problems}") from None


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
