"""Shared fixtures of the CLI tests: a Typer app holding one command module, and a configured database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import typer

from callbridge.auth.certificates import KeyPair
from callbridge.config import get_settings
from tests.routing.conftest import apply_config


def typer_app(module: ModuleType) -> typer.Typer:
    """An app with only ``module``'s commands, as ``callbridge`` registers them."""
    application = typer.Typer()

    @application.callback()
    def main() -> None:
        """callbridge"""

    module.register(application)
    return application


@pytest.fixture
async def configured(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path, key_pair: KeyPair
) -> Iterator[None]:
    """The routing tests' contact centre applied, and CALLBRIDGE_DATABASE_URL pointing at it."""
    await apply_config(database_url, tmp_path, key_pair)
    monkeypatch.setenv("CALLBRIDGE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
