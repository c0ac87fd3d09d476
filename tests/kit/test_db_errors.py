"""Database errors never carry a statement's parameters into a message or a log line, and data errors are told
apart from the rest."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, StatementError

from callbridge.kit.db import Database
from callbridge.kit.writer import describe_error, is_data_error

SECRET = "my card number is 4111 1111 1111 1111"


async def test_a_failed_statement_does_not_show_its_parameters(database_url: str) -> None:
    """The engine hides parameters: the error's text never holds the value that was bound."""
    database = Database(database_url)
    try:
        async with database.write_session() as session:
            with pytest.raises(DBAPIError) as raised:
                await session.execute(text("INSERT INTO no_such_table (x) VALUES (:x)"), {"x": SECRET})
        assert SECRET not in str(raised.value)
    finally:
        await database.dispose()


def test_describe_error_cuts_the_argument_asyncpg_quotes() -> None:
    """asyncpg's "invalid input for query argument $3: '<value>' (...)" is described without the value."""
    original = Exception(f"invalid input for query argument $3: '{SECRET}' (value out of int64 range)")
    described = describe_error(DBAPIError("INSERT ...", None, original))
    assert SECRET not in described
    assert "query argument $3" in described and "out of int64 range" in described


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (OverflowError("Python int too large to convert to SQLite INTEGER"), True),
        (StatementError("bind failed", "INSERT ...", None, ValueError("naive datetime")), True),
        (RuntimeError("a bug"), False),
        (ConnectionError("refused"), False),
    ],
)
def test_is_data_error(error: Exception, expected: bool) -> None:
    """Value and overflow errors (also wrapped by SQLAlchemy) are the data's fault; other failures are not."""
    assert is_data_error(error) is expected
