"""The fast lane's choice: which requests it answers itself, and that what it leaves to the app arrives whole."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx2
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from callbridge.config import Settings
from callbridge.errors import NotFound
from callbridge.kit.fastlane import FastLane, HotRequest, HotResponse, HotRoute

LIMIT = 1024


async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Stands for FastAPI: echoes the body it received, so a test sees that nothing was lost on the way."""
    scope.setdefault("app", APP_HOLDER)
    request = Request(scope, receive)
    body = await request.body()
    await JSONResponse({"lane": "slow", "body": body.decode("latin-1")})(scope, receive, send)


async def echo(request: HotRequest) -> HotResponse:
    if request.params.get("key") == "missing":
        raise NotFound("No such thing.")
    return HotResponse.json({"lane": "fast", "key": request.params.get("key"), "data": request.data}, 201)


APP_HOLDER = SimpleNamespace(state=SimpleNamespace(callbridge=SimpleNamespace(settings=Settings(max_body_bytes=LIMIT))))


class WithApp:
    """Puts ``scope["app"]`` where Starlette would, then runs the lane."""

    def __init__(self) -> None:
        routes = [HotRoute("POST", "/things/all", echo), HotRoute("POST", "/things/{key}/parts", echo)]
        self.lane = FastLane(slow_app, routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = APP_HOLDER
        await self.lane(scope, receive, send)


@pytest.fixture
async def client() -> AsyncIterator[httpx2.AsyncClient]:
    transport = httpx2.ASGITransport(app=WithApp())
    async with httpx2.AsyncClient(transport=transport, base_url="http://lane.test") as http:
        yield http


async def answer(response: httpx2.Response) -> dict[str, Any]:
    result: dict[str, Any] = response.json()
    return result


async def test_a_json_object_on_a_hot_route_is_answered_by_the_lane(client: httpx2.AsyncClient) -> None:
    response = await client.post("/things/k1/parts", json={"a": 1})
    assert response.status_code == 201
    assert response.json() == {"lane": "fast", "key": "k1", "data": {"a": 1}}
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)


async def test_a_literal_path_and_a_trailing_slash_match(client: httpx2.AsyncClient) -> None:
    assert (await answer(await client.post("/things/all", json={})))["key"] is None
    assert (await answer(await client.post("/things/k2/parts/", json={})))["key"] == "k2"


async def test_an_empty_body_is_none_for_the_handler(client: httpx2.AsyncClient) -> None:
    response = await client.post("/things/k/parts", content=b"  ", headers={"content-type": "application/json"})
    assert response.json()["data"] is None


async def test_a_body_in_several_chunks_is_joined(client: httpx2.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b'{"a":', b" [1, 2", b"]}"):
            yield part

    response = await client.post("/things/k/parts", content=chunks(), headers={"content-type": "application/json"})
    assert response.json()["data"] == {"a": [1, 2]}


async def test_a_refusal_is_rendered_as_the_app_renders_it(client: httpx2.AsyncClient) -> None:
    response = await client.post("/things/missing/parts", json={})
    assert response.status_code == 404
    assert response.json() == {"code": "NOT_FOUND", "message": "No such thing.", "errors": []}


@pytest.mark.parametrize(
    ("method", "path", "content", "content_type"),
    [
        ("GET", "/things/k/parts", b"", "application/json"),
        ("POST", "/things/k/other", b"{}", "application/json"),
        ("POST", "/things/k/parts", b"<a>1</a>", "application/xml"),
        ("POST", "/things/k/parts", b'{"a": ', "application/json"),
        ("POST", "/things/k/parts", b'{"a": "\\u0000"}', "application/json"),
        ("POST", "/things/k/parts", b'{"a": "' + b"x" * LIMIT + b'"}', "application/json"),
    ],
    ids=["other-method", "other-path", "xml", "invalid-json", "nul", "too-large"],
)
async def test_what_the_lane_is_not_sure_of_reaches_the_app_whole(
    client: httpx2.AsyncClient, method: str, path: str, content: bytes, content_type: str
) -> None:
    response = await client.request(method, path, content=content, headers={"content-type": content_type})
    assert response.json() == {"lane": "slow", "body": content.decode("latin-1")}


async def test_a_body_larger_than_declared_limit_while_streaming_reaches_the_app_whole(
    client: httpx2.AsyncClient,
) -> None:
    """No content-length, the limit passed mid-stream: the chunks read so far and the rest arrive in order."""
    parts = [b'{"a": "', b"y" * 600, b"z" * 600, b'"}']

    async def chunks() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    response = await client.post("/things/k/parts", content=chunks(), headers={"content-type": "application/json"})
    assert response.json() == {"lane": "slow", "body": b"".join(parts).decode()}


async def test_a_root_path_leaves_everything_to_the_app() -> None:
    app = WithApp()
    transport = httpx2.ASGITransport(app=app, root_path="/behind-proxy")
    async with httpx2.AsyncClient(transport=transport, base_url="http://lane.test") as http:
        response = await http.post("/things/k/parts", json={"a": 1})
    assert response.json()["lane"] == "slow"
