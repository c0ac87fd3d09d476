"""End to end across processes: two `callbridge serve` processes on one throwaway PostgreSQL database and one
shared broker (PostgreSQL LISTEN/NOTIFY or a Redis Stream), driven over real sockets.

A call created through one process is routed, offered and accepted through the other, and consoles connected
to either follow it live; accepts racing through both never assign twice. Then the faults: Redis stops and
starts again, or the database turns every connection away for a while, under transcript load. The servers
answer 503 (never 500) for what needs the missing service, recover without a restart, and every transcript
they acknowledged is stored and reaches a console connected to the other process, in id order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from callbridge.auth.certificates import KeyPair
from tests.conftest import TokenFactory
from tests.e2e.test_serve_process import CLI, run, wait_until_listening
from tests.events import services
from tests.routing.conftest import ALICE, BRUNO, CONFIG, DANA, SAM, Console, Telephony
from tests.routing.test_concurrency import check_invariants
from tests.transcripts.conftest import INBOUND_KEY, message
from tests.voice_calls.conftest import payload

pytestmark = pytest.mark.timeout(240)

Auth = Callable[..., dict[str, str]]


class ServeProcess:
    """`callbridge serve` on a free port, its output kept in a log file."""

    def __init__(self, name: str, env: dict[str, str], directory: Path) -> None:
        self.name = name
        self.env = env
        self.port = services.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.log = directory / f"server-{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [CLI, "serve", "--port", str(self.port), "--graceful-timeout", "2"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until_listening(self.port, self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Cluster:
    """Two serve processes on one database and broker, an HTTP client for each, and the Lambdas' headers."""

    a: ServeProcess
    b: ServeProcess
    database: str
    database_url: str
    auth: Auth
    http: dict[str, httpx2.AsyncClient] = field(default_factory=dict)

    def client(self, process: ServeProcess) -> httpx2.AsyncClient:
        return self.http[process.name]

    async def ready(self, process: ServeProcess, within: float = 20) -> None:
        for _ in range(int(within / 0.1)):
            with contextlib.suppress(httpx2.TransportError):
                if (await self.client(process).get("/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{process.name} not ready within {within} s:\n{process.output()[-3000:]}")

    async def unready(self, process: ServeProcess, within: float = 20) -> dict[str, Any]:
        for _ in range(int(within / 0.1)):
            response = await self.client(process).get("/readyz")
            if response.status_code == 503:
                body: dict[str, Any] = response.json()
                return body
            await asyncio.sleep(0.1)
        raise AssertionError(f"{process.name} still ready after {within} s")


@pytest.fixture
def postgres() -> None:
    services.require_postgres()


@contextlib.asynccontextmanager
async def cluster_of(
    broker: str, tmp_path: Path, key_pair: KeyPair, make_token: TokenFactory, *, redis_url: str | None = None
) -> AsyncIterator[Cluster]:
    """Migrate and apply through the CLI (as a deployment would), then serve twice."""
    async with services.new_database("callbridge_mp") as name:
        stream = services.stream_key()
        broker_url = (
            services.database_url(name, "postgresql")
            if broker == "postgresql"
            else f"{redis_url or services.REDIS_SERVER}?stream={stream}"
        )
        env = {
            **os.environ,
            "CALLBRIDGE_DATABASE_URL": services.database_url(name),
            "CALLBRIDGE_BROKER_URL": broker_url,
            "CALLBRIDGE_LOG_FORMAT": "console",
            "CALLBRIDGE_READY_TIMEOUT_SECONDS": "1",
        }
        run(["migrate"], env)
        (tmp_path / "cert.pem").write_text(key_pair.certificate_pem)
        (tmp_path / "cc.yaml").write_text(CONFIG)
        run(["apply", "-f", str(tmp_path / "cc.yaml")], env)
        token = make_token(ttl=3600)

        def auth(**_: Any) -> dict[str, str]:
            return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        a, b = ServeProcess("a", env, tmp_path), ServeProcess("b", env, tmp_path)
        cluster = Cluster(a, b, name, services.database_url(name), auth)
        try:
            a.start()
            b.start()
            async with (
                httpx2.AsyncClient(base_url=a.url, timeout=15) as http_a,
                httpx2.AsyncClient(base_url=b.url, timeout=15) as http_b,
            ):
                cluster.http = {"a": http_a, "b": http_b}
                await cluster.ready(a)
                await cluster.ready(b)
                yield cluster
        finally:
            a.stop()
            b.stop()
            if broker != "postgresql":
                services.delete_stream(redis_url or services.REDIS_SERVER, stream)
        for process in (a, b):  # faults are logged as warnings, never as a bug's traceback
            assert "Traceback" not in process.output(), process.output()[-5000:]


class Listener:
    """A console's stream read in the background, so that the server never waits on the test."""

    def __init__(self, connection: ClientConnection) -> None:
        self.seen: list[dict[str, Any]] = []
        self._task = asyncio.ensure_future(self._read(connection))

    async def _read(self, connection: ClientConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for text in connection:
                self.seen.append(json.loads(text))

    def of(self, type_: str) -> list[dict[str, Any]]:
        return [m for m in self.seen if m["type"] == type_]

    async def until(self, condition: Callable[[], bool], within: float = 15) -> None:
        for _ in range(int(within / 0.05)):
            if condition():
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"not seen within {within} s; got {[m['type'] for m in self.seen][-20:]}")

    def event_ids(self) -> list[int]:
        return [m["id"] for m in self.seen if not m["type"].startswith("stream.")]

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@contextlib.asynccontextmanager
async def listening(process: ServeProcess, headers: dict[str, str], query: str = "") -> AsyncIterator[Listener]:
    url = f"{process.ws_url}/console/v1/stream{query}"
    async with websockets.connect(url, additional_headers=headers) as connection:
        listener = Listener(connection)
        try:
            await listener.until(lambda: bool(listener.of("stream.hello")))
            yield listener
        finally:
            await listener.close()


def assert_in_id_order(listener: Listener) -> None:
    ids = listener.event_ids()
    assert ids == sorted(ids) and len(ids) == len(set(ids)), "event ids out of order or repeated"


@pytest.mark.parametrize("broker", ["postgresql", "redis"])
async def test_a_call_made_on_one_process_is_offered_accepted_and_transcribed_through_the_other(
    postgres: None, broker: str, tmp_path: Path, key_pair: KeyPair, make_token: TokenFactory
) -> None:
    """Created on A, routed on B, offered to Alice, who follows it on a console connected to each process and
    accepts through B; a transcript posted to A reaches her console on B (and on A), in id order; a console
    that resumes on the other process after the offer gets the same events since."""
    if broker == "redis":
        services.require_redis()
    async with cluster_of(broker, tmp_path, key_pair, make_token) as cluster:
        http_a, http_b = cluster.client(cluster.a), cluster.client(cluster.b)
        alice = await Console(http_a).available(ALICE)
        async with listening(cluster.a, alice) as on_a, listening(cluster.b, alice) as on_b:
            created = await http_a.post(
                "/telephony/v1/voiceCalls", json=payload("lambda_create_inbound"), headers=cluster.auth()
            )
            assert created.status_code == 200, created.text
            call = created.json()["voiceCallId"]
            routed = await Telephony(http_b, cluster.auth).omni_flow(call, {"fallbackQueue": "Support"})
            assert routed.status_code == 200, routed.text
            for console in (on_a, on_b):
                await console.until(lambda console=console: bool(console.of("routing.offered")))
            (offered,) = on_b.of("routing.offered")
            assert offered["voiceCallId"] == call and offered == on_a.of("routing.offered")[0]
            accepted = await Console(http_b).accept(alice, offered["offerId"])
            assert accepted.status_code == 200, accepted.text
            said = await http_a.post(
                f"/telephony/v1/voiceCalls/{INBOUND_KEY}/messages",
                json=message("u1", content="Hello from process A"),
                headers=cluster.auth(),
            )
            assert said.status_code == 200, said.text
            for console in (on_a, on_b):
                await console.until(lambda console=console: bool(console.of("transcript.accepted")))
                (ended,) = console.of("routing.offer_ended")
                assert (ended["offerId"], ended["outcome"]) == (offered["offerId"], "accepted")
                (line,) = console.of("transcript.accepted")
                assert (line["voiceCallId"], line["content"]) == (call, "Hello from process A")
                assert_in_id_order(console)
            assert on_a.event_ids() == on_b.event_ids()
        # Alice's console on B goes away; it resumes on A after the offer, and misses nothing since.
        resume_after = offered["id"]
        async with listening(cluster.a, alice, f"?after={resume_after}") as resumed:
            await resumed.until(lambda: bool(resumed.of("transcript.accepted")))
            (hello,) = resumed.of("stream.hello")
            assert hello["resumedAfter"] == resume_after
            assert resumed.event_ids() == [i for i in on_b.event_ids() if i > resume_after]


async def test_racing_routes_and_accepts_across_processes_never_double_assign(
    postgres: None, tmp_path: Path, key_pair: KeyPair, make_token: TokenFactory
) -> None:
    """Eight calls routed through both processes at once to three agents (capacity 100, 100, 200): four offers;
    each offer accepted ten times through each process at once: one accept wins, nineteen are 409."""
    async with cluster_of("postgresql", tmp_path, key_pair, make_token) as cluster:
        http = [cluster.client(cluster.a), cluster.client(cluster.b)]
        agents = [await Console(http[n % 2]).available(name) for n, name in enumerate((ALICE, BRUNO, DANA))]
        calls = []
        for n in range(8):
            body = payload("lambda_create_inbound", vendorCallKey=f"race-{n}")
            created = await http[n % 2].post("/telephony/v1/voiceCalls", json=body, headers=cluster.auth())
            calls.append(created.json()["voiceCallId"])
        routed = await asyncio.gather(
            *(
                Telephony(http[n % 2], cluster.auth).omni_flow(c, {"fallbackQueue": "Support"})
                for n, c in enumerate(calls)
            )
        )
        assert {r.status_code for r in routed} == {200}
        offers = [(headers, offer) for headers in agents for offer in await Console(http[0]).offers(headers)]
        assert len(offers) == 4
        for headers, offer in offers:
            path = f"/console/v1/offers/{offer['id']}/accept"
            responses = await asyncio.gather(
                *(client.post(path, headers=headers) for _ in range(10) for client in http)
            )
            assert sorted(r.status_code for r in responses) == [200] + [409] * 19
        await check_invariants(cluster.database_url)


@dataclass
class Load:
    """Transcripts posted to one process by concurrent senders until stopped: which were acknowledged (200),
    and every other answer's status (never a 500)."""

    http: httpx2.AsyncClient
    auth: Auth
    senders: int = 6
    acknowledged: set[str] = field(default_factory=set)
    refused: list[tuple[int, str | None, str]] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _next: Iterator[int] = field(default_factory=lambda: iter(range(1_000_000)))

    async def _send(self) -> None:
        while not self.stopping.is_set():
            message_id = f"m{next(self._next):06d}"
            url = f"/telephony/v1/voiceCalls/{INBOUND_KEY}/messages"
            try:
                response = await self.http.post(url, json=message(message_id, content=message_id), headers=self.auth())
            except httpx2.TransportError as exc:
                self.refused.append((0, None, type(exc).__name__))
                await asyncio.sleep(0.05)
                continue
            if response.status_code == 200:
                self.acknowledged.add(message_id)
            else:
                self.refused.append((response.status_code, response.headers.get("retry-after"), response.text[:200]))
                await asyncio.sleep(0.05)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Load]:
        tasks = [asyncio.ensure_future(self._send()) for _ in range(self.senders)]
        try:
            yield self
        finally:
            self.stopping.set()
            await asyncio.gather(*tasks)

    async def until_acknowledged(self, count: int, within: float = 30) -> None:
        target = len(self.acknowledged) + count
        for _ in range(int(within / 0.05)):
            if len(self.acknowledged) >= target:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"only {len(self.acknowledged)} acknowledged; refused: {self.refused[-5:]}")

    async def until_refused(self, count: int, within: float = 30) -> None:
        for _ in range(int(within / 0.05)):
            if len(self.refused) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"only {len(self.refused)} refused")


