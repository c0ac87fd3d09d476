"""The checked-in OpenAPI document is the app's own, and it describes every body and error."""

from __future__ import annotations

from pathlib import Path

from callbridge.openapi import document, render

CHECKED_IN = Path(__file__).parents[1] / "docs" / "openapi.json"


def test_checked_in_document_matches_the_app() -> None:
    """docs/openapi.json is current (regenerate with `make openapi`)."""
    assert CHECKED_IN.read_text() == render()


def test_write_endpoints_take_json_and_xml() -> None:
    """Create and update document both application/json and application/xml bodies."""
    paths = document()["paths"]
    for path, method in (
        ("/telephony/v1/voiceCalls", "post"),
        ("/telephony/v1/voiceCalls/{voiceCallId}", "patch"),
    ):
        content = paths[path][method]["requestBody"]["content"]
        assert set(content) == {"application/json", "application/xml"}


def test_every_operation_documents_401_and_the_error_body() -> None:
    """Every telephony operation documents 401 with the ErrorBody schema, and declares the bearer scheme."""
    doc = document()
    assert doc["components"]["securitySchemes"]
    for path, operations in doc["paths"].items():
        if not path.startswith("/telephony/v1"):
            continue
        for operation in operations.values():
            schema = operation["responses"]["401"]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}
            assert operation.get("security")
