"""Blocking twins of the async clients, for scripts and notebooks: ``CallbridgeClient`` and ``ConsoleClient``.

Each method runs its async counterpart on a private event loop in a background thread, so it can be called
from plain code and from inside a running event loop alike. Same arguments, results and exceptions.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator, Sequence
from types import TracebackType
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar, overload

import httpx2

from callbridge.client.console import AsyncConsoleClient
from callbridge.client.schemas import ConversationEvent, TranscriptEntry
from callbridge.client.telephony import AsyncCallbridgeClient
from callbridge.client.tokens import TokenSigner
from callbridge.client.transport import RetryPolicy

P = ParamSpec("P")
T = TypeVar("T")


class _Portal:
    """An event loop running in a daemon thread, and a way to wait for a coroutine on it."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="callbridge-client", daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


class _Blocking:
    _portal: _Portal
    _async: Any

    def close(self) -> None:
        """Close the connections and stop the background loop."""
        self._portal.run(self._async.aclose())
        self._portal.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _blocking(Generic[P, T]):
    """A method of the async client, run to completion on the portal."""

    def __init__(self, method: Callable[Concatenate[Any, P], Coroutine[Any, Any, T]]) -> None:
        self._name = method.__name__
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(self, instance: _Blocking, owner: type[Any]) -> Callable[P, T]: ...

    def __get__(self, instance: _Blocking | None, owner: type[Any]) -> Self | Callable[P, T]:
        if instance is None:
            return self
        target = getattr(instance._async, self._name)
        portal = instance._portal

        def call(*args: P.args, **kwargs: P.kwargs) -> T:
            result: T = portal.run(target(*args, **kwargs))
            return result

        call.__name__ = self._name
        call.__doc__ = self.__doc__
        return call


class CallbridgeClient(_Blocking):
    """The blocking ``AsyncCallbridgeClient``: the same methods, called without ``await``.

    >>> signer = TokenSigner.from_file("var/demo/private.key", "00D000000000001AAA", "DemoCC")  # doctest: +SKIP
    >>> with CallbridgeClient("http://127.0.0.1:8080", signer) as client:  # doctest: +SKIP
    ...     created = client.create_voice_call(VoiceCallCreate(vendor_call_key="c-2", to="+14155550100",
    ...                                                        from_="+14155550123"))
    ...     client.get_voice_call(created.voice_call_id).call_disposition
    'in-progress'
    """

    def __init__(
        self,
        base_url: str,
        signer: TokenSigner,
        *,
        provider_name: str | None = "callbridge-client",
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 10.0,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self._portal = _Portal()
        self._async = AsyncCallbridgeClient(
            base_url, signer, provider_name=provider_name, retry=retry, timeout=timeout, transport=transport
        )
        self.signer = signer

    @property
    def base_url(self) -> str:
        """The API base, ``<root>/telephony/v1``."""
        url: str = self._async.base_url
        return url

    create_voice_call = _blocking(AsyncCallbridgeClient.create_voice_call)
    update_voice_call = _blocking(AsyncCallbridgeClient.update_voice_call)
    get_voice_call = _blocking(AsyncCallbridgeClient.get_voice_call)
    get_timeline = _blocking(AsyncCallbridgeClient.get_timeline)
    send_transcript = _blocking(AsyncCallbridgeClient.send_transcript)
    send_transcripts = _blocking(AsyncCallbridgeClient.send_transcripts)
    list_messages = _blocking(AsyncCallbridgeClient.list_messages)
    send_realtime_events = _blocking(AsyncCallbridgeClient.send_realtime_events)
    send_post_call_events = _blocking(AsyncCallbridgeClient.send_post_call_events)
    list_conversation_events = _blocking(AsyncCallbridgeClient.list_conversation_events)
    execute_omni_flow = _blocking(AsyncCallbridgeClient.execute_omni_flow)
    route_voice_call = _blocking(AsyncCallbridgeClient.route_voice_call)
    reroute = _blocking(AsyncCallbridgeClient.reroute)
    clear_routing = _blocking(AsyncCallbridgeClient.clear_routing)
    request_callback = _blocking(AsyncCallbridgeClient.request_callback)
    get_routing = _blocking(AsyncCallbridgeClient.get_routing)
    get_voicemail_drop = _blocking(AsyncCallbridgeClient.get_voicemail_drop)
    get_default_outbound_phone_number = _blocking(AsyncCallbridgeClient.get_default_outbound_phone_number)
    get_voicemail_greeting = _blocking(AsyncCallbridgeClient.get_voicemail_greeting)
    reserve_routable_number = _blocking(AsyncCallbridgeClient.reserve_routable_number)
    create_voice_call_context = _blocking(AsyncCallbridgeClient.create_voice_call_context)
    raw_request = _blocking(AsyncCallbridgeClient.raw_request)

    def iter_messages(
        self, call_id: str, *, page_size: int = 100, include_dropped: bool = False
    ) -> Iterator[TranscriptEntry]:
        """Every entry of the conversation, in spoken order, fetching pages as needed."""
        after: str | None = None
        while True:
            page = self.list_messages(call_id, limit=page_size, after=after, include_dropped=include_dropped)
            yield from page.entries
            if page.next is None:
                return
            after = page.next

    def iter_conversation_events(
        self, call_id: str, *, types: Sequence[str] = (), page_size: int = 100
    ) -> Iterator[ConversationEvent]:
        """Every stored event of the conversation, in ``startTime`` order."""
        after: str | None = None
        while True:
            page = self.list_conversation_events(call_id, types=types, limit=page_size, after=after)
            yield from page.events
            if page.next is None:
                return
            after = page.next


class ConsoleClient(_Blocking):
    """The blocking ``AsyncConsoleClient``.

    >>> with ConsoleClient("http://127.0.0.1:8080") as agent:  # doctest: +SKIP
    ...     agent.sign_in("alice@demo.example.com", "secret")
    ...     agent.set_presence(Presence.AVAILABLE)
    """

    def __init__(
        self,
        base_url: str,
        *,
        session_token: str | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 10.0,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self._portal = _Portal()
        self._async = AsyncConsoleClient(
            base_url, session_token=session_token, retry=retry, timeout=timeout, transport=transport
        )

    @property
    def session_token(self) -> str | None:
        token: str | None = self._async.session_token
        return token

    sign_in = _blocking(AsyncConsoleClient.sign_in)
    sign_out = _blocking(AsyncConsoleClient.sign_out)
    me = _blocking(AsyncConsoleClient.me)
    set_presence = _blocking(AsyncConsoleClient.set_presence)
    offers = _blocking(AsyncConsoleClient.offers)
    wait_for_offer = _blocking(AsyncConsoleClient.wait_for_offer)
    accept_offer = _blocking(AsyncConsoleClient.accept_offer)
    decline_offer = _blocking(AsyncConsoleClient.decline_offer)
    work = _blocking(AsyncConsoleClient.work)
    close_work = _blocking(AsyncConsoleClient.close_work)
    pending = _blocking(AsyncConsoleClient.pending)
    hold = _blocking(AsyncConsoleClient.hold)
    resume = _blocking(AsyncConsoleClient.resume)
    pause_recording = _blocking(AsyncConsoleClient.pause_recording)
    resume_recording = _blocking(AsyncConsoleClient.resume_recording)
