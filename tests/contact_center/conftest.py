"""A database per test and config files written next to the ``key_pair`` certificate (keys/cert.pem)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from callbridge.auth.certificates import KeyPair
from callbridge.kit.db import Database

WriteConfig = Callable[[str], Path]


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


@pytest.fixture
def config_dir(tmp_path: Path, key_pair: KeyPair) -> Path:
    """A directory holding keys/cert.pem (the ``key_pair`` certificate), where config files are written."""
    directory = tmp_path / "config"
    (directory / "keys").mkdir(parents=True)
    (directory / "keys" / "cert.pem").write_text(key_pair.certificate_pem)
    return directory


@pytest.fixture
def write_config(config_dir: Path) -> WriteConfig:
    """Write a config file next to keys/ and return its path."""

    def write(text: str, name: str = "cc.yaml") -> Path:
        path = config_dir / name
        path.write_text(text)
        return path

    return write
