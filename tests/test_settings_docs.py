"""Every setting is documented: in the README's settings table and in docs/configuration.md's full table."""

from __future__ import annotations

from pathlib import Path

import pytest

from callbridge.config import Settings

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize("document", ["README.md", "docs/configuration.md"])
def test_every_setting_has_a_row(document: str) -> None:
    """A setting added to callbridge.config.Settings without its table row fails here."""
    text = (ROOT / document).read_text()
    missing = [name for name in Settings.model_fields if f"| `CALLBRIDGE_{name.upper()}` |" not in text]
    assert missing == [], f"{document} has no row for: {', '.join(missing)}"
