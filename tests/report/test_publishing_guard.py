"""Publishing that cannot go wrong quietly: the week's check, a week that has not ended or not started,
--force --reason, the diff of a re-publication, withdrawal, and stray files of the archive."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from sitrep.cli import app
from sitrep.report.archive import archive, load_issue
from sitrep.report.check import check_week
from sitrep.report.errors import PublishError, PublishRefused
from sitrep.report.publish import publish, unpublish
from sitrep.weeks import Week

from .data import WEEK, build_workspace, event, week_events, write_events

runner = CliRunner()
# A moment inside 2025-W01 (Friday noon, Beijing time): the week has begun but not ended.
DURING = datetime(2025, 1, 3, 4, 0, tzinfo=UTC)


def _sitrep(ws, *args: str, code: int = 0):
    result = runner.invoke(app, ["--home", str(ws.root), *args])
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def ws(tmp_path):
    return build_workspace(tmp_path / "ws")


def test_check_lists_feeds_against_previous_weeks_and_flags_what_moved(ws):
    # A feed seen last week only stops this week; another arrives only this week and the phishing pages
    # it brings make that indicator jump 5x (6 → 30).
    monday = datetime.combine((WEEK - 1).monday, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    gone = [event(time_source=monday, feed_name="gone-feed", source_ip=f"192.0.2.{i}") for i in range(10)]
    write_events(ws, gone, "gone")
    extra = [r for r in week_events(WEEK, planted=False, extra_phishing=24) if r["classification_type"] == "phishing"]
    for row in extra[6:]:
        row["feed_name"] = "new-feed"
    write_events(ws, extra[6:], "burst")

    result = check_week(ws, WEEK)
    assert result.state == "ended" and not result.errors
    assert result.previous_weeks == [str(WEEK - i) for i in range(8, 0, -1)]
    feeds = {f.feed: f for f in result.feeds}
    assert feeds["test-feed"].rows == 42 and feeds["test-feed"].previous == [42] * 8
    assert feeds["gone-feed"].rows == 0 and feeds["gone-feed"].previous == [0] * 7 + [10]
    assert feeds["new-feed"].rows == 24 and feeds["new-feed"].median == 0
    codes = {(f.code, f.subject) for f in result.warnings}
    assert ("feed_missing", "gone-feed") in codes
    assert ("indicator_moved", "phishing_pages") in codes
    assert ("indicator_moved", "infected_hosts") not in codes

    text = _sitrep(ws, "check", "--week", str(WEEK)).output
    assert "compared with the previous 8 weeks (2024-W45 … 2024-W52)" in text
    assert "gone-feed" in text and "no rows this week, though seen in 1 of the previous 8 weeks" in text
    assert "indicator phishing_pages moved 5.0× up against last week (6 → 30)" in text
    data = json.loads(_sitrep(ws, "check", "--week", str(WEEK), "--json").stdout)
    assert data["status"] == "warnings" and data["events"] == result.events
    _sitrep(ws, "check", "--week", str(WEEK), "--strict", code=1)


def test_check_flags_an_indicator_that_fell_to_zero_and_a_week_without_data(ws):
    result = check_week(ws, WEEK + 1)  # no event and no incident in 2025-W02
    assert [f.code for f in result.errors] == ["no_data"]
    zero = {f.subject for f in result.warnings if f.code == "indicator_zero"}
    assert zero == {"infected_hosts", "defaced_sites", "phishing_pages", "new_vulnerabilities"} | {
        "defaced_gov_sites",
        "backdoored_sites",
        "backdoored_gov_sites",
        "new_high_vulnerabilities",
    }
    assert "feed_missing" in {f.code for f in result.warnings}
    text = _sitrep(ws, "check", "--week", str(WEEK + 1), code=1).output
    assert "error: no event in the lake and no incident handled in 2025-W02" in text


def test_publish_refuses_a_week_that_has_not_ended_and_force_records_why(ws):
    with pytest.raises(PublishRefused) as refused:
        publish(ws, WEEK, now=DURING)
    assert refused.value.forceable and "2025-W01 has not ended" in refused.value.reasons[0]
    assert load_issue(ws, WEEK) is None

    done = publish(ws, WEEK, now=DURING, force_reason="the ministry asked for Friday's numbers")
    assert done.status == "published" and done.forced == "the ministry asked for Friday's numbers"
    [entry] = load_issue(ws, WEEK).history
    assert entry["forced"]["reason"] == "the ministry asked for Friday's numbers"
    assert "has not ended" in entry["forced"]["overridden"][0]

    with pytest.raises(PublishRefused) as future:
        publish(ws, WEEK + 1, now=DURING, force_reason="no")
    assert not future.value.forceable and "has not started" in future.value.reasons[0]
    for reason in ("", "   ", "two\nlines", "x" * 501):
        with pytest.raises(PublishError):
            publish(ws, WEEK - 1, now=DURING, force_reason=reason)


def test_publish_through_the_cli_stops_on_errors_and_force_needs_a_reason(ws):
    current = Week.last_complete(ws.timezone) + 1  # this week: not ended, and nothing in it
    result = _sitrep(ws, "publish", "--week", str(current), code=1)
    assert f"not published: {current} has not ended" in result.output
    assert "not published: no event in the lake and no incident handled" in result.output
    assert f'sitrep publish --week {current} --force --reason "why"' in result.output
    refused = json.loads(_sitrep(ws, "publish", "--week", str(current), "--json", code=1).stdout)
    assert refused["status"] == "refused" and len(refused["reasons"]) == 2 and refused["forceable"]
    assert (
        "--force and --reason go together" in _sitrep(ws, "publish", "--week", str(current), "--force", code=2).output
    )
    _sitrep(ws, "publish", "--week", str(current), "--reason", "x", code=2)
    assert "not started" in _sitrep(ws, "publish", "--week", str(current + 1), code=1).output
    assert load_issue(ws, current) is None

    result = _sitrep(ws, "publish", "--week", str(current), "--force", "--reason", "drill: empty week")
    assert "forced: drill: empty week" in result.output
    issue = load_issue(ws, current)
    assert issue.history[0]["forced"]["reason"] == "drill: empty week"
    assert len(issue.history[0]["forced"]["overridden"]) == 2


def test_republishing_prints_the_diff_against_the_published_numbers(ws):
    _sitrep(ws, "publish", "--week", str(WEEK))
    assert "re-computed: no number changed" in _sitrep(ws, "publish", "--week", str(WEEK), "--refresh").output
    extra = [r for r in week_events(WEEK, planted=False, extra_phishing=2) if r["classification_type"] == "phishing"]
    write_events(ws, extra[-2:], "later")
    result = _sitrep(ws, "publish", "--week", str(WEEK), "--refresh")
    assert "2025-W01: refreshed (revision 2)" in result.output
    assert "metrics.indicators.phishing_pages.value: 6 → 8" in result.output
    assert "evidence.phishing_pages: +2 −0 IDs" in result.output


def test_unpublish_withdraws_keeps_the_history_and_the_site_says_so(ws, tmp_path):
    _sitrep(ws, "publish", "--week", str(WEEK - 1))
    _sitrep(ws, "publish", "--week", str(WEEK))
    result = _sitrep(ws, "unpublish", "--week", str(WEEK), "--reason", "wrong feed <b>mapping</b>")
    assert "2025-W01: withdrawn (revision 1)" in result.output
    issue = load_issue(ws, WEEK)
    assert issue.withdrawn.reason == "wrong feed <b>mapping</b>"
    assert [h["action"] for h in issue.history] == ["published", "withdrawn"]
    assert [i.week for i in archive(ws).current] == [WEEK - 1]
    assert "already withdrawn" in _sitrep(ws, "unpublish", "--week", str(WEEK), "--reason", "x", code=2).output
    assert "is not published" in _sitrep(ws, "unpublish", "--week", "2020-W01", "--reason", "x", code=2).output
    assert "reason is empty" in _sitrep(ws, "unpublish", "--week", str(WEEK - 1), "--reason", " ", code=2).output
    _sitrep(ws, "unpublish", "--week", str(WEEK - 1), code=2)  # --reason is required

    site = tmp_path / "site"
    _sitrep(ws, "site", "-o", str(site))
    index = (site / "index.html").read_text(encoding="utf-8")
    assert '<li class="withdrawn">' in index and "已撤回" in index
    assert "wrong feed &lt;b&gt;mapping&lt;/b&gt;" in index and "<b>mapping" not in index
    page = (site / str(WEEK) / "report.en.html").read_text(encoding="utf-8")
    assert "This issue was withdrawn on" in page and "Reason: wrong feed &lt;b&gt;" in page
    notice = json.loads((site / str(WEEK) / "report.zh.json").read_text(encoding="utf-8"))
    assert notice["schema"] == "sitrep.withdrawn/1" and notice["reason"] == "wrong feed <b>mapping</b>"
    assert "indicators" not in notice
    feed = (site / "feed.xml").read_text(encoding="utf-8")
    assert "（已撤回）" in feed
    kept = json.loads((site / str(WEEK - 1) / "report.zh.json").read_text(encoding="utf-8"))
    assert kept["schema"] == "sitrep.report/2" and kept["indicators"]["infected_hosts"]["value"] == 12

    result = _sitrep(ws, "report", "--week", str(WEEK), "--format", "json", "-o", str(tmp_path / "draft"))
    assert "was withdrawn on" in result.output and "written as a draft" in result.output
    assert json.loads((tmp_path / "draft" / "report.zh.json").read_text(encoding="utf-8"))["revision"] == 0

    again = json.loads(_sitrep(ws, "publish", "--week", str(WEEK), "--json").stdout)
    assert again["status"] == "republished" and again["revision"] == 2
    assert [h["action"] for h in load_issue(ws, WEEK).history] == ["published", "withdrawn", "republished"]
    assert load_issue(ws, WEEK).withdrawn is None


def test_stray_files_in_the_published_folder_are_named_and_skipped(ws, tmp_path):
    _sitrep(ws, "publish", "--week", str(WEEK))
    folder = ws.reports_dir / "published"
    (folder / "notes.txt").write_text("who put this here", encoding="utf-8")
    (folder / "2025-W99.json").write_text("{}", encoding="utf-8")
    (folder / "2024-W50.json").write_text("{not json", encoding="utf-8")
    (folder / "2024-W51.json").write_text('{"schema": "sitrep.issue/1", "week": "2024-W49"}', encoding="utf-8")
    (folder / "2024-W48.json").mkdir()
    os.symlink(folder / f"{WEEK}.json", folder / "2024-W47.json")
    (folder / ".2025-W01.json.abc.tmp").write_text("half", encoding="utf-8")  # an interrupted write

    found = archive(ws)
    assert [i.week for i in found.issues] == [WEEK]
    assert sorted(s.path.name for s in found.strays) == [
        "2024-W47.json",
        "2024-W48.json",
        "2024-W50.json",
        "2024-W51.json",
        "2025-W99.json",
        "notes.txt",
    ]
    result = _sitrep(ws, "site", "-o", str(tmp_path / "site"))
    assert "skipped:" in result.output and "2024-W50.json: not valid JSON (line 1" in result.output
    assert "2024-W47.json: a symbolic link" in result.output
    assert "holds the issue of '2024-W49', not of 2024-W51" in result.output
    assert "stray_issue_file" in _sitrep(ws, "check", "--week", str(WEEK), "--json").stdout

    # Commands about a week whose file is damaged say so, never overwrite it silently.
    for args in (("publish", "--week", "2024-W50"), ("report", "--week", "2024-W50", "--format", "json")):
        assert "2024-W50.json: not valid JSON" in _sitrep(ws, *args, code=2).output
    assert "a symbolic link" in _sitrep(ws, "unpublish", "--week", "2024-W47", "--reason", "x", code=2).output
    assert (folder / "2024-W50.json").read_text(encoding="utf-8") == "{not json"


def test_a_file_where_a_folder_belongs_is_a_clear_error(ws, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    result = _sitrep(ws, "report", "--week", str(WEEK), "--format", "json", "-o", str(blocker / "out"), code=2)
    assert f"{blocker} is not a folder" in result.output
    assert "is not a folder" in _sitrep(ws, "site", "-o", str(blocker), code=2).output
    published = ws.reports_dir / "published"
    published.rmdir() if published.is_dir() else None
    published.write_text("x", encoding="utf-8")
    result = _sitrep(ws, "publish", "--week", str(WEEK), code=2)
    assert "cannot store the issue of 2025-W01" in result.output and "is not a folder" in result.output


def test_the_checked_week_must_have_ended_now(ws):
    later = DURING + timedelta(days=3)
    assert check_week(ws, WEEK, now=DURING).state == "open"
    assert check_week(ws, WEEK, now=later).state == "ended"
    assert check_week(ws, WEEK + 1, now=DURING).state == "future"
    assert publish(ws, WEEK, now=later).status == "published"
    with pytest.raises(PublishError, match="not published"):
        unpublish(ws, WEEK + 5, reason="x")


def test_the_diff_names_list_items_by_their_key_not_their_position():
    from sitrep.report.publish import diff

    old = {"by_object_type": [{"type": "应用程序", "count": 3}, {"type": "数据库", "count": 5}]}
    new = {"by_object_type": [{"type": "数据库", "count": 5}, {"type": "应用程序", "count": 6}]}
    assert diff(old, new) == [{"path": "by_object_type[应用程序].count", "old": 3, "new": 6}]
    assert diff({"n": [1, 2]}, {"n": [1, 3]}) == [{"path": "n[1]", "old": 2, "new": 3}]
