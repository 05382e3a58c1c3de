"""Benchmark: the web desk under load, N concurrent users on loopback.

    .venv/bin/python bench/web.py [--users 50] [--duration 60] [--think 1.0] [--incidents 100000]
                                  [--events 20000000] [--workers 1] [--lake DIR] [--keep]

Builds a workspace (or reuses one kept by ``--keep``, with ``--lake``): the lake of ``bench/metrics.py``
(N events over 10 weeks, 2024-W45 to 2025-W02) and an incident store of ``--incidents`` incidents
loaded in bulk in one transaction (:func:`load_incidents`).  Starts the real server (``sitrep serve``,
a separate process), logs every virtual user in through ``/login`` (its own session; 10 analyst
accounts, each with an API token) and drives from an async HTTPX client, each user in a loop of one
request and a think time (uniform between 0 and twice ``--think`` seconds; ``--think 0`` saturates):

  dashboard   ``/?week=…`` (2025-W01, the lake's busiest published-or-draft week)     20%
  incidents   ``/incidents?status=…`` (or ``open=1``, ``category=…``, ``owner=…``), and the
              next pages by the page's own ``after`` link (a user pages on 2 times in 3)  35%
  events      ``/events?week=…`` (alone, with ``class=…``, ``ip=…/8`` or ``feed=…``)   20%
  api         ``/api/v1/incidents?limit=50&status=…`` with ``Authorization: Bearer``,
              following its ``next`` cursor like the list                             25%

Every route is requested once before the clock starts, and these first times are printed (the
server's first dashboard computes the report of the week: the cold time after an ingest).  Prints,
per route, requests, p50, p95, p99, errors and throughput, the load average before and after, and
the server's CPU time.  A response other than 200 counts as an error.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

from metrics import FIRST, build_lake  # bench/metrics.py: the same lake
from sitrep.accounts import service as accounts
from sitrep.config import load_workspace
from sitrep.incidents.db import close_stores, open_store
from sitrep.incidents.models import Asset, AuditEntry, CoordinationRequest, Incident, Note, Partner, RefCounter
from sitrep.incidents.vocabulary import Grade, Outcome, ReportedVia, Status
from sitrep.taxonomy import TLP, IncidentCategory, PartnerType

WEEK = "2025-W01"
LAKE_WEEKS = [f"2024-W{n}" for n in range(45, 53)] + ["2025-W01", "2025-W02"]
ANALYSTS = [f"analyst{n:02d}" for n in range(1, 11)]
PASSWORD = "bench password, long enough"
PARTNERS = 40
SEED = 20250101
# Weighted choices: (value, weight).
CATEGORIES = [
    (IncidentCategory.PHISHING, 30),
    (IncidentCategory.MALWARE, 15),
    (IncidentCategory.MOBILE_MALWARE, 8),
    (IncidentCategory.DEFACEMENT, 12),
    (IncidentCategory.BACKDOOR, 8),
    (IncidentCategory.VULNERABILITY, 14),
    (IncidentCategory.DDOS, 4),
    (IncidentCategory.DATA_LEAK, 4),
    (IncidentCategory.INFRASTRUCTURE, 1),
    (IncidentCategory.OTHER, 4),
]
CLOSED = [(Status.RESOLVED, 85), (Status.REJECTED, 9), (Status.UNRESOLVED, 6)]
RECENT = [(Status.NEW, 12), (Status.TRIAGED, 10), (Status.COORDINATING, 28), *CLOSED[:1], (Status.REJECTED, 4)]
GRADES = [(Grade.GENERAL, 90), (Grade.LARGER, 8), (Grade.MAJOR, 1.8), (Grade.ESPECIALLY_MAJOR, 0.2)]
TLPS = [(TLP.CLEAR, 20), (TLP.GREEN, 30), (TLP.AMBER, 48), (TLP.RED, 2)]
VIAS = [
    (ReportedVia.MONITORING, 60),
    (ReportedVia.COMPLAINT, 20),
    (ReportedVia.PARTNER, 12),
    (ReportedVia.FOREIGN_CERT, 8),
]
ROUTES = [("dashboard", 20), ("incidents", 35), ("events", 20), ("api", 25)]


def pick(rng: random.Random, weighted: list) -> object:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def load_incidents(home: Path, count: int, *, now: datetime | None = None) -> None:
    """Write ``count`` incidents into the workspace's store in one transaction, with their assets,
    coordination requests, notes and audit trail, and :data:`PARTNERS` partners.

    Incidents are reported at a steady rate from the lake's first day to ``now`` (about two years, so
    ~1,000 a week); the refs are ``INC-<local day>-<n>``.  What is older than four weeks is closed
    (resolved 85%, rejected 9%, unresolved 6%); of the last four weeks' incidents 12% are new, 10%
    triaged, 28% coordinating, the rest closed.  Categories, grades, TLP and channels follow the
    weights above (phishing 30%, malware 15%…); 10 analysts own them (new ones are mostly
    unassigned).  Every incident has 1–3 assets (a URL, its domain, an IP); those that reached
    coordination have one request (one in five two) to partners of every type, sent an hour after
    triage with a due date 24–72 h later; closed ones were acknowledged (90%) and have an outcome,
    open ones are acknowledged in 60% of cases — so the recent unanswered ones are overdue.  One
    incident in five has a note.  The audit trail holds the creation and each status change.
    """
    rng = random.Random(SEED)
    ws = load_workspace(home)
    store = open_store(ws)
    tz = ws.timezone
    now = now or datetime.now(UTC)
    span = (now - FIRST).total_seconds()
    recent = now - timedelta(weeks=4)
    partner_types = list(PartnerType)
    partners = [
        {
            "id": n,
            "name": f"partner-{n:02d}",
            "type": partner_types[n % len(partner_types)].value,
            "country": "CN" if n % 5 else "US",
            "email": f"abuse@partner-{n:02d}.example.com",
            "language": "zh" if n % 5 else "en",
            "suffixes": [f"p{n}.example.com"],
            "asns": [64500 + n],
            "regions": [],
            "active": True,
            "created_at": FIRST,
        }
        for n in range(1, PARTNERS + 1)
    ]
    incidents, assets, requests, notes, audit = [], [], [], [], []
    per_day: dict[str, int] = defaultdict(int)
    for n in range(1, count + 1):
        reported = FIRST + timedelta(seconds=span * (n - 0.5) / count)
        day = reported.astimezone(tz).strftime("%Y%m%d")
        per_day[day] += 1
        ref = f"INC-{day}-{per_day[day]}"
        status = pick(rng, RECENT if reported > recent else CLOSED)
        category = pick(rng, CATEGORIES)
        site = f"s{rng.randrange(50000)}.example.com"
        triaged = reported + timedelta(hours=rng.uniform(0.5, 12))
        coordinating = triaged + timedelta(hours=1)
        closed_at = coordinating + timedelta(hours=rng.uniform(12, 240))
        reached = {
            Status.NEW: [],
            Status.TRIAGED: [Status.TRIAGED],
            Status.COORDINATING: [Status.TRIAGED, Status.COORDINATING],
            Status.RESOLVED: [Status.TRIAGED, Status.COORDINATING, Status.RESOLVED],
            Status.UNRESOLVED: [Status.TRIAGED, Status.COORDINATING, Status.UNRESOLVED],
            Status.REJECTED: [Status.REJECTED] if rng.random() < 0.5 else [Status.TRIAGED, Status.REJECTED],
        }[status]
        stamps = {Status.TRIAGED: triaged, Status.COORDINATING: coordinating}
        for closing in (Status.RESOLVED, Status.REJECTED, Status.UNRESOLVED):
            stamps[closing] = closed_at if closing is not Status.REJECTED or Status.TRIAGED in reached else triaged
        owner = None if status is Status.NEW and rng.random() < 0.8 else ANALYSTS[rng.randrange(len(ANALYSTS))]
        last = max([reported, *(stamps[s] for s in reached)])
        incidents.append(
            {
                "id": n,
                "ref": ref,
                "title": f"{category.zh} {site}",
                "category": category.value,
                "reported_via": pick(rng, VIAS).value,
                "reporter": None,
                "reporter_country": "CN",
                "grade": pick(rng, GRADES).value,
                "tlp": pick(rng, TLPS).value,
                "status": status.value,
                "owner": owner,
                "cross_border": rng.random() < 0.1,
                "reported_at": reported,
                "created_at": reported,
                "updated_at": last,
                **{f"{s.value}_at": stamps[s] if s in reached else None for s in stamps},
            }
        )
        values = [("url", f"http://{site}/{n}"), ("domain", site), ("ip", f"1.{n % 223}.{n % 251}.{n % 241}")]
        for kind, value in values[: rng.choice((1, 2, 2, 3))]:
            assets.append({"incident_id": n, "kind": kind, "value": value, "country": "CN"})
        audit.append(_audit(n, "created", None, ref, reported))
        previous = Status.NEW
        for step in reached:
            audit.append(_audit(n, "status", previous.value, step.value, stamps[step], owner))
            previous = step
        if Status.COORDINATING in reached:
            first = rng.randrange(PARTNERS)
            chosen = [first + 1] + ([(first + 7) % PARTNERS + 1] if rng.random() < 0.2 else [])
            for partner in chosen:
                sent = coordinating + timedelta(hours=1)
                closed = status.closed
                acknowledged = (
                    sent + timedelta(hours=rng.uniform(1, 48)) if rng.random() < (0.9 if closed else 0.6) else None
                )
                outcome = pick(
                    rng,
                    [(Outcome.TAKEN_DOWN, 70), (Outcome.FIXED, 15), (Outcome.REFUSED, 5), (Outcome.NO_RESPONSE, 10)],
                )
                effective = closed and outcome in (Outcome.TAKEN_DOWN, Outcome.FIXED)
                requests.append(
                    {
                        "incident_id": n,
                        "partner_id": partner,
                        "created_at": coordinating,
                        "sent_at": sent,
                        "acknowledged_at": acknowledged,
                        "actioned_at": closed_at if effective else None,
                        "verified_at": None,
                        "outcome": outcome.value if closed else None,
                        "due_at": sent + timedelta(hours=rng.choice((24, 48, 72))),
                        "reminded_at": None,
                    }
                )
        if rng.random() < 0.2:
            notes.append(
                {"incident_id": n, "author": owner or "duty", "text": "已电话联系", "at": last, "entered_at": last}
            )
    with store.write() as session:
        session.execute(insert(Partner), partners)
        for table, rows in ((Incident, incidents), (Asset, assets), (CoordinationRequest, requests)):
            session.execute(insert(table), rows)
        session.execute(insert(Note), notes)
        session.execute(insert(AuditEntry), audit)
        session.execute(insert(RefCounter), [{"prefix": f"INC-{d}-", "last": c} for d, c in per_day.items()])
    print(
        f"incidents: {len(incidents):,} ({len(assets):,} assets, {len(requests):,} requests, {len(notes):,} notes, "
        f"{len(audit):,} audit entries, {PARTNERS} partners)"
    )


def _audit(incident: int, name: str, old: str | None, new: str, at: datetime, actor: str | None = None) -> dict:
    return {
        "incident_id": incident,
        "entity": "incident",
        "entity_id": None,
        "field": name,
        "old": old,
        "new": new,
        "actor": actor or "bench",
        "at": at,
        "entered_at": at,
    }


def build_workspace(root: Path, events: int, incidents: int) -> Path:
    """The lake of ``bench/metrics.py``, the incidents, and the analysts (each with an API token,
    written to ``bench-tokens.txt`` in the workspace)."""
    started = time.perf_counter()
    home = build_lake(root, events)
    print(f"built a lake of {events:,} events in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    load_incidents(home, incidents)
    print(f"loaded the incidents in {time.perf_counter() - started:.1f} s")
    store = open_store(load_workspace(home))
    tokens = []
    for name in ANALYSTS:
        accounts.add_user(store, name, "analyst", PASSWORD)
        tokens.append(f"{name} {accounts.issue_token(store, name).token}")
    (home / "bench-tokens.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
    close_stores()
    return home


# -- the server -----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(home: Path, port: int, workers: int, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "sitrep", "--home", str(home), "serve", "--port", str(port)]
    if workers != 1:
        command += ["--workers", str(workers)]
    server = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (exit {server.returncode}); see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"the server did not answer within 180 s; see {log}")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of ``pid`` and its children that ended (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def server_cpu(server: subprocess.Popen) -> float:
    """CPU seconds of the server and its worker processes so far."""
    pids = [server.pid]
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    return sum(cpu_seconds(p) for p in pids if Path(f"/proc/{p}/stat").exists())


# -- the virtual users ----------------------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NEXT_PAGE = re.compile(r'href="(/incidents\?[^"]*after=[^"]*)"')


@dataclass
class Results:
    """Latencies (seconds) and errors per route."""

    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: dict[str, str] = field(default_factory=dict)


@dataclass
class User:
    """One virtual user: a logged-in browser session and its analyst's API token."""

    browser: httpx.AsyncClient
    token: str
    rng: random.Random
    list_next: str | None = None
    api_next: str | None = None

    def request(self, route: str) -> tuple[str, dict[str, str]]:
        """The next URL of ``route`` for this user, and its extra headers."""
        rng = self.rng
        if route == "dashboard":
            return f"/?week={WEEK}", {}
        if route == "incidents":
            if self.list_next and rng.random() < 2 / 3:
                return self.list_next, {}
            status = rng.choice(["resolved", "coordinating", "triaged", "new", "rejected"])
            query = rng.choice(
                [
                    f"status={status}",
                    "open=1",
                    f"status=resolved&category={rng.choice(['phishing', 'malware', 'defacement'])}",
                    f"owner={rng.choice(ANALYSTS)}&open=1",
                ]
            )
            return f"/incidents?{query}", {}
        if route == "events":
            week = rng.choice(LAKE_WEEKS)
            extra = rng.choice(
                ["", "&class=malicious-code/infected-system", f"&ip={rng.randrange(1, 224)}.0.0.0/8", "&feed=bench"]
            )
            return f"/events?week={week}{extra}", {}
        bearer = {"Authorization": f"Bearer {self.token}"}
        if self.api_next and rng.random() < 2 / 3:
            return self.api_next, bearer
        status = rng.choice(["resolved", "coordinating", "triaged", "new"])
        return f"/api/v1/incidents?limit=50&status={status}", bearer

    def follow(self, route: str, response: httpx.Response) -> None:
        """Remember the next page of a list the user just read."""
        if route == "incidents":
            found = NEXT_PAGE.search(response.text)
            self.list_next = html.unescape(found.group(1)) if found else None
        elif route == "api":
            link = response.json().get("next")
            self.api_next = httpx.URL(link).raw_path.decode() if link else None


