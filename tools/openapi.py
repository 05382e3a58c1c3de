"""Write the API's OpenAPI 3.1 spec to docs/api/openapi.json (tests/web/test_api.py checks it is current).

.venv/bin/python tools/openapi.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from sitrep.web.api import create_api
from sitrep.workspace import init_workspace

SPEC = Path(__file__).resolve().parents[1] / "docs" / "api" / "openapi.json"


def spec_text() -> str:
    """The spec as committed: sorted keys, two-space indent, a final newline."""
    with tempfile.TemporaryDirectory() as folder:
        spec = create_api(init_workspace(Path(folder) / "ws")).openapi()
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    SPEC.write_text(spec_text(), encoding="utf-8")
    sys.stdout.write(f"wrote {SPEC}\n")
