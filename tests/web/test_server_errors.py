"""A request that fails inside the server answers a plain error page; its traceback goes to the log."""

from __future__ import annotations

import logging

import httpx

from sitrep.incidents.db import close_stores
from sitrep.web.app import create_app
from sitrep.web.auth import PUBLIC
from sitrep.workspace import init_workspace

from .serving import serve


def test_the_traceback_of_a_failed_request_is_in_the_log_not_the_page(tmp_path, caplog):
    app = create_app(init_workspace(tmp_path / "ws"))

    def broken() -> None:
        raise RuntimeError("the lake fell over")

    app.get("/probe/broken", dependencies=[PUBLIC])(broken)
    try:
        with serve(app) as url, caplog.at_level(logging.ERROR, logger="sitrep.web"):
            answer = httpx.get(f"{url}/probe/broken", timeout=30)
    finally:
        close_stores()
    assert answer.status_code == 500 and "the lake fell over" not in answer.text
    (record,) = [r for r in caplog.records if r.name == "sitrep.web"]
    assert record.exc_info and "the lake fell over" in caplog.text and "Traceback" in caplog.text
