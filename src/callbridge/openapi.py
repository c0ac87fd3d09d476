"""Print the OpenAPI document: ``python -m callbridge.openapi > docs/openapi.json``."""

from __future__ import annotations

import json
from typing import Any

from callbridge.app import create_app
from callbridge.config import Settings


def document() -> dict[str, Any]:
    """The OpenAPI document of the app (building the app opens no connection)."""
    return create_app(Settings(database_url="sqlite+aiosqlite:///:memory:")).openapi()


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