async def log_in(base: str, name: str, token: str, seed: int) -> User:
    browser = httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=900)
    form = await browser.get("/login")
    csrf = CSRF.search(form.text)
    if csrf is None:
        raise SystemExit("no CSRF token on /login")
    answer = await browser.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": csrf.group(1)})
    if answer.status_code != 303:
        raise SystemExit(f"login of {name} failed: {answer.status_code} {answer.text[:200]}")
    return User(browser, token, random.Random(seed))


async def one(user: User, route: str, results: Results | None) -> float:
    url, headers = user.request(route)
    started = time.perf_counter()
    try:
        response = await user.browser.get(url, headers=headers)
        ok = response.status_code == 200
        if ok:
            user.follow(route, response)
        problem = f"{response.status_code} {url}"
    except httpx.HTTPError as exc:
        ok, problem = False, f"{type(exc).__name__} {url}"
    elapsed = time.perf_counter() - started
    if results is None:
        if not ok:
            raise SystemExit(f"warm-up failed: {problem}")
        return elapsed
    results.seconds[route].append(elapsed)
    if not ok:
        results.errors[route] += 1
        results.examples.setdefault(route, problem)
    return elapsed


async def drive(user: User, results: Results, until: float, think: float) -> None:
    routes, weights = zip(*ROUTES, strict=True)
    # Users start spread over one think time, not all in the same millisecond.
    await asyncio.sleep(user.rng.uniform(0, 2 * think))
    while time.perf_counter() < until:
        await one(user, user.rng.choices(routes, weights)[0], results)
        if think:
            await asyncio.sleep(user.rng.uniform(0, 2 * think))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def row(label: str, times: list[float], errors: int, seconds: float) -> str:
    """One line of the table: requests, p50, p95, p99 (ms), errors and requests per second."""
    p50, p95, p99 = (percentile(times, share) * 1000 for share in (0.5, 0.95, 0.99))
    return f"{label:<10} {len(times):>8,} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {errors:>6} {len(times) / seconds:>7.1f}"


