"""Migrations are code under test: they build the schema, and the models agree with them."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from callbridge.kit import migrate
from callbridge.models import Base


def test_migrations_reach_head(database_url: str) -> None:
    """The test database, built by running the migrations, is at the newest revision."""
    assert migrate.is_current(database_url)


def test_models_and_migrations_do_not_drift(template_database: Path) -> None:
    """Autogenerate finds nothing to add: every model change came with its migration."""
    engine = create_engine(f"sqlite:///{template_database}")
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_migrations_upgrade_an_empty_database_twice(tmp_path: Path) -> None:
    """Upgrading is idempotent: a second upgrade on an up-to-date database changes nothing."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'twice.db'}"
    migrate.upgrade(url)
    migrate.upgrade(url)
    assert migrate.is_current(url)
