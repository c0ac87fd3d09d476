"""A real ``callbridge serve`` process for the client and check tests: migrated, configured with a small
contact centre (a queue no agent serves, agents with console passwords, a supervisor), listening on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from callbridge.auth.certificates import KeyPair
from callbridge.console.passwords import hash_password

CLI = str(Path(sys.executable).parent / "callbridge")
ORG_ID = "00DXX000000LIVEAAA"
CALL_CENTER = "LiveCC"
PASSWORD = "correct horse battery staple"
DIALED_NUMBER = "+14155550100"
# Support has no agents, so calls routed there wait and never take an agent's capacity; agents get calls
# only by a direct route to their user id.
SUPPORT_ARN = "arn:aws:connect:us-east-1:111122223333:instance/live/queue/q-support"
AGENTS = {
    "alice@example.com": "005XX0000000001AAA",
    "bruno@example.com": "005XX0000000002AAA",
    "chen@example.com": "005XX0000000003AAA",
}
SUPERVISOR = "sam@example.com"
GREETING_URL = "https://media.example.com/greetings/live.wav"
OUTBOUND_NUMBER = "+14155550190"
ROUTABLE_NUMBERS = [f"+1415555{n:04d}" for n in range(9000, 9010)]


def config_yaml() -> str:
    password_hash = hash_password(PASSWORD, n=2**4)  # cheap: verification reads the cost from the hash
    agents = "".join(
        f"""
      - username: {username}
        user_id: {user_id}
        queues: [Tier2]
        password_hash: "{password_hash}"
"""
        for username, user_id in AGENTS.items()
    )
    return f"""\
version: 1
orgs:
  - id: {ORG_ID}
    call_centers:
      - api_name: {CALL_CENTER}
        certificates: [cert.pem]
        phone_channels:
          - dialed_number: "{DIALED_NUMBER}"
            flow: Inbound_Support
            fallback_queue: Support
            voicemail_greeting_url: "{GREETING_URL}"
        callback: {{fallback_queue: Support}}
        default_outbound_number: "{OUTBOUND_NUMBER}"
        routable_numbers: [{", ".join(f'"{n}"' for n in ROUTABLE_NUMBERS)}]
        voicemail_drops:
          - {{name: Busy, recording_url: "https://media.example.com/drops/busy.wav"}}
    queues:
      - {{api_name: Support, external_id: "{SUPPORT_ARN}"}}
      - {{api_name: Tier2}}
    agents:{agents}
      - username: {SUPERVISOR}
        user_id: 005XX0000000009AAA
        role: supervisor
        password_hash: "{password_hash}"
    flows:
      - api_name: Inbound_Support
        rules:
          - route: {{queue: Support}}
"""


@dataclass(frozen=True)
class LiveServer:
    url: str
    key_path: Path
    private_key_pem: str
    other_private_key_pem: str
    env: dict[str, str]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def wait_until_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited early"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port} after {timeout}s")


@contextmanager
def live_server(directory: Path, key_pair: KeyPair, other_key_pair: KeyPair) -> Iterator[LiveServer]:
    """Migrate a new SQLite file, apply the contact centre, serve it; stop the process afterwards."""
    env = {**os.environ, "CALLBRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'callbridge.db'}"}
    (directory / "cert.pem").write_text(key_pair.certificate_pem)
    key_path = directory / "private.key"
    key_path.write_text(key_pair.private_key_pem)
    (directory / "cc.yaml").write_text(config_yaml())
    _run(["migrate"], env)
    _run(["apply", "-f", str(directory / "cc.yaml")], env)
    port = free_port()
    with (directory / "server.log").open("wb") as log:
        process = subprocess.Popen([CLI, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_listening(port, process)
            yield LiveServer(
                url=f"http://127.0.0.1:{port}",
                key_path=key_path,
                private_key_pem=key_pair.private_key_pem,
                other_private_key_pem=other_key_pair.private_key_pem,
                env=env,
            )
        finally:
            process.terminate()
            process.wait(timeout=15)
