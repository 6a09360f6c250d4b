"""The report's JSON Schema, generated from the pydantic models.

`python -m auditor.schema` rewrites `report.schema.json`; a test keeps the committed
file equal to what the models generate, and validates real audit output against it.
"""

from __future__ import annotations

import json
from pathlib import Path

SCHEMA_FILE = Path(__file__).with_name("report.schema.json")


def generated_schema_text() -> str:
    from auditor.report.json_report import json_schema

    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def main() -> None:
    from auditor.report import write_atomically

    write_atomically(SCHEMA_FILE, generated_schema_text())
    print(f"wrote {SCHEMA_FILE}")


if __name__ == "__main__":
    main()
