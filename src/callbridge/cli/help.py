"""How ``callbridge … --help`` reads: typer 0.29's rich help, adjusted in four places (``install()``).

Typer renders every flag with a type, as if it took a value (``--dry-run <bool>``); a required argument in the
usage line as a set (``{flow}``); and, in ``rich`` markup mode, keeps the single line breaks of a docstring's
later paragraphs and of a command's summary, so text wrapped at 110 columns in the source breaks mid-sentence
on a terminal of another width; and a default with no space in it (a path) is cut with an ellipsis at 80
columns. The adjustments keep typer's look otherwise; they are applied once, when ``callbridge.cli`` loads.
"""

from __future__ import annotations

import re
from typing import Any

from rich.columns import Columns
from rich.text import Text
from typer import _click, core, rich_utils
from typer.rich_utils import MarkupModeStrict

_SINGLE_BREAK = re.compile(r"(?<!\n)\n(?!\n)")


def unwrap(paragraph: str) -> str:
    """One paragraph on one line (a ``\\b`` paragraph, which click keeps as written, is left alone)."""
    return paragraph if paragraph.startswith("\b") else _SINGLE_BREAK.sub(" ", paragraph.strip())


def _fix_linebreaks(paragraphs: list[str], markup_mode: MarkupModeStrict) -> str:
    return "\n\n".join(unwrap(paragraph) for paragraph in paragraphs)


def _option_type(self: core.TyperOption, ctx: _click.Context) -> str | None:
    if self.is_flag and self.metavar is None:
        return None  # a flag takes no value
    shown = _typer_option_type(self, ctx)
    listed = re.fullmatch(r"<list\[(.+)\]>", shown or "")
    return f"<{listed[1]}>..." if listed else shown  # a repeatable option, as click writes one


def _usage_name(self: core.TyperArgument) -> str:
    name = (self.metavar or self.name or "").upper()
    name = name if self.required else f"[{name}]"
    return f"{name}..." if self.nargs != 1 else name


def _parameter_help(
    *,
    param: core.TyperOption | core.TyperArgument | _click.Parameter,
    ctx: _click.Context,
    markup_mode: MarkupModeStrict,
) -> Columns:
    columns = _typer_parameter_help(param=param, ctx=ctx, markup_mode=markup_mode)
    for item in columns.renderables:
        if isinstance(item, Text):
            item.overflow = "fold"  # a long default (a path, a URL) wraps instead of being cut
    return columns


def _command_help(*, help_text: str, markup_mode: Any) -> Any:
    first, _, rest = help_text.partition("\n\n")
    return _typer_command_help(
        help_text=unwrap(_dedent(first)) + ("\n\n" + rest if rest else ""), markup_mode=markup_mode
    )


def _dedent(text: str) -> str:
    return "\n".join(line.strip() for line in text.splitlines())


_typer_option_type = core.TyperOption.display_type_rich
_typer_parameter_help = rich_utils._get_parameter_help
_typer_command_help = rich_utils._make_command_help


def install() -> None:
    """Apply the adjustments (idempotent)."""
    core.TyperOption.display_type_rich = _option_type  # type: ignore[method-assign]
    core.TyperArgument._usage_display_name = _usage_name  # type: ignore[method-assign]
    rich_utils._fix_linebreaks = _fix_linebreaks
    rich_utils._get_parameter_help = _parameter_help
    rich_utils._make_command_help = _command_help
