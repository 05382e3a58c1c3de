"""Every sample file is recognised as its own format, from its content as well as its name.

A sample named ``<feed-name>.<ext>`` or ``<feed-name>-<anything>`` needs no entry in ``EXPECTED``;
Shadowserver samples keep Shadowserver's own file names and are listed here.
"""

import pytest

from helpers import SAMPLES
from sitrep.feeds import UnknownFormat, all_feeds, detect
from sitrep.lake.ingest import sample_of

# Shadowserver samples keep Shadowserver's file names; a renamed one is recognised by its header unless
# the header is shared with another report (then only the name decides: test_shadowserver.py).
SHARED_HEADER = {"2025-01-01-event4_sinkhole-cncert-cn.csv", "2025-01-06-event4_sinkhole_http-cncert-cn.csv"}
EXPECTED = {
    "2025-01-01-event4_sinkhole-cncert-cn.csv": "shadowserver-event4-sinkhole",
    "2025-01-06-event4_sinkhole_http-cncert-cn.csv": "shadowserver-event4-sinkhole-http",
    "2025-01-06-event6_sinkhole_http-cncert-cn.csv": "shadowserver-event6-sinkhole-http",
    "2025-01-06-compromised_website-cncert-cn.csv": "shadowserver-compromised-website",
    "2025-01-06-malware_url-cncert-cn.csv": "shadowserver-malware-url",
    "2025-01-07-scan_exchange-cncert-cn.csv": "shadowserver-scan-exchange",
    "2025-01-07-scan_http_vulnerable-cncert-cn.csv": "shadowserver-scan-http-vulnerable",
    "nvd-cves-api-2.0.json": "nvd-cve",
    "openphish-premium.jsonl": "openphish-json",
    "urlhaus-csv_recent.csv": "abusech-urlhaus",
}

SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.is_file())


def _expected(name: str) -> str:
    if name in EXPECTED:
        return EXPECTED[name]
    by_prefix = [f.name for f in all_feeds() if name.startswith((f"{f.name}.", f"{f.name}-"))]
    assert by_prefix, f"{name}: add it to EXPECTED or name it after its format"
    return max(by_prefix, key=len)


def test_every_listed_sample_exists():
    assert set(EXPECTED) <= {p.name for p in SAMPLE_FILES}


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_sample_detected_as_its_format(path):
    assert detect(sample_of(path)).name == _expected(path.name)


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_sample_detected_when_renamed(path):
    if path.name in SHARED_HEADER:
        with pytest.raises(UnknownFormat, match="several Shadowserver reports"):
            detect(sample_of(path, "renamed" + path.suffix))
        return
    assert detect(sample_of(path, "renamed" + path.suffix)).name == _expected(path.name)
