"""``callbridge agent set-password`` and ``hash-password``: console passwords for agents."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer
from sqlalchemy import delete, select

from callbridge.config import get_settings
from callbridge.console.passwords import hash_password
from callbridge.kit.db import Database
from callbridge.models import Agent, AgentSession

agent_app = typer.Typer(help="Agents' console passwords.", no_args_is_help=True)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        typer.echo("error: the password is empty", err=True)
        raise typer.Exit(1)
    return password


async def _set_password(database_url: str, username: str, org: str | None, password_hash: str) -> Agent:
    database = Database(database_url)
    try:
        async with database.write_session() as session:
            agents = [
                agent
                for agent in (await session.scalars(select(Agent).where(Agent.username == username))).all()
                if org is None or agent.org_id[:15] == org[:15]
            ]
            if not agents:
                raise LookupError(f"no agent {username!r}" + (f" in org {org}" if org else ""))
            if len(agents) > 1:
                orgs = ", ".join(sorted(agent.org_id for agent in agents))
                raise LookupError(f"agent {username!r} exists in several orgs ({orgs}): choose one with --org")
            agent = agents[0]
            agent.password_hash = password_hash
            # A new password signs the agent out everywhere.
            await session.execute(delete(AgentSession).where(AgentSession.user_id == agent.user_id))
            await session.commit()
            return agent
    finally:
        await database.dispose()


@agent_app.command("set-password")
def set_password(
    username: Annotated[str, typer.Argument(help="The agent's username.")],
    org: Annotated[str | None, typer.Option("--org", help="The org id, when the username exists in several.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
    ] = False,
) -> None:
    """Set the password USERNAME signs in to the console with (stored as a scrypt hash; the agent's sessions
    end). Applying a config file that gives no password_hash keeps it."""
    password = _read_password(password_stdin)
    try:
        agent = asyncio.run(_set_password(get_settings().database_url, username, org, hash_password(password)))
    except LookupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Password set for {agent.username} ({agent.user_id}, org {agent.org_id}).")


@agent_app.command("hash-password")
def hash_password_command(
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
    ] = False,
) -> None:
    """Print a password hash for an agent's password_hash in the config file."""
    typer.echo(hash_password(_read_password(password_stdin)))


def register(app: typer.Typer) -> None:
    app.add_typer(agent_app, name="agent")
