"""No detail of TLP:AMBER/RED data in any public output, and restricted IDs that only the workspace can
make: a workspace with restricted events and incidents (a RED major infrastructure incident among them)
is published, rendered in every format and built into the archive site, then every file is searched.
RED data (lake events and incidents) feeds nothing public, not even a count."""

from __future__ import annotations

import json
import multiprocessing
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sitrep.cli import app
from sitrep.incidents.db import session_scope
from sitrep.incidents.importer import import_incidents
from sitrep.report.redact import SECRET_NAME, restricted_id, secret_path, workspace_secret
from sitrep.workspace import init_workspace

from .data import RESTRICTED_STRINGS, WEEK, build_workspace, event, write_events

runner = CliRunner()

RED_REF = "RED-INFRA-SECRET-7"
RED_TITLE = "骨干网机密中断REDTITLE"
RED_ASSET = "core-router.red-secret.example.cn"
RED_PARTNER = "机密运营商REDPARTNER"
AMBER_REF = "AMBER-PHISH-SECRET-2"
AMBER_PARTNER = "机密注册商AMBERPARTNER"
AMBER_INFRA_REF = "AMBER-INFRA-SECRET-3"
RED_PHISH_REF = "RED-PHISH-SECRET-4"
# RED lake events: a family, a sector and hosts that must feed nothing public, not even a count.
RED_FAMILY = "redonlyfamilyz"
RED_SECTOR = "Secret Sector REDSECTOR"
RED_IP = "198.51.100.250"
DETAILS = (
    *RESTRICTED_STRINGS,
    RED_REF,
    RED_TITLE,
    RED_ASSET,
    "red-secret",
    RED_PARTNER,
    AMBER_REF,
    AMBER_PARTNER,
    AMBER_INFRA_REF,
    RED_PHISH_REF,
    RED_FAMILY,
    RED_SECTOR,
    RED_IP,
)


