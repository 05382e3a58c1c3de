"""Derive Sitrep's built-in Shadowserver table from Shadowserver's published schema.

    .venv/bin/python tools/shadowserver_table.py INTELMQ_JSON REPORTS_JSON > src/sitrep/feeds/shadowserver_reports.json

``INTELMQ_JSON`` and ``REPORTS_JSON`` are ``intelmq.json`` and ``reports.json`` of
https://github.com/The-Shadowserver-Foundation/report_schema (the first is the schema IntelMQ
downloads; the second gives each report's columns in published order).  The table keeps what Sitrep
reads: each report's title, classification, required columns, columns in order, and the mappings onto
event columns (see ``sitrep.feeds.shadowserver``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sitrep.feeds.shadowserver import reports_from_schema, table_json


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    schema = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    orders = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
    table = table_json(reports_from_schema(schema, orders))
    table["source"] = (
        "Derived by tools/shadowserver_table.py from The-Shadowserver-Foundation/report_schema "
        f"(intelmq.json, reports.json; schema created {schema.get('_meta', {}).get('date_created', '?')})"
    )
    # One line per report: the file diffs report by report when the schema changes.
    lines = [f" {json.dumps(key)}: {json.dumps(entry, ensure_ascii=False)}" for key, entry in table["reports"].items()]
    sys.stdout.write('{\n "source": ' + json.dumps(table["source"]) + ',\n "reports": {\n')
    sys.stdout.write(",\n".join(" " + line for line in lines) + "\n }\n}\n")


if __name__ == "__main__":
    main()
