"""The typed results between layers are type-checked: a renamed field fails here, not when a report renders."""

from __future__ import annotations

from pathlib import Path

from mypy import api

import sitrep

PACKAGE = Path(sitrep.__file__).parent

# The modules that produce or consume the typed results (metrics, report facts, incident numbers).
TYPED = [
    "results.py",
    "collect",
    "metrics",
    "incidents/stats.py",
    "report/facts_model.py",
    "report/facts.py",
    "report/rating.py",
    "report/compose.py",
    "report/archive.py",
    "report/narrative.py",
    "report/publish.py",
    "report/distribution",
    "report/site.py",
    "report/site_check.py",
    "cli/metrics.py",
]

PROBE = """
from sitrep.metrics.model import WeekMetrics


def pages(metrics: WeekMetrics) -> int:
    return metrics.breakdowns.phishing.urls
"""


def test_the_layers_agree_on_the_types_they_pass(tmp_path: Path) -> None:
    # The probe reads a field that does not exist, as code would after a rename: it must be the only error.
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    config = PACKAGE.parents[1] / "pyproject.toml"
    stdout, stderr, _ = api.run(
        [
            "--config-file",
            str(config),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-error-summary",
            *(str(PACKAGE / m) for m in TYPED),
            str(probe),
        ]
    )
    errors = [line for line in stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and errors[0].startswith(str(probe)), stdout + stderr
    assert '"PhishingHosts" has no attribute "urls"' in errors[0]