async def stored_message_ids(http: httpx2.AsyncClient, auth: Auth) -> set[str]:
    ids: set[str] = set()
    params: dict[str, Any] = {"limit": 1000}
    while True:
        response = await http.get(f"/telephony/v1/voiceCalls/{INBOUND_KEY}/messages", params=params, headers=auth())
        assert response.status_code == 200, response.text
        page = response.json()
        ids |= {entry["messageId"] for entry in page["entries"]}
        if page["next"] is None:
            return ids
        params["after"] = page["next"]


async def nothing_acknowledged_is_lost(cluster: Cluster, load: Load, supervisor: Listener) -> None:
    """Every acknowledged transcript is stored, and reached the supervisor's console on B once, in id order."""
    assert load.acknowledged <= await stored_message_ids(cluster.client(cluster.b), cluster.auth)

    def pushed() -> set[str]:
        return {m["messageId"] for m in supervisor.of("transcript.accepted")}

    try:
        await supervisor.until(lambda: load.acknowledged <= pushed(), within=30)
    except AssertionError:
        missing = sorted(load.acknowledged - pushed())
        raise AssertionError(f"{len(missing)} acknowledged transcripts never pushed, e.g. {missing[:10]}") from None
    assert_in_id_order(supervisor)


async def test_redis_going_away_under_load_loses_nothing(
    postgres: None, tmp_path: Path, key_pair: KeyPair, make_token: TokenFactory
) -> None:
    """Redis (a private server) stops under transcript load on A: both processes report 503 on /readyz while
    transcripts are still taken; Redis starts again; both recover by themselves, and every acknowledged
    transcript reaches the supervisor's console on B."""
    server = services.PrivateRedis(tmp_path)
    server.start()
    try:
        async with cluster_of("redis", tmp_path, key_pair, make_token, redis_url=server.url) as cluster:
            http_a = cluster.client(cluster.a)
            created = await http_a.post(
                "/telephony/v1/voiceCalls", json=payload("lambda_create_inbound"), headers=cluster.auth()
            )
            assert created.status_code == 200, created.text
            sam = await Console(http_a).sign_in(SAM)
            async with listening(cluster.b, sam) as supervisor:
                async with Load(http_a, cluster.auth).running() as load:
                    await load.until_acknowledged(100)
                    server.stop()
                    for process in (cluster.a, cluster.b):
                        assert "broker" in (await cluster.unready(process))["down"]
                    await load.until_acknowledged(100)  # the database still takes them
                    server.start()
                    for process in (cluster.a, cluster.b):
                        await cluster.ready(process)
                    await load.until_acknowledged(100)
                assert not load.refused, load.refused[:5]
                await nothing_acknowledged_is_lost(cluster, load, supervisor)
    finally:
        server.stop()


