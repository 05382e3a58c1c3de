"""abuse.ch URLhaus CSV dump (``csv_recent`` / ``csv_online``): URLs that serve malware.

The dump opens with a ``#`` comment block whose last line is the column header
(``# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter``); every field is
quoted and ``dateadded`` is UTC.  Each row is a malware-hosting site: RSIT
``malicious-code/malware-distribution``.  The family is the first tag that is not a file type or CPU
architecture (``32-bit,elf,mips,Mozi`` → ``mozi``); all tags stay in ``extra`` so that Android
downloads (tag ``apk`` or a URL ending ``.apk``) can be told apart as mobile malware.
"""

from __future__ import annotations

import re

from sitrep.feeds.base import Csv, Feed, Sample
from sitrep.feeds.sql import bad_time, classified, col, extra, lit, missing, text, ts
from sitrep.taxonomy import MALWARE_DISTRIBUTION

COLUMNS = (
    "id",
    "dateadded",
    "url",
    "url_status",
    "last_online",
    "threat",
    "tags",
    "urlhaus_link",
    "reporter",
)

# Tags that describe the file or the platform, not the family; the first other tag names the family.
GENERIC_TAGS = (
    "32-bit", "64-bit", "elf", "exe", "dll", "apk", "jar", "msi", "zip", "rar", "7z", "iso", "lnk", "doc",
    "docx", "xls", "xlsx", "pdf", "js", "vbs", "ps1", "hta", "bat", "sh", "txt", "html", "ascii",
    "powershell", "encrypted", "opendir", "payload", "dropper", "botnet", "malware", "mips", "mipsel",
    "mpsl", "arm", "arm4", "arm5", "arm6", "arm7", "aarch64", "x86", "x86-64", "x64", "i686", "sh4",
    "m68k", "ppc", "powerpc", "sparc", "android", "windows", "linux",
)  # fmt: skip

_HEADER = re.compile(r"^#\s*id,dateadded,url,url_status,last_online,threat,tags", re.MULTILINE)


def _recognise(sample: Sample) -> bool:
    return _HEADER.search(sample.text) is not None


def _family(tags: str) -> str:
    tag_list = f"list_transform(string_split(lower({text(tags)}), ','), lambda t: trim(t))"
    generic = "[" + ", ".join(lit(t) for t in GENERIC_TAGS) + "]"
    return f"list_filter({tag_list}, lambda t: t <> '' AND NOT list_contains({generic}, t))[1]"


FEED = Feed(
    name="abusech-urlhaus",
    provider="abuse.ch",
    summary="abuse.ch URLhaus CSV dump (csv_recent/csv_online): malware download URLs.",
    reader=Csv(header=False, names=COLUMNS, comment="#"),
    recognise=_recognise,
    columns=COLUMNS,
    required=("dateadded", "url"),
    fields={
        "time_source": ts(col("dateadded")),
        **classified(MALWARE_DISTRIBUTION),
        "source_url": text(col("url")),
        "malware_name": _family(col("tags")),
        "extra": extra("id", "url_status", "last_online", "threat", "tags", "urlhaus_link", "reporter"),
    },
    checks=(
        (bad_time(col("dateadded")), "dateadded is missing or not a date-time"),
        (missing(col("url")), "url is empty"),
        (f"NOT regexp_matches({text(col('url'))}, '^(?i)(https?|ftp)://[^/\\s]+')", "url is not a URL"),
    ),
    tlp="CLEAR",
    priority=60,
)
