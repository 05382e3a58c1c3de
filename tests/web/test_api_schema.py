"""Schemathesis against the committed spec (docs/api/openapi.json), calling the real API under
Uvicorn with a real admin token, in a workspace of its own (bulk changes close and assign what the
generated data picks).

Every operation answers generated valid and invalid requests — hostile strings, over-long fields,
bad times and weeks, unknown refs — without a 5xx, with a status the spec documents for it, the
content type it names (``application/problem+json`` for a problem) and a body of its schema.  Path
parameters are sometimes a real incident and partner, so the answers are not only 404s.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.hooks import HookContext
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sitrep.accounts import service as accounts
from sitrep.incidents import service
from sitrep.incidents.db import open_store
from sitrep.incidents.desk import Desk
from sitrep.incidents.models import utcnow
from sitrep.web.api import create_api
from sitrep.weeks import Week
from sitrep.workspace import init_workspace

from .conftest import HOSTILE
from .serving import serve

SPEC = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.json"
schema = schemathesis.openapi.from_path(SPEC)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
PARTNER = f"阿里云{HOSTILE}"
REFS = ("INC-SCHEMA-1", "INC-SCHEMA-2")


WEEK = str(Week.last_complete(ZoneInfo("Asia/Shanghai")))


def _or_real(generated: Any, real: dict[str, Any]) -> st.SearchStrategy[Any]:
    """The generated value, or it with ``real`` values put in (those of its keys it has)."""
    if not isinstance(generated, dict) or not real.keys() & generated.keys():
        return st.just(generated)
    return st.sampled_from([generated, {**generated, **{k: v for k, v in real.items() if k in generated}}])


@schema.hook
def flatmap_path_parameters(context: HookContext, path_parameters: dict[str, Any] | None) -> st.SearchStrategy[Any]:
    """As generated, or naming a real incident, its partner and a week: real ones reach past the 404."""
    return _or_real(path_parameters, {"ref": REFS[0], "partner": PARTNER, "week": WEEK})


@schema.hook
def flatmap_body(context: HookContext, body: Any) -> st.SearchStrategy[Any]:
    """As generated, or naming the real partner and (for bulk changes) the second incident."""
    return _or_real(body, {"partner": PARTNER, "refs": [REFS[1]]})


@schema.hook
def flatmap_headers(context: HookContext, headers: dict[str, Any] | None) -> st.SearchStrategy[Any]:
    """As generated, or for a change, made against whatever is stored (``If-Match: *``)."""
    if context.operation is None or context.operation.method.upper() != "PATCH":
        return st.just(headers)
    return st.sampled_from([headers, {**(headers or {}), "If-Match": "*"}])


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The API of a throwaway workspace under Uvicorn: its base URL and an admin's headers."""
    ws = init_workspace(Path(tmp_path_factory.mktemp("schema")) / "ws")
    store = open_store(ws)
    accounts.add_user(store, "schema-admin", "admin", "a long enough password")
    token = accounts.issue_token(store, "schema-admin").token
    desk = Desk.open(ws)
    service.add_partner(desk, PARTNER, "cloud", actor="test", email="abuse@example.com")
    sent = utcnow() - timedelta(days=3)
    for ref in REFS:
        service.add_incident(desk, title=f"仿冒{HOSTILE}", category="phishing", actor="test", ref=ref, reported_at=sent)
    service.open_request(desk, REFS[0], PARTNER, actor="test", sent=sent, due=sent + timedelta(hours=4))
    with serve(create_api(ws)) as url:
        yield url, {"Authorization": f"Bearer {token}"}


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_spec_says(case: schemathesis.Case, target: tuple[str, dict[str, str]]) -> None:
    url, headers = target
    case.call_and_validate(base_url=url, headers=headers, checks=CHECKS)
