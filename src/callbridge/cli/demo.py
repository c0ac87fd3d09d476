"""``callbridge demo``: a ready contact centre for a first run (key pair, config, applied) and how to call it."""

from __future__ import annotations

import asyncio
import json
import shlex
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import typer
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from rich.console import Console
from rich.panel import Panel

from callbridge.auth.certificates import new_key_pair
from callbridge.cli.tokens import mint_token
from callbridge.config import get_settings
from callbridge.contact_center.service import apply_file
from callbridge.demo import AGENT_PASSWORD
from callbridge.kit.db import Database

console = Console()


def demo(
    directory: Path = typer.Option(Path("var/demo"), "--dir", help="Where the demo key pair and config are kept."),
    base_url: str = typer.Option("http://127.0.0.1:8080", help="The URL the server will answer on."),
) -> None:
    """Create (once) a demo key pair and contact centre, apply it, and print a ready-to-paste curl."""
    directory.mkdir(parents=True, exist_ok=True)
    private_key_path, certificate_path = directory / "private.key", directory / "cert.pem"
    if not private_key_path.exists() or not certificate_path.exists():
        pair = new_key_pair("callbridge-demo")
        private_key_path.write_text(pair.private_key_pem)
        private_key_path.chmod(0o600)
        certificate_path.write_text(pair.certificate_pem)
    config_path = directory / "contact-center.yaml"
    with resources.as_file(resources.files("callbridge.demo") / "contact-center.yaml") as packaged:
        shutil.copyfile(packaged, config_path)
    asyncio.run(_apply(config_path))

    org_id, call_center = _first_call_center(config_path)
    key = serialization.load_pem_private_key(private_key_path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    token = mint_token(key, org=org_id, call_center=call_center, ttl_seconds=3600, jti=True, aud=None)
    console.print(
        Panel.fit(
            "\n".join(
                [
                    f"[bold]Base URL[/bold]      {base_url.rstrip('/')}/telephony/v1",
                    f"[bold]Org id[/bold]        {org_id}",
                    f"[bold]Call center[/bold]   {call_center}",
                    f"[bold]Private key[/bold]   {private_key_path.resolve()}",
                    f"[bold]Config[/bold]        {config_path.resolve()}",
                    f"[bold]Console[/bold]       {base_url.rstrip('/')}/console, /console/supervisor",
                    *_people(config_path),
                ]
            ),
            title="Callbridge demo contact centre",
        )
    )
    console.print(
        "Create a call (each paste is a new call, its vendorCallKey in $KEY; the token is valid for an hour, "
        "mint another with [bold]callbridge token[/bold]):"
    )
    console.print(create_call_curl(base_url, token, call_center), soft_wrap=True, highlight=False, markup=False)


async def _apply(config_path: Path) -> None:
    database = Database(get_settings().database_url)
    try:
        await apply_file(database, config_path)
    finally:
        await database.dispose()


def _first_call_center(config_path: Path) -> tuple[str, str]:
    config: dict[str, Any] = yaml.safe_load(config_path.read_text())
    org = config["orgs"][0]
    return str(org["id"]), str(org["call_centers"][0]["api_name"])


def _people(config_path: Path) -> list[str]:
    """Who signs in to the console, and with which password."""
    config: dict[str, Any] = yaml.safe_load(config_path.read_text())
    agents = config["orgs"][0].get("agents", [])
    names = [a["username"] for a in agents if a.get("role", "agent") == "agent"]
    supervisors = [a["username"] for a in agents if a.get("role") == "supervisor"]
    lines = (
        [f"[bold]Agents[/bold]        {names[0]} and {len(names) - 1} more, password {AGENT_PASSWORD}"] if names else []
    )
    lines += [f"[bold]Supervisor[/bold]    {name}, password {AGENT_PASSWORD}" for name in supervisors]
    return lines


def create_call_curl(base_url: str, token: str, call_center: str) -> str:
    """A curl that creates an inbound call the way the Amazon Connect Lambda does. The shell makes its
    vendorCallKey (kept in ``$KEY``) and startTime when it is pasted, so each paste is a new call, started now."""
    body = {
        "callCenterApiName": call_center,
        "vendorCallKey": "@KEY@",
        "to": "+14155550100",
        "from": "+14155550123",
        "initiationMethod": "Inbound",
        "startTime": "@NOW@",
        "callAttributes": json.dumps({"Department__c": "Support"}),
        "participants": [{"participantKey": "+14155550123", "type": "END_USER"}],
    }
    data = json.dumps(body).replace("@KEY@", """'"$KEY"'""").replace("@NOW@", """'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'""")
    return " \\\n  ".join(
        [
            f"KEY=demo-$(date +%s)-$RANDOM; curl -sS -X POST {base_url.rstrip('/')}/telephony/v1/voiceCalls",
            f"-H {shlex.quote('Authorization: Bearer ' + token)}",
            "-H 'Content-Type: application/json'",
            "-H 'Telephony-Provider-Name: demo'",
            f"-d '{data}'",
        ]
    )


def register(app: typer.Typer) -> None:
    app.command()(demo)
