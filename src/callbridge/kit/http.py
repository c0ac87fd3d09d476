"""HTTP plumbing shared by the telephony endpoints: routes with their trailing-slash twin, and the actor a
telephony request acts as in the timeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request

from callbridge.kit.fastlane import HotRequest
from callbridge.kit.uow import Actor

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def slash_twins(router: APIRouter) -> Callable[..., Callable[[Endpoint], Endpoint]]:
    """A ``route(path, **kwargs)`` decorator for ``router`` that registers the path with and without a trailing
    slash (real clients send both; the twin stays out of the OpenAPI document)."""

    def route(path: str, **kwargs: Any) -> Callable[[Endpoint], Endpoint]:
        def decorate(fn: Endpoint) -> Endpoint:
            router.add_api_route(path, fn, **kwargs)
            router.add_api_route(path + "/", fn, **{**kwargs, "include_in_schema": False})
            return fn

        return decorate

    return route


# Header values are cut to what the timeline's actor (VARCHAR(255)) and request (VARCHAR(512)) columns hold.
MAX_PROVIDER_NAME = 200
MAX_REQUEST_LINE = 512


def provider_name(request: Request) -> str | None:
    return header_provider(request.headers.get("telephony-provider-name"))


def header_provider(value: str | None) -> str | None:
    """The Telephony-Provider-Name header as stored: at most MAX_PROVIDER_NAME characters, no NUL."""
    if value is None or (len(value) <= MAX_PROVIDER_NAME and "\x00" not in value):
        return value
    return value[:MAX_PROVIDER_NAME].replace("\x00", "")


def actor_of(request: Request) -> Actor:
    """Telephony requests act as ``telephony:<Telephony-Provider-Name>`` (the header is optional)."""
    return telephony_actor(request.method, request.url.path, provider_name(request))


def hot_actor(request: HotRequest) -> Actor:
    """``actor_of`` for a fast-lane request (``callbridge.kit.fastlane``)."""
    return telephony_actor(
        request.method, request.path, header_provider(request.headers.get("telephony-provider-name"))
    )


def telephony_actor(method: str, path: str, provider: str | None) -> Actor:
    return Actor(name=f"telephony:{provider or 'unnamed'}", request=f"{method} {path}"[:MAX_REQUEST_LINE])
