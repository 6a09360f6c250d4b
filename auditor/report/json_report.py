"""The JSON report (SPEC "Output: the audit report")."""

from __future__ import annotations

import json

from auditor.models import AuditReport


def render_json(report: AuditReport) -> str:
    return json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


def json_schema() -> dict:
    """The JSON Schema of the report, generated from the pydantic models."""
    schema = AuditReport.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://mle-auditor/schema/report.schema.json"
    return schema
