"""DuckDB and Apache Spark give the same numbers: every indicator, breakdown, report fact, check and
proposal, over a lake of several weeks built by the real ingest, with events exactly at the week
boundaries of Asia/Shanghai and of America/New_York (west of UTC).  And the same lake: feed files
ingested on Spark give the events, rejects and counts of the same files ingested here.

Spark runs in local mode, one session for the whole module.  Without PySpark or Java the Spark tests
skip, saying which is missing, unless ``SITREP_REQUIRE_SPARK=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from helpers import SAMPLES, lake_rows
from sitrep.config import CONFIG_NAME, Workspace, load_workspace, with_engine
from sitrep.demo.feeds import volumes, write_week
from sitrep.feeds.shadowserver import load_reports
from sitrep.incidents.desk import Desk
from sitrep.incidents.service import propose_incidents
from sitrep.lake.ingest import IngestResult, ingest_paths
from sitrep.metrics.weekly import evidence
from sitrep.report.check import check_week
from sitrep.report.facts import gather
from sitrep.weeks import Week
from sitrep.workspace import init_workspace

WEEKS = [Week(2025, 10), Week(2025, 11), Week(2025, 12)]
# The events are placed at the start of these weeks (and a second before).  The last one is compared:
# its facts hold the values of every week of the lake (series, last week), so each boundary is crossed.
EDGES = WEEKS[1:]
COMPARED = WEEKS[-1]
ZONES = ("Asia/Shanghai", "America/New_York")
NOW = datetime(2025, 6, 1, tzinfo=UTC)
# The same session for both workspaces: few shuffle partitions for a lake this small.
SPARK_SETTINGS = """
[query.spark]
master = "local[2]"