async def test_the_database_going_away_under_load_answers_503_and_loses_nothing(
    postgres: None, tmp_path: Path, key_pair: KeyPair, make_token: TokenFactory
) -> None:
    """Every connection to the database is cut and new ones are turned away for a while, under transcript load
    on A: requests get 503 with Retry-After (never a 500), /readyz says the database is down; once it takes
    connections again both processes recover by themselves, and every acknowledged transcript is stored and
    reached the supervisor's console on B."""
    async with cluster_of("postgresql", tmp_path, key_pair, make_token) as cluster:
        http_a, http_b = cluster.client(cluster.a), cluster.client(cluster.b)
        created = await http_a.post(
            "/telephony/v1/voiceCalls", json=payload("lambda_create_inbound"), headers=cluster.auth()
        )
        assert created.status_code == 200, created.text
        sam = await Console(http_a).sign_in(SAM)
        async with listening(cluster.b, sam) as supervisor:
            async with Load(http_a, cluster.auth).running() as load:
                await load.until_acknowledged(100)
                await services.allow_connections(cluster.database, False)
                try:
                    assert await services.terminate_connections(cluster.database) > 0
                    for process in (cluster.a, cluster.b):
                        assert "database" in (await cluster.unready(process))["down"]
                    read = await http_b.get(f"/telephony/v1/voiceCalls/{INBOUND_KEY}", headers=cluster.auth())
                    assert read.status_code == 503, read.text
                    assert read.headers["retry-after"] == "1"
                    assert read.json()["code"] == "SERVICE_UNAVAILABLE"
                    await load.until_refused(10)
                finally:
                    await services.allow_connections(cluster.database, True)
                for process in (cluster.a, cluster.b):
                    await cluster.ready(process)
                await load.until_acknowledged(100)
            assert {status for status, _, _ in load.refused} == {503}, load.refused[:5]
            assert {retry_after for _, retry_after, _ in load.refused} == {"1"}
            await nothing_acknowledged_is_lost(cluster, load, supervisor)