def _sitrep(root: Path, *args: str):
    result = runner.invoke(app, ["--home", str(root), *args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def public(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The workspace and the text of every public file (report in every format, site, feed)."""
    tmp = tmp_path_factory.mktemp("restricted")
    ws = build_workspace(tmp / "ws")
    path = tmp / "restricted.csv"
    path.write_text(
        "ref,title,category,reported_at,resolved_at,status,grade,partner,partner_type,asset,tlp\n"
        f"{RED_REF},{RED_TITLE},infrastructure,2025-01-02T08:00:00,,triaged,重大,{RED_PARTNER},cloud,{RED_ASSET},RED\n"
        f"{AMBER_REF},仿冒,phishing,2025-01-02T08:00:00,2025-01-03T08:00:00,resolved,一般,{AMBER_PARTNER},registrar,"
        "http://amber-phish-two.example.com/,AMBER\n"
        f"{AMBER_INFRA_REF},中断,infrastructure,2025-01-02T09:00:00,,triaged,重大,{AMBER_PARTNER},registrar,"
        "amber-infra.example.cn,AMBER\n"
        f"{RED_PHISH_REF},仿冒,phishing,2025-01-02T08:00:00,2025-01-03T08:00:00,resolved,一般,{RED_PARTNER},cloud,"
        "http://red-secret-phish.example.com/,RED\n",
        encoding="utf-8",
    )
    with session_scope(ws) as session:
        assert not import_incidents(session, path, workspace=ws, actor="t").rejects
    base = datetime.combine(WEEK.monday, datetime.min.time(), tzinfo=UTC) + timedelta(hours=3)
    red = [
        event(
            time_source=base + timedelta(minutes=i),
            classification_taxonomy="malicious-code",
            classification_type="infected-system",
            classification_identifier="infected-system",
            source_ip=f"198.51.100.{250 - i}" if i else RED_IP,
            malware_name=RED_FAMILY,
            region="XZ",
            country="CN",
            domestic=True,
            ip_domestic=True,
            extra=json.dumps({"src_sector": RED_SECTOR}),
            tlp="RED",
        )
        for i in range(30)
    ]
    write_events(ws, red, "red")
    _sitrep(ws.root, "publish", "--week", str(WEEK))
    _sitrep(ws.root, "publish", "--week", str(WEEK - 1))
    out = tmp / "out"
    _sitrep(ws.root, "report", "--week", str(WEEK), "-o", str(out))
    site = tmp / "site"
    _sitrep(ws.root, "site", "-o", str(site))
    texts = {}
    for file in [*out.rglob("*"), *site.rglob("*")]:
        if file.is_file():
            texts[str(file)] = _text(file)
    return ws.root, texts


def _text(path: Path) -> str:
    if path.suffix == ".png":
        return ""  # a WeChat chart image: its chart's text is checked in the chart's SVG
    if path.suffix == ".pdf":
        if shutil.which("pdftotext") is None:
            pytest.skip("poppler-utils (pdftotext) missing: cannot read the PDF's text")
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
        return re.sub(r"\s+", "", text)  # Chinese lines wrap anywhere
    return path.read_text(encoding="utf-8")


def test_no_restricted_detail_in_any_public_file(public):
    _, texts = public
    kinds = {Path(name).name.split(".", 1)[-1] for name in texts}
    # Every public output was produced: each edition's formats, charts, the site's pages and its feed.
    assert {"zh.html", "en.html", "zh.pdf", "zh.md", "zh.json", "zh.wechat.html", "xml", "svg"} <= kinds
    assert any(name.endswith("site/index.en.html") for name in texts)
    assert len(texts) >= 30
    for name, text in texts.items():
        for detail in DETAILS:
            assert detail not in text, f"{detail!r} leaked into {name}"


def test_the_numbers_still_count_restricted_data_under_opaque_ids(public):
    root, texts = public
    [name] = [n for n in texts if n.endswith("out/report.en.json")]
    data = json.loads(texts[name])
    secret = (root / SECRET_NAME).read_text(encoding="ascii").strip()
    key = bytes.fromhex(secret)
    # The AMBER major infrastructure incident floors the rating under an opaque ID; the RED one, the
    # RED phishing case and the 30 RED infected hosts count nowhere.
    amber = restricted_id(key, "incident", AMBER_INFRA_REF)
    assert data["major_infrastructure_incidents"] == [amber]
    assert data["rating"]["major_infrastructure"] == [amber]
    assert data["rating"]["label"] == "中" and data["rating"]["floor_applied"]
    handled = data["incidents"]["handled"]["incidents"]
    assert restricted_id(key, "incident", AMBER_REF) in handled
    assert restricted_id(key, "incident", RED_PHISH_REF) not in handled
    assert data["incidents"]["handled"]["value"] == 68
    assert data["indicators"]["infected_hosts"]["value"] == 12
    assert "XZ" not in [r["code"] for r in data["breakdowns"]["regions"]]
    # The secret itself is in no public file.
    assert not any(secret in text for text in texts.values())


def test_restricted_ids_are_keyed_per_workspace_and_not_made_from_the_ref_alone(tmp_path):
    a, b = init_workspace(tmp_path / "a"), init_workspace(tmp_path / "b")
    key_a, key_b = workspace_secret(a), workspace_secret(b)
    assert len(key_a) == 32 and key_a != key_b
    assert secret_path(a).stat().st_mode & 0o777 == 0o600
    assert workspace_secret(a) == key_a  # stable across calls
    made_a = restricted_id(key_a, "incident", "PHISH-2025-0042")
    assert made_a != restricted_id(key_b, "incident", "PHISH-2025-0042")
    assert made_a != restricted_id(key_a, "event", "PHISH-2025-0042")
    assert re.fullmatch(r"restricted-[0-9a-f]{12}", made_a)
    # What an attacker can compute from the ref alone: the old unsalted hash, or a hash with an empty key.
    import hashlib
    import hmac

    ref = b"PHISH-2025-0042"
    guesses = {
        hashlib.sha256(ref).hexdigest()[:12],
        hashlib.sha256(b"incident\x1f" + ref).hexdigest()[:12],
        hmac.new(b"", b"incident\x1f" + ref, hashlib.sha256).hexdigest()[:12],
    }
    assert made_a.removeprefix("restricted-") not in guesses


def _secret_of(root: str, queue) -> None:
    from sitrep.config import load_workspace

    queue.put(workspace_secret(load_workspace(root)).hex())


def test_an_older_workspace_gets_its_secret_on_first_use_once_under_a_race(tmp_path):
    ws = init_workspace(tmp_path / "old")
    secret_path(ws).unlink()  # as in a workspace made before secrets existed
    queue = multiprocessing.get_context("spawn").Queue()
    workers = [
        multiprocessing.get_context("spawn").Process(target=_secret_of, args=(str(ws.root), queue)) for _ in range(8)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    keys = {queue.get(timeout=5) for _ in workers}
    assert len(keys) == 1  # every process got the same key
    assert bytes.fromhex(keys.pop()) == workspace_secret(ws)
    assert [p.name for p in ws.root.iterdir() if p.name.startswith(SECRET_NAME)] == [SECRET_NAME]


def test_a_damaged_secret_is_a_clear_error(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    secret_path(ws).write_text("not hex at all\n", encoding="ascii")
    result = runner.invoke(app, ["--home", str(ws.root), "report", "--week", "2025-W01", "--format", "json"])
    assert result.exit_code == 2
    assert "not a Sitrep workspace secret" in result.output and "Traceback" not in result.output
    secret_path(ws).write_text("ab" * 8 + "\n", encoding="ascii")
    result = runner.invoke(app, ["--home", str(ws.root), "report", "--week", "2025-W01", "--format", "json"])
    assert result.exit_code == 2 and "8 bytes, at least 32 expected" in result.output
