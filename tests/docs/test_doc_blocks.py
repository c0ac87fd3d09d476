"""Every fenced block of README.md and docs/*.md marked runnable (``<!-- doctest -->``, see harness.py) runs
against a live `callbridge serve` and exits 0 with the output its marker expects."""

from __future__ import annotations

import subprocess

import pytest

from tests.docs.conftest import DocServer
from tests.docs.harness import DOC_URL, DOCUMENTS, Block, all_blocks, blocks

BLOCKS = all_blocks()


def run(block: Block, server: DocServer) -> subprocess.CompletedProcess[str]:
    code = block.code.replace(DOC_URL, server.url)
    if block.language == "python":
        return subprocess.run(
            ["python3", "-c", code], cwd=server.folder, env=server.env, capture_output=True, text=True, timeout=120
        )
    assert block.language in ("bash", "sh", "shell"), f"{block.name}: cannot run a {block.language} block"
    # Shell variables carry from one block of a document to the next, as in a reader's terminal.
    state = server.folder / f".doctest-{block.document.stem}.env"
    script = f"set -a\n[ -f {state} ] && . {state}\nset -eo pipefail\n{code}\nexport -p > {state}\n"
    return subprocess.run(
        ["bash", "-c", script], cwd=server.folder, env=server.env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("block", BLOCKS, ids=[block.name for block in BLOCKS])
def test_block_runs(block: Block, doc_server: DocServer) -> None:
    """The block exits 0 and prints every expected text."""
    result = run(block, doc_server)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{block.name} exited {result.returncode}:\n{block.code}\n{output}"
    for text in block.expect:
        assert text in output, f"{block.name}: {text!r} is not in its output:\n{output}"


def test_the_readme_tour_and_the_main_docs_are_runnable() -> None:
    """The README's tour and the getting-started, integrators and api documents have runnable blocks."""
    counts = {document.name: len(blocks(document)) for document in DOCUMENTS}
    assert counts["README.md"] >= 5
    assert counts["integrators.md"] >= 3
    assert counts["getting-started.md"] >= 3
