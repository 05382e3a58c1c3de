"""The demo's report, opened where the demo says: every link of its pages leads to a file that exists."""

import re
from pathlib import Path

from sitrep.demo.run import run_demo

HREF = re.compile(r'(?:href|src)="([^"#:]+)(?:#[^"]*)?"')


def test_every_relative_link_of_the_demo_reports_opens(tmp_path: Path) -> None:
    result = run_demo(tmp_path / "demo", weeks=3, scale=0.02)
    latest = result.report.parent
    checked = 0
    for page in sorted(latest.parent.glob("*/report.*.html")):
        for target in HREF.findall(page.read_text(encoding="utf-8")):
            if target.startswith("data"):
                continue
            assert (page.parent / target).resolve().is_file(), f"{page.relative_to(tmp_path)} links {target}"
            checked += 1
    review = (latest / "report.zh.html").read_text(encoding="utf-8")
    assert f"../{result.weeks[-2]}/report.zh.html" in review and f"../{result.weeks[0]}/report.zh.html" in review
    assert checked >= 8
