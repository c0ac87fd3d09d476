"""Every link between README.md and docs/*.md resolves: the file exists, and an #anchor names a heading of it
by GitHub's rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.harness import DOCUMENTS, ROOT, anchors, broken_link, links, slug


@pytest.mark.parametrize("document", DOCUMENTS, ids=[str(d.relative_to(ROOT)) for d in DOCUMENTS])
def test_every_intra_doc_link_resolves(document: Path) -> None:
    """No relative link names a missing file or a heading that is not there."""
    broken = [f"line {line}: {why}" for line, target in links(document) if (why := broken_link(document, target))]
    assert broken == []


def test_anchors_follow_githubs_rules() -> None:
    """Code spans, punctuation and case are dropped as GitHub does; a repeated heading gets -1."""
    assert slug("`callbridge check`") == "callbridge-check"
    assert slug("Update (`PATCH /voiceCalls/{id}`)") == "update-patch-voicecallsid"
    assert slug("A new user's first hour — offline") == "a-new-users-first-hour--offline"
    assert "routing" in anchors(ROOT / "docs" / "api.md")


def test_a_missing_anchor_is_reported() -> None:
    """A link to a heading that does not exist is broken."""
    assert broken_link(ROOT / "README.md", "docs/api.md#no-such-heading") is not None
    assert broken_link(ROOT / "README.md", "docs/api.md#routing") is None
