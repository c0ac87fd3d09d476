"""``callbridge keys new``: an RSA key pair and a self-signed certificate, made as Salesforce asks
partners to make them."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from callbridge.auth.certificates import new_key_pair, parse_pem

keys_app = typer.Typer(
    name="keys",
    help="Make the RSA key pairs telephony providers sign their tokens with.",
    no_args_is_help=True,
)

PRIVATE_KEY_FILE = "private.key"
CERTIFICATE_FILE = "cert.pem"
GITIGNORE = f"# Written by callbridge keys new: the private key signs tokens; never commit it.\n{PRIVATE_KEY_FILE}\n"


class KeyBits(StrEnum):
    b2048 = "2048"
    b4096 = "4096"


@keys_app.command("new")
def new_keys(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help=f"Directory to write {PRIVATE_KEY_FILE} (mode 0600) and {CERTIFICATE_FILE} to (created).",
            file_okay=False,
        ),
    ],
    bits: Annotated[KeyBits, typer.Option("--bits", help="RSA key size in bits.")] = KeyBits.b2048,
    days: Annotated[int, typer.Option("--days", min=1, help="How many days the certificate is valid.")] = 365,
    cn: Annotated[
        str, typer.Option("--cn", help="Common name (CN) of the certificate's subject.")
    ] = "callbridge-telephony",
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files in --out.")] = False,
) -> None:
    """Write a new private key and a self-signed certificate for it.

    Keep private.key with the telephony side (it signs the tokens); give cert.pem to the call center's
    configuration (it verifies them).
    """
    console, errors = Console(), Console(stderr=True)
    private_path, certificate_path = out / PRIVATE_KEY_FILE, out / CERTIFICATE_FILE
    existing = [path for path in (private_path, certificate_path) if path.exists()]
    if existing and not force:
        names = ", ".join(str(path) for path in existing)
        errors.print(f"[red]Refusing to overwrite {names}[/red]; pass --force to replace them.", soft_wrap=True)
        raise typer.Exit(1)
    out.mkdir(parents=True, exist_ok=True)
    pair = new_key_pair(cn, bits=int(bits.value), days=days)
    _write_private(private_path, pair.private_key_pem)
    certificate_path.write_text(pair.certificate_pem)
    ignore = out / ".gitignore"
    if not ignore.exists():
        ignore.write_text(GITIGNORE)
    certificate = parse_pem(pair.certificate_pem)
    not_after = certificate.not_after or datetime.now(UTC)
    console.print(
        f"Private key  {private_path}  ({certificate.key_bits} bits, mode 0600; {ignore} keeps it out of git)",
        soft_wrap=True,
    )
    console.print(f"Certificate  {certificate_path}  (CN={cn})", soft_wrap=True)
    console.print(f"SHA-256      {certificate.fingerprint_sha256}", soft_wrap=True)
    console.print(f"Expires      {not_after:%Y-%m-%d %H:%M:%S} UTC ({days} days)", soft_wrap=True)


def _write_private(path: Path, pem: str) -> None:
    """Written owner-only from the first byte (never world-readable, even briefly)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(pem)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
