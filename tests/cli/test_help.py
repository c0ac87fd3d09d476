"""`callbridge … --help` at 80 columns: flags without a type, arguments by their name, paragraphs that wrap at
the terminal's width rather than the source's, defaults shown whole."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from callbridge.cli import app

runner = CliRunner()


def help_of(*command: str) -> str:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"})
    assert result.exit_code == 0, result.output
    return result.output


def prose(output: str) -> str:
    """The help's text with the panels' borders and the line ends taken out."""
    lines = [line.strip(" │╭╮╰╯─") for line in output.splitlines()]
    return re.sub(r"\s+", " ", " ".join(lines))


@pytest.mark.parametrize("command", [("apply",), ("check",), ("simulate",), ("flow", "test"), ("token",)])
def test_flags_show_no_value_type(command: tuple[str, ...]) -> None:
    """A flag (--dry-run, --json, --help) is listed without a `<bool>` value."""
    output = help_of(*command)
    assert "<bool>" not in output
    assert re.search(r"--help\s+Show this message", output)


def test_arguments_are_named_in_capitals_in_the_usage_line() -> None:
    """`flow test`'s usage reads `FLOW`, as its text does, not `{flow}`."""
    output = help_of("flow", "test")
    assert "Usage: callbridge flow test [OPTIONS] FLOW" in output
    assert "{flow}" not in output


def test_later_paragraphs_are_not_broken_where_the_source_wraps() -> None:
    """apply's second paragraph fills the 80-column lines: no line ends after "with any" (the source's break)."""
    output = help_of("apply")
    assert not any(line.rstrip().endswith("A file with any") for line in output.splitlines())
    assert max(len(line.rstrip()) for line in output.splitlines() if "Applying" in line or "problem" in line) > 60


def test_a_group_lists_its_commands_summary_unwrapped() -> None:
    """`flow --help` shows test's summary as one paragraph filling the panel."""
    output = help_of("flow")
    assert "(no rule matches, or the matching rule" in output.replace("\n│       ", " ")
    assert not any(line.rstrip(" │").endswith("(no") for line in output.splitlines())


def test_simulate_shows_its_defaults_whole_at_80_columns() -> None:
    """Long defaults (the config path) wrap instead of being cut with an ellipsis."""
    output = help_of("simulate")
    assert "…" not in output
    text = prose(output).replace(" ", "")
    assert "[default:var/demo/contact-center.yaml]" in text
