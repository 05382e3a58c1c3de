"""The WeChat article at phone width in a real Chromium: nothing wider than the 414 px screen, every
chart image loaded, fitting its column and sharp (at least two image pixels per CSS pixel).

The page is shown as WeChat's reader shows an article: the body in the reader's margins, in a CJK
font (phones have one; this machine has none, so the report's Noto Sans SC is loaded for it).  With
``SITREP_SCREENSHOTS=DIR`` the test also saves full-page screenshots there
(``report-wechat-<lang>.png``), of the latest published week of ``SITREP_SCREENSHOTS_HOME`` when that
names a workspace (docs/images/ holds those of the demo, for docs/report.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from report.data import WEEK, build_workspace
from sitrep.config import load_workspace
from sitrep.report.archive import archive
from sitrep.report.charts import font_path
from sitrep.report.publish import render_week

PHONE = {"width": 414, "height": 896}
# WeChat's reader: a CJK system font and about 16 px of margin on each side.
READER_CSS = f"""
@font-face {{ font-family: 'Reader CJK'; src: url('{Path(font_path()).as_uri()}'); }}
body {{ margin: 0; padding: 20px 16px; font-family: 'Reader CJK', sans-serif; background: #fff; }}
"""
# Everything that sticks out of the screen, and every image with its sizes.
MEASURE = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.body.querySelectorAll('*')]
    .map(e => [e.tagName, e.getBoundingClientRect()])
    .filter(([, r]) => r.width > 0 && (r.left < -0.5 || r.right > width + 0.5))
    .map(([tag, r]) => `${tag} ${Math.round(r.left)}..${Math.round(r.right)}`);
  const images = [...document.images].map(i => ({
    src: i.getAttribute('src'), complete: i.complete, natural: i.naturalWidth,
    shown: i.getBoundingClientRect().width, column: i.parentElement.getBoundingClientRect().width,
  }));
  return {width, scroll: document.documentElement.scrollWidth, wide, images};
}"""


@pytest.fixture(scope="module")
def articles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wechat")
    out = root / "out"
    if home := os.environ.get("SITREP_SCREENSHOTS_HOME"):
        workspace = load_workspace(home)
        render_week(workspace, archive(workspace).current[-1].week, formats=["wechat"], out=out)
    else:
        render_week(build_workspace(root / "ws"), WEEK, formats=["wechat"], out=out)
    return out


def _open(browser: Any, path: Path, scale: int = 3) -> Any:
    page = browser.new_page(viewport=PHONE, device_scale_factor=scale)
    page.goto(path.as_uri())
    page.add_style_tag(content=READER_CSS)
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready")
    return page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_article_fits_a_phone_screen(browser, articles, lang):
    page = _open(browser, articles / f"report.{lang}.wechat.html")
    found = page.evaluate(MEASURE)
    assert found["width"] == PHONE["width"]
    assert found["scroll"] <= PHONE["width"], "the page scrolls sideways"
    assert found["wide"] == [], f"wider than the screen: {found['wide']}"
    images = found["images"]
    assert [i["src"] for i in images] == [f"wechat/{lang}/chart-trend.png"]
    for image in images:
        assert image["complete"] and image["natural"] > 0, f"{image['src']} did not load"
        assert image["shown"] <= image["column"] + 0.5
        assert image["shown"] >= 0.9 * image["column"], f"{image['src']} does not use its column"
        assert image["natural"] >= 2 * image["shown"], f"{image['src']} is blurred on a phone"
    # The article's own text sizes stay readable on a phone.
    sizes = page.evaluate(
        "[...document.querySelectorAll('p, td, th')].map(e => parseFloat(getComputedStyle(e).fontSize))"
    )
    assert min(sizes) >= 12
    if shots := os.environ.get("SITREP_SCREENSHOTS"):
        screenshot = _open(browser, articles / f"report.{lang}.wechat.html", scale=1)
        screenshot.screenshot(path=str(Path(shots) / f"report-wechat-{lang}.png"), full_page=True)
        screenshot.close()
    page.close()


def test_the_measure_sees_what_sticks_out(browser, articles):
    # The check above could pass by measuring nothing: a table wider than the screen is found.
    page = _open(browser, articles / "report.zh.wechat.html")
    page.evaluate("document.querySelector('table').style.width = '600px'")
    found = page.evaluate(MEASURE)
    assert found["scroll"] > PHONE["width"]
    assert any(w.startswith("TABLE ") for w in found["wide"])
    page.close()
