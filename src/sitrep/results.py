"""Typed results passed between layers, and their JSON form.

The layers hand each other frozen dataclasses (metrics → report facts → report model) so that a renamed
field is caught by the type check and the tests, not when a report renders.  Each result's JSON form —
what ``sitrep metrics --json`` prints and what a published issue freezes — is :meth:`Result.as_dict`;
:meth:`Result.from_dict` reads it back, refusing a missing, extra or mistyped field with its path.
A result whose JSON form is not simply its fields overrides :meth:`Result.as_dict` and its inverse
:meth:`Result.from_json`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Self

from pydantic import ConfigDict, GetCoreSchemaHandler, TypeAdapter, ValidationError
from pydantic_core import CoreSchema, core_schema


class ResultError(ValueError):
    """A stored result does not have the fields its type declares; the message names them."""


_ADAPTERS: dict[type, TypeAdapter[Any]] = {}


def _adapter(cls: type) -> TypeAdapter[Any]:
    if cls not in _ADAPTERS:  # building one costs milliseconds: once per type
        _ADAPTERS[cls] = TypeAdapter(cls)
    return _ADAPTERS[cls]


@dataclasses.dataclass(frozen=True, slots=True)
class Result:
    """Base of the typed results: ``as_dict`` gives the JSON form, ``from_dict`` validates it back."""

    # An unknown key is refused: a renamed field must not load silently.
    __pydantic_config__ = ConfigDict(extra="forbid")

    def as_dict(self) -> dict[str, Any]:
        """The JSON-ready form (nested results become dicts, tuples become lists), keys in field order."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_json(cls, data: Any) -> Any:
        """The fields of ``data`` (the JSON form) before validation: the inverse of an ``as_dict`` override."""
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """The result ``data`` (a JSON object) holds; :class:`ResultError` names each bad field."""
        try:
            result: Self = _adapter(cls).validate_python(data)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in error.errors()[:5]
            )
            raise ResultError(f"not a valid {cls.__name__}: {problems}") from None
        return result

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        # Nested results are read through their own from_json too.
        return core_schema.no_info_before_validator_function(cls.from_json, handler(source))


def _plain(value: Any) -> Any:
    if isinstance(value, Result):
        return value.as_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class Counted(Result):
    """A number of the report and the IDs behind it (incident refs or event IDs, in their order)."""

    value: int
    refs: tuple[str, ...]