def report(results: Results, seconds: float) -> None:
    print(f"{'route':<10} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6} {'req/s':>7}")
    everything: list[float] = []
    for route, _ in ROUTES:
        times = results.seconds.get(route, [])
        everything += times
        print(row(route, times, results.errors.get(route, 0), seconds) if times else f"{route:<10} {0:>8}")
    if everything:
        print(row("all", everything, sum(results.errors.values()), seconds))
    for route, example in results.examples.items():
        print(f"  first error of {route}: {example}")


async def run_load(base: str, home: Path, args: argparse.Namespace, server: subprocess.Popen) -> None:
    pairs = [line.split() for line in (home / "bench-tokens.txt").read_text(encoding="utf-8").splitlines()]
    users = [
        await log_in(base, pairs[i % len(pairs)][0], pairs[i % len(pairs)][1], SEED + i) for i in range(args.users)
    ]
    first = {route: await one(users[0], route, None) for route, _ in ROUTES}
    print(f"{len(users)} users logged in; warm-up: " + ", ".join(f"{r} {s:.2f} s" for r, s in first.items()))
    results = Results()
    load_before, cpu_before = Path("/proc/loadavg").read_text().split()[:3], server_cpu(server)
    started = time.perf_counter()
    until = started + args.duration
    await asyncio.gather(*(drive(u, results, until, args.think) for u in users))
    seconds = time.perf_counter() - started
    cpu = server_cpu(server) - cpu_before
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    print(
        f"{args.users} users, think time {args.think:g} s (mean), {seconds:.1f} s, "
        f"server {args.workers} worker(s), server CPU {cpu:.1f} s ({cpu / seconds:.2f} cores)"
    )
    print(f"load average before {' '.join(load_before)}, after {' '.join(load_after)}")
    report(results, seconds)
    for user in users:
        await user.browser.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50, help="Concurrent virtual users (default 50).")
    parser.add_argument("--duration", type=float, default=60, help="Seconds of measured load (default 60).")
    parser.add_argument("--think", type=float, default=1.0, help="Mean think time between requests (default 1 s).")
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--workers", type=int, default=1, help="sitrep serve --workers (default 1).")
    parser.add_argument("--lake", type=Path, help="Reuse this workspace (built by an earlier --keep run).")
    parser.add_argument("--keep", action="store_true", help="Keep the generated workspace.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sitrep-bench-web-"))
    home = args.lake or build_workspace(work / "ws", args.events, args.incidents)
    port = free_port()
    log = work / "server.log"
    server = start_server(home, port, args.workers, log)
    try:
        asyncio.run(run_load(f"http://127.0.0.1:{port}", home, args, server))
    except SystemExit:
        print("the server's log ends with:", *log.read_text(encoding="utf-8").splitlines()[-40:], sep="\n")
        raise
    finally:
        server.terminate()
        server.wait(60)
    problems = [line for line in log.read_text(encoding="utf-8").splitlines() if not line.startswith("INFO:")]
    if problems:
        print("the server logged:", *problems[:60], sep="\n")
    if args.keep and not args.lake:
        print(f"kept {work} (reuse with --lake {home}; server log {log})")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