[query.spark.options]
"spark.sql.shuffle.partitions" = 2
"spark.default.parallelism" = 2
"""
_COLUMNS = {r.key: r.columns for r in load_reports() if r.key in ("event4_sinkhole", "compromised_website")}


def _missing() -> str | None:
    """Why Spark cannot run here, or None."""
    if importlib.util.find_spec("pyspark") is None:
        return "PySpark is not installed (pip install -e '.[spark]')"
    java_home = os.environ.get("JAVA_HOME")
    if not (Path(java_home, "bin", "java").is_file() if java_home else shutil.which("java")):
        return "no Java (apt-get install openjdk-17-jre-headless)"
    return None


def _boundaries() -> list[datetime]:
    """The first second of each of :data:`EDGES` and the last second before it, in both zones."""
    from zoneinfo import ZoneInfo

    found = []
    for zone in ZONES:
        for week in EDGES:
            start = week.bounds(ZoneInfo(zone))[0]
            found += [start, start - timedelta(seconds=1)]
    return found


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: row.get(c, "") for c in columns} for row in rows)
    return buffer.getvalue()


def _boundary_files(folder: Path) -> list[Path]:
    """Shadowserver reports (the real layouts) whose events fall exactly on the week boundaries: an
    infected host, a defaced site and a backdoored one at each instant, each its own."""
    sinkhole, compromised = [], []
    for i, moment in enumerate(_boundaries()):
        stamp = moment.strftime("%Y-%m-%d %H:%M:%S")
        sinkhole.append(
            {
                "timestamp": stamp,
                "src_ip": f"1.80.{i}.7",
                "src_geo": "CN",
                "src_sector": f"Sector {i % 3}",
                "infection": f"edge{i % 4}",
                "family": f"edge{i % 4}",
                "dst_ip": "198.51.100.1",
            }
        )
        for tag, category in (("defacement", "defacement"), ("webshell", "backdoor")):
            host = f"www.edge{i}-{tag}.gov.cn"
            compromised.append(
                {
                    "timestamp": stamp,
                    "ip": f"1.80.{i}.9",
                    "geo": "CN",
                    "http_host": host,
                    "tag": tag,
                    "category": category,
                }
            )
    folder.mkdir(parents=True, exist_ok=True)
    first = folder / "2025-03-10-event4_sinkhole-edges-cn.csv"
    second = folder / "2025-03-10-compromised_website-edges-cn.csv"
    first.write_text(_csv(sinkhole, _COLUMNS["event4_sinkhole"]), encoding="utf-8")
    second.write_text(_csv(compromised, _COLUMNS["compromised_website"]), encoding="utf-8")
    return [first, second]


def _workspace(root: Path, zone: str = ZONES[0]) -> Workspace:
    """A new workspace in ``zone`` whose Spark settings are the module's session's."""
    return _with_spark_settings(init_workspace(root).root, zone)


def _with_spark_settings(home: Path, zone: str = ZONES[0]) -> Workspace:
    """The workspace at ``home``, in ``zone``, with the module's session's Spark settings."""
    config = home / CONFIG_NAME
    text = config.read_text(encoding="utf-8").replace('timezone = "Asia/Shanghai"', f'timezone = "{zone}"', 1)
    text = text.replace('[query.spark]\nmaster = "local[2]"\n\n[query.spark.options]\n', "", 1) + SPARK_SETTINGS
    config.write_text(text, encoding="utf-8")
    return load_workspace(home)


def _lake(root: Path, zone: str) -> Workspace:
    """A workspace in ``zone`` with three weeks of the demo's feed files (small) and the boundary files,
    ingested the real way."""
    workspace = _workspace(root, zone)
    home = workspace.root
    files = []
    for week, volume in volumes(WEEKS, seed=3, scale=0.02).items():
        files += write_week(home / "feeds" / str(week), week, volume, seed=3)
    files += _boundary_files(home / "feeds" / "edges")
    results = ingest_paths(workspace, files)
    assert all(r.error is None for r in results), [(r.file, r.error) for r in results]
    return workspace


@pytest.fixture(scope="module")
def lakes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Workspace]:
    root = tmp_path_factory.mktemp("engines")
    return {zone: _lake(root / zone.replace("/", "-"), zone) for zone in ZONES}


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[float]:
    """The module's Spark session (local mode); yields how long it took to start."""
    reason = _missing()
    if reason:
        if os.environ.get("SITREP_REQUIRE_SPARK") == "1":
            pytest.fail(f"SITREP_REQUIRE_SPARK=1 but Spark cannot run: {reason}")
        pytest.skip(f"Spark engine not tested: {reason}")
    from sitrep.metrics import spark as engine

    started = time.monotonic()
    engine.backend(with_engine(_workspace(tmp_path_factory.mktemp("session")), "spark"))
    yield time.monotonic() - started
    engine.stop()


def _results(workspace: Workspace, week: Week) -> dict[str, Any]:
    """Everything the engine computes for ``week``: the report's facts (indicators, breakdowns, series,
    the IDs behind each number, sectors, the vulnerability list), the check and the proposals."""
    facts = gather(workspace, week, now=NOW).as_dict()
    facts.pop("computed_at")
    proposals = propose_incidents(Desk.open(workspace), str(week), actor="test", dry_run=True).proposals
    return {
        "facts": facts,
        "check": check_week(workspace, week, now=NOW).as_dict(),
        "proposals": [p.as_dict() | {"event_ids": p.event_ids} for p in proposals],
    }


@pytest.mark.parametrize("zone", ZONES)
def test_duckdb_and_spark_give_identical_results(
    lakes: dict[str, Workspace], spark: float, zone: str, capsys: pytest.CaptureFixture[str]
) -> None:
    duckdb_ws, spark_ws = with_engine(lakes[zone], "duckdb"), with_engine(lakes[zone], "spark")
    expected = _results(duckdb_ws, COMPARED)
    started = time.monotonic()
    found = _results(spark_ws, COMPARED)
    with capsys.disabled():
        print(f"\n{zone} {COMPARED}: Spark session start {spark:.1f} s, results {time.monotonic() - started:.1f} s")
    for part in expected:
        assert found[part] == expected[part], f"{zone} {COMPARED}: {part} differs between DuckDB and Spark"


