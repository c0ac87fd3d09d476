"""The ``callbridge`` command: each module adds its commands through ``register(app)``."""

from __future__ import annotations

import typer

from callbridge.cli import agent, certs, check, config, demo, flow, help, keys, server, simulate, tokens, webhooks

help.install()

app = typer.Typer(
    name="callbridge",
    help="Callbridge: the Salesforce Voice Telephony Integration REST API, self-hosted.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
for module in (server, config, keys, tokens, certs, demo, flow, agent, check, simulate, webhooks):
    module.register(app)


def main() -> None:
    app()