@pytest.mark.parametrize("zone", ZONES)
def test_the_fixture_reaches_every_number_and_every_boundary(lakes: dict[str, Workspace], zone: str) -> None:
    """What the equality test compares is not empty, and the boundary events fall on the right side:
    an event at the first second of a week counts in it, one a second earlier in the week before."""
    from zoneinfo import ZoneInfo

    workspace = lakes[zone]
    week = COMPARED
    facts = gather(workspace, week, now=NOW)
    assert all(item.value > 0 for item in facts.metrics.indicators.values()), facts.metrics.indicators
    b = facts.metrics.breakdowns
    assert b.malware_families and b.regions and facts.sectors and facts.vulnerability_list
    assert b.malware_hosting.domains and b.phishing.pages and b.vulnerabilities.total
    assert any(p["action"] == "create" for p in _results(workspace, week)["proposals"])
    start = week.bounds(ZoneInfo(zone))[0]
    first, before = start.strftime("%Y-%m-%d %H:%M:%S"), (start - timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")
    edges = {i: moment for i, moment in enumerate(_boundaries())}
    at = {moment.strftime("%Y-%m-%d %H:%M:%S"): f"www.edge{i}-defacement.gov.cn" for i, moment in edges.items()}
    this_week = set(_sites(workspace, week))
    last_week = set(_sites(workspace, week - 1))
    assert at[first] in this_week and at[first] not in last_week
    assert at[before] in last_week and at[before] not in this_week


def _sites(workspace: Workspace, week: Week) -> list[str]:
    """The defaced sites behind the week's number (from the events behind it)."""
    ids = evidence(workspace, week)["defaced_sites"]
    rows = lake_rows(workspace, "site LIKE 'www.edge%'")
    return [r["site"] for r in rows if r["event_id"] in set(ids)]


def _sitrep(
    home: Path, *args: str, prelude: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    code = f"{prelude}\nimport sys\nfrom sitrep.cli import main\nsys.argv = ['sitrep', *{list(args)!r}]\nmain()"
    environment = {**os.environ, **(env or {}), "SITREP_HOME": str(home)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=120)


def test_spark_without_pyspark_is_one_line_saying_what_to_install(workspace: Workspace) -> None:
    # A Python without PySpark: its import fails as it would where the extra is not installed.
    done = _sitrep(workspace.root, "metrics", "--engine", "spark", prelude="import sys; sys.modules['pyspark'] = None")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "needs PySpark" in done.stderr and "cert-sitrep[spark]" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_spark_without_java_is_one_line_saying_what_to_install(workspace: Workspace) -> None:
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("PySpark is not installed: the PySpark message comes first")
    done = _sitrep(workspace.root, "check", "--engine", "spark", env={"JAVA_HOME": str(workspace.root / "no-java")})
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "needs Java" in done.stderr and "openjdk-17-jre-headless" in done.stderr
    assert str(workspace.root / "no-java") in done.stderr


def test_an_unknown_engine_is_named(workspace: Workspace) -> None:
    done = _sitrep(workspace.root, "metrics", "--engine", "postgres")
    assert done.returncode == 2
    assert "'postgres'" in done.stderr and "duckdb, spark" in done.stderr


# Ingest on Spark (sitrep.lake.spark_ingest): the same lake as one file after another here.

SINKHOLE = SAMPLES / "2025-01-01-event4_sinkhole-cncert-cn.csv"


def _feed_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """Feed files already in the lake, and a batch after them: several formats (CSV, gzip, JSON
    document, JSON lines, XML, plain lines, a zip), with duplicates inside files (the samples'),
    against the lake (a gzip copy; a report repeating the lake's rows among new ones), across the
    batch (a copy of a time-less feed, a zip member repeating a file before it), bad rows (the
    samples'), and files that cannot be ingested (unknown format, missing)."""
    folder.mkdir()
    before = folder / SINKHOLE.name
    shutil.copy2(SINKHOLE, before)
    sinkhole = SINKHOLE.read_text(encoding="utf-8")
    more = folder / "2025-01-01-event4_sinkhole-more-cn.csv"
    new_rows = [line.replace('"2025-01-01 ', '"2025-01-02 ') for line in sinkhole.splitlines()[1:4]]
    more.write_text(sinkhole + "\n".join(new_rows) + "\n", encoding="utf-8")
    gzipped = folder / f"{SINKHOLE.name}.gz"
    gzipped.write_bytes(gzip.compress(SINKHOLE.read_bytes(), mtime=0))
    copies = [folder / name for name in ("phishtank-online-valid.json", "intelmq-output.jsonl", "cnvd-2025-01-06.xml")]
    for target in copies:
        shutil.copy2(SAMPLES / target.name, target)
    openphish = folder / "openphish-feed.txt"
    shutil.copy2(SAMPLES / openphish.name, openphish)
    openphish_again = folder / "openphish-feed-mirror.txt"
    shutil.copy2(openphish, openphish_again)
    archive = folder / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for name in ("stix-bundle-2025-01-06.json", "intelmq-output.jsonl"):
            bundle.write(SAMPLES / name, name)
    unknown = folder / "notes.txt"
    unknown.write_text("not a feed\n", encoding="utf-8")
    batch = [gzipped, more, *copies, openphish, openphish_again, archive, unknown, folder / "missing.csv"]
    return [before], batch


def _lake_state(workspace: Workspace) -> dict[str, list[tuple[Any, ...]]]:
    """Every event and every rejected row of the lake, local or on S3 (the ingest ids aside: each run
    has its own)."""
    from sitrep.lake.store import Lake, connect, events_source, rejects_source

    lake = Lake.of(workspace)
    con = connect(workspace)
    try:
        events = f"SELECT * EXCLUDE (ingest_id) FROM {events_source(lake)} ORDER BY source_file, source_line, event_id"
        rejects = f"SELECT * EXCLUDE (ingest_id) FROM {rejects_source(lake)} ORDER BY file, line"
        return {"events": con.execute(events).fetchall(), "rejects": con.execute(rejects).fetchall()}
    finally:
        con.close()


def _counts(results: list[IngestResult]) -> list[tuple[Any, ...]]:
    return [(r.file, r.format, r.read, r.accepted, r.duplicates, r.rejected, r.error) for r in results]


def test_files_ingested_on_spark_give_the_lake_of_one_file_after_another(
    tmp_path: Path, spark: float, capsys: pytest.CaptureFixture[str]
) -> None:
    from sitrep.lake import engines

    before, batch = _feed_files(tmp_path / "feeds")
    here, there = _workspace(tmp_path / "here"), with_engine(_workspace(tmp_path / "there"), "spark")
    for workspace in (here, there):
        assert all(r.error is None for r in ingest_paths(workspace, before))
    expected = ingest_paths(here, batch)
    started = time.monotonic()
    found = engines.ingest_paths(there, batch)
    with capsys.disabled():
        print(f"\ningest of {len(batch)} files on Spark: {time.monotonic() - started:.1f} s")
    assert _counts(found) == _counts(expected)
    assert _lake_state(there) == _lake_state(here)
    # What is compared covers each case: duplicates of the lake, some of them among new rows (the Spark
    # commit then rewrites the file), across the batch, in a zip; rejects; files that are errors.
    by_name = {r.file.removeprefix(f"{batch[0].parent}/"): r for r in found}
    assert by_name[f"{SINKHOLE.name}.gz"].accepted == 0 and by_name[f"{SINKHOLE.name}.gz"].duplicates > 0
    more = by_name["2025-01-01-event4_sinkhole-more-cn.csv"]
    assert more.accepted > 0 and more.duplicates > 0 and more.rejected > 0
    assert by_name["openphish-feed-mirror.txt"].accepted == 0 and by_name["openphish-feed.txt"].accepted > 0
    assert (
        by_name["bundle.zip!intelmq-output.jsonl"].accepted == 0
        and by_name["bundle.zip!stix-bundle-2025-01-06.json"].accepted > 0
    )
    assert by_name["notes.txt"].error and by_name["missing.csv"].error == "no such file"
    assert all(r.read == r.accepted + r.duplicates + r.rejected for r in found)
    assert len(_lake_state(there)["events"]) > 40 and _lake_state(there)["rejects"]
    assert not (there.lake_dir / ".tmp").exists()  # every task's work is gone


def _main(monkeypatch: pytest.MonkeyPatch, home: Path, *args: str) -> int:
    """Run ``sitrep`` in this process, so on the module's Spark session; its exit code."""
    from sitrep.cli import main
    from sitrep.cli.common import state

    monkeypatch.setattr(sys, "argv", ["sitrep", "--home", str(home), *args])
    try:
        main()
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        state.home = None
    return 0


def test_sitrep_ingest_on_spark_and_a_task_that_fails_in_one_line(
    tmp_path: Path, spark: float, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    import venv

    from sitrep.metrics.spark import session

    workspace = _workspace(tmp_path / "ws")
    first, second = tmp_path / SINKHOLE.name, tmp_path / "openphish-feed.txt"
    shutil.copy2(SINKHOLE, first)
    shutil.copy2(SAMPLES / second.name, second)
    assert _main(monkeypatch, workspace.root, "ingest", "--engine", "spark", "--json", str(first)) == 0
    [printed] = json.loads(capsys.readouterr().out)
    assert printed["file"] == str(first) and printed["error"] is None and printed["accepted"] > 0
    assert printed["read"] == printed["accepted"] + printed["duplicates"] + printed["rejected"]
    events = lake_rows(workspace)
    # Executors whose Python lacks Sitrep's packages (a real interpreter: a bare virtual environment).
    bare = tmp_path / "bare"
    venv.create(bare, with_pip=False)
    monkeypatch.setattr(
        session(with_engine(workspace, "spark")).sparkContext, "pythonExec", str(bare / "bin" / "python")
    )
    assert _main(monkeypatch, workspace.root, "ingest", "--engine", "spark", str(second)) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "py4j" not in err.lower()
    [line] = [line for line in err.splitlines() if line.startswith("error:")]
    assert line.startswith(f"error: {second}: a Spark task failed: ModuleNotFoundError: No module named")
    assert line.endswith(f"(in the executors' Python, {bare / 'bin' / 'python'}: PYSPARK_PYTHON)")
    assert lake_rows(workspace) == events  # nothing of the failed file reached the lake


def test_a_query_that_fails_on_spark_is_one_line(
    tmp_path: Path, spark: float, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sitrep.lake.store import Lake

    workspace = _workspace(tmp_path / "ws")
    lake = Lake.of(workspace)
    lake.create()
    # Parquet, named like an events file of the week, but its time_source is text: Spark fails reading it.
    bad = pa.table({"event_id": ["a"], "time_source": ["2025-01-07 10:00:00"]})
    pq.write_table(bad, lake.events_dir / "bad__20250107100000__20250107100000.parquet")
    assert _main(monkeypatch, workspace.root, "metrics", "--engine", "spark", "--week", "2025-W02") == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "\tat " not in err
    [line] = err.strip().splitlines()
    assert line.startswith("error: Spark failed: ") and "bad__" in line and "time_source" in line


def test_files_ingested_on_spark_into_a_lake_on_s3_give_the_events_of_a_local_lake(
    tmp_path: Path, spark: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tasks stage in the workspace's local work folder; the driver uploads each file whole."""
    from s3server import SECRET_ENV, s3_server, s3_workspace
    from sitrep.lake import engines

    monkeypatch.setenv(SECRET_ENV, "test")
    before, batch = _feed_files(tmp_path / "feeds")
    files = [*before, *batch[:3]]
    here = _workspace(tmp_path / "here")
    expected = ingest_paths(here, files)
    with s3_server() as endpoint:
        remote = s3_workspace(tmp_path / "remote", endpoint, "spark-lake")
        there = with_engine(_with_spark_settings(remote.root), "spark")
        found = engines.ingest_paths(there, files)
        assert _counts(found) == _counts(expected) and any(r.duplicates for r in found)
        assert _lake_state(there) == _lake_state(here)
