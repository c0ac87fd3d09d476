"""``AsyncCallbridgeClient``: every ``/telephony/v1`` endpoint, typed, signed like Salesforce's own clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx2

from callbridge.client.errors import NotFoundError
from callbridge.client.outbound_schemas import (
    DefaultOutboundPhoneNumber,
    RoutableNumberReservation,
    RoutableNumberReserve,
    VoiceCallContextCreated,
    VoiceCallContextRequest,
    VoicemailDrop,
    VoicemailGreeting,
)
from callbridge.client.schemas import (
    BulkTranscriptEntry,
    BulkTranscriptsAccepted,
    BulkTranscriptsMultiStatus,
    BulkTranscriptsResult,
    CallbackCreated,
    CallbackRequest,
    CallRouting,
    ConversationEvent,
    ConversationEventPage,
    EventsAccepted,
    OmniFlowRequest,
    OmniFlowResult,
    PostConversationEvents,
    RealtimeConversationEvents,
    RouteRequest,
    RoutingStatus,
    Timeline,
    TranscriptEntry,
    TranscriptMessage,
    TranscriptPage,
    TranscriptsAccepted,
    UpdateAccepted,
    VoiceCall,
    VoiceCallCreate,
    VoiceCallCreated,
    VoiceCallUpdate,
)
from callbridge.client.tokens import TokenSigner
from callbridge.client.transport import NO_BODY, TELEPHONY_PREFIX, HttpSession, RetryPolicy, Sleep, parse


def _segment(value: str) -> str:
    return quote(value, safe="")


class AsyncCallbridgeClient:
    """A client of the Telephony Integration API, for Callbridge or any server that speaks it.

    ``base_url`` is the server's root or its API base (``SCRT_ENDPOINT_BASE``, ending ``/telephony/v1``).
    Every request carries a token newly signed by ``signer`` and ``Telephony-Provider-Name: provider_name``
    (``None`` leaves the header out). Errors raise ``callbridge.client.errors.ApiError`` subclasses carrying
    the status, the server's ``code`` and message. 429 and 503 are retried (honouring ``Retry-After``); other
    5xx only where repeating a request cannot change its outcome (see ``RetryPolicy``).

    >>> signer = TokenSigner.from_file("var/demo/private.key", "00D000000000001AAA", "DemoCC")  # doctest: +SKIP
    >>> async with AsyncCallbridgeClient("http://127.0.0.1:8080", signer) as client:  # doctest: +SKIP
    ...     created = await client.create_voice_call(
    ...         VoiceCallCreate(vendor_call_key="c-1", to="+14155550100", from_="+14155550123")
    ...     )
    ...     await client.send_transcript("c-1", TranscriptMessage(content="Hello, I need help."))
    ...     await client.update_voice_call(created.voice_call_id, VoiceCallUpdate(is_active_call=False))
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
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.signer = signer
        headers = {"Telephony-Provider-Name": provider_name} if provider_name else {}
        self.http = HttpSession(
            base_url,
            authorization=signer.authorization,
            headers=headers,
            retry=retry,
            timeout=timeout,
            transport=transport,
            sleep=sleep,
        )

    @property
    def base_url(self) -> str:
        """The API base, ``<root>/telephony/v1``."""
        return self.http.root + TELEPHONY_PREFIX

    async def __aenter__(self) -> AsyncCallbridgeClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: Any = NO_BODY,
        params: Mapping[str, str | int] | None = None,
        idempotent: bool,
    ) -> httpx2.Response:
        return await self.http.request(method, TELEPHONY_PREFIX + path, body=body, params=params, idempotent=idempotent)

    # ---- VoiceCall -------------------------------------------------------------------------------------------

    async def create_voice_call(self, call: VoiceCallCreate) -> VoiceCallCreated:
        """``POST /voiceCalls``. ``callCenterApiName`` defaults to the signer's call center.

        A first leg is created once per vendorCallKey (a resend returns the same id), so it is retried; a
        transfer leg (``parent_voice_call_id``) is not retried after a 5xx, which may have created it.
        """
        body = call.wire()
        body.setdefault("callCenterApiName", self.signer.call_center_api_name)
        response = await self._call("POST", "/voiceCalls", body=body, idempotent=call.parent_voice_call_id is None)
        return parse(response, VoiceCallCreated)

    async def update_voice_call(self, call_id: str, update: VoiceCallUpdate) -> UpdateAccepted:
        """``PATCH /voiceCalls/{id}`` by VoiceCall id or vendorCallKey (an unknown key creates the call).

        >>> await client.update_voice_call("c-1", VoiceCallUpdate(end_time=datetime.now(UTC)))  # doctest: +SKIP
        UpdateAccepted(status='pending')
        """
        response = await self._call("PATCH", f"/voiceCalls/{_segment(call_id)}", body=update.wire(), idempotent=True)
        return parse(response, UpdateAccepted)

    async def get_voice_call(self, call_id: str) -> VoiceCall:
        """``GET /voiceCalls/{id}`` (Callbridge addition): the record with its conversation, legs, recording."""
        response = await self._call("GET", f"/voiceCalls/{_segment(call_id)}", idempotent=True)
        return parse(response, VoiceCall)

    async def get_timeline(self, call_id: str) -> Timeline:
        """``GET /voiceCalls/{id}/timeline`` (Callbridge addition): what happened to the conversation, and why.

        >>> timeline = await client.get_timeline("c-1")  # doctest: +SKIP
        >>> [entry.reason for entry in timeline.of_kind("transcript.dropped")]  # doctest: +SKIP
        ['the call is on hold: transcription is paused and the message is not stored']
        """
        response = await self._call("GET", f"/voiceCalls/{_segment(call_id)}/timeline", idempotent=True)
        return parse(response, Timeline)

    # ---- transcripts -----------------------------------------------------------------------------------------

    async def send_transcript(self, vendor_call_key: str, message: TranscriptMessage) -> TranscriptsAccepted:
        """``POST /voiceCalls/{vendorCallKey}/messages``: one utterance. Retried with the same ``messageId``,
        which the server treats as the same message (a resend with new content replaces it)."""
        response = await self._call(
            "POST", f"/voiceCalls/{_segment(vendor_call_key)}/messages", body=message.wire(), idempotent=True
        )
        return parse(response, TranscriptsAccepted)

    async def send_transcripts(self, entries: Sequence[BulkTranscriptEntry]) -> BulkTranscriptsResult:
        """``POST /voiceCalls/messages``: several calls' utterances. 202: ``BulkTranscriptsAccepted``; 207:
        ``BulkTranscriptsMultiStatus`` with a result per entry (``status`` 202, 400 RESOURCE_EXHAUSTED, 404, 409;
        ``rate_limited_keys`` are the entries to send again later)."""
        body = {"entries": [entry.wire() for entry in entries]}
        response = await self._call("POST", "/voiceCalls/messages", body=body, idempotent=True)
        if response.status_code == 207:
            return parse(response, BulkTranscriptsMultiStatus)
        return parse(response, BulkTranscriptsAccepted)

    async def list_messages(
        self, call_id: str, *, limit: int | None = None, after: str | None = None, include_dropped: bool = False
    ) -> TranscriptPage:
        """``GET /voiceCalls/{id}/messages`` (Callbridge addition): one page of the conversation's entries;
        ``include_dropped`` adds the records of dropped messages with their ``drop_reason``."""
        params: dict[str, str | int] = {}
        if limit is not None:
            params["limit"] = limit
        if after is not None:
            params["after"] = after
        if include_dropped:
            params["include"] = "dropped"
        response = await self._call("GET", f"/voiceCalls/{_segment(call_id)}/messages", params=params, idempotent=True)
        return parse(response, TranscriptPage)

    async def iter_messages(
        self, call_id: str, *, page_size: int = 100, include_dropped: bool = False
    ) -> AsyncIterator[TranscriptEntry]:
        """Every entry of the conversation, in spoken order, fetching pages as needed."""
        after: str | None = None
        while True:
            page = await self.list_messages(call_id, limit=page_size, after=after, include_dropped=include_dropped)
            for entry in page.entries:
                yield entry
            if page.next is None:
                return
            after = page.next

    # ---- conversation intelligence ---------------------------------------------------------------------------

    async def send_realtime_events(self, vendor_call_key: str, events: RealtimeConversationEvents) -> EventsAccepted:
        """``POST /voiceCalls/{vendorCallKey}/realtimeConversationEvents`` (202). Not retried after a 5xx:
        a repeated signal would reach the consoles twice."""
        response = await self._call(
            "POST",
            f"/voiceCalls/{_segment(vendor_call_key)}/realtimeConversationEvents",
            body=events.wire(),
            idempotent=False,
        )
        return parse(response, EventsAccepted)

    async def send_post_call_events(self, vendor_call_key: str, events: PostConversationEvents) -> EventsAccepted:
        """``POST /voiceCalls/{vendorCallKey}/postConversationEvents`` (202), only once the call has ended
        (409 ``CONVERSATION_NOT_CLOSED`` before). A resent event is recognised as a duplicate."""
        response = await self._call(
            "POST",
            f"/voiceCalls/{_segment(vendor_call_key)}/postConversationEvents",
            body=events.wire(),
            idempotent=True,
        )
        return parse(response, EventsAccepted)

    async def list_conversation_events(
        self,
        call_id: str,
        *,
        types: Sequence[str] = (),
        limit: int | None = None,
        after: str | None = None,
    ) -> ConversationEventPage:
        """``GET /voiceCalls/{id}/conversationEvents`` (Callbridge addition): one page of the stored events."""
        params: dict[str, str | int] = {}
        if types:
            params["type"] = ",".join(types)
        if limit is not None:
            params["limit"] = limit
        if after is not None:
            params["after"] = after
        response = await self._call(
            "GET", f"/voiceCalls/{_segment(call_id)}/conversationEvents", params=params, idempotent=True
        )
        return parse(response, ConversationEventPage)

    async def iter_conversation_events(
        self, call_id: str, *, types: Sequence[str] = (), page_size: int = 100
    ) -> AsyncIterator[ConversationEvent]:
        """Every stored event of the conversation, in ``startTime`` order."""
        after: str | None = None
        while True:
            page = await self.list_conversation_events(call_id, types=types, limit=page_size, after=after)
            for event in page.events:
                yield event
            if page.next is None:
                return
            after = page.next

    # ---- routing ---------------------------------------------------------------------------------------------

    async def execute_omni_flow(self, call_id: str, request: OmniFlowRequest) -> OmniFlowResult:
        """``PATCH /voiceCalls/{id}/omniFlow``: decide the route and create the PendingServiceRouting.

        >>> await client.execute_omni_flow("c-1", OmniFlowRequest(dialed_number="+14155550100"))  # doctest: +SKIP
        OmniFlowResult(agent=None, queue='arn:aws:connect:...:queue/q-support')
        """
        response = await self._call(
            "PATCH", f"/voiceCalls/{_segment(call_id)}/omniFlow", body=request.wire(), idempotent=True
        )
        return parse(response, OmniFlowResult)

    async def route_voice_call(
        self, call_id: str, request: RouteRequest, *, documented_path: bool = False
    ) -> RoutingStatus:
        """Route to an agent, queue or flow: ``PATCH /voiceCalls/route/{id}`` as Salesforce's clients send it,
        or the documentation's ``POST /voiceCalls/{id}/routeVoiceCall`` with ``documented_path=True``."""
        if documented_path:
            method, path = "POST", f"/voiceCalls/{_segment(call_id)}/routeVoiceCall"
        else:
            method, path = "PATCH", f"/voiceCalls/route/{_segment(call_id)}"
        response = await self._call(method, path, body=request.wire(), idempotent=True)
        return parse(response, RoutingStatus)

    async def reroute(self, call_id: str) -> RoutingStatus:
        """``PATCH /voiceCalls/{id}/reroute`` (body ``null``, as the Lambdas send): close the accepted work and
        route again to someone else. Not retried after a 5xx (a second reroute passes over another agent)."""
        response = await self._call("PATCH", f"/voiceCalls/{_segment(call_id)}/reroute", body=None, idempotent=False)
        return parse(response, RoutingStatus)

    async def clear_routing(self, call_id: str) -> RoutingStatus:
        """``PATCH /voiceCalls/{id}/clearRouting`` (body ``null``): remove the pending routing, if any."""
        response = await self._call(
            "PATCH", f"/voiceCalls/{_segment(call_id)}/clearRouting", body=None, idempotent=True
        )
        return parse(response, RoutingStatus)

    async def request_callback(self, call_id: str, request: CallbackRequest) -> CallbackCreated:
        """``POST /voiceCalls/{id}/requestCallback``: a ContactRequest routed by the call center's callback
        routing. Not retried after a 5xx (it may have created one)."""
        response = await self._call(
            "POST", f"/voiceCalls/{_segment(call_id)}/requestCallback", body=request.wire(), idempotent=False
        )
        return parse(response, CallbackCreated)

    async def get_routing(self, call_id: str) -> CallRouting:
        """``GET /voiceCalls/{id}/routing`` (Callbridge addition): PSRs, agent work and callbacks of the call."""
        response = await self._call("GET", f"/voiceCalls/{_segment(call_id)}/routing", idempotent=True)
        return parse(response, CallRouting)

    # ---- the newest endpoints (Salesforce's 2026 Lambdas call them) -------------------------------------------

    async def get_voicemail_drop(self, call_id: str) -> VoicemailDrop | None:
        """``GET /voiceCalls/{id}/voicemailDrop``: the drop the agent picked, or ``None`` when none was picked
        (the 404 VOICEMAIL_DROP_NOT_FOUND the Lambda reads as "no drop")."""
        try:
            response = await self._call("GET", f"/voiceCalls/{_segment(call_id)}/voicemailDrop", idempotent=True)
        except NotFoundError as error:
            if error.code == "VOICEMAIL_DROP_NOT_FOUND":
                return None
            raise
        return parse(response, VoicemailDrop)

    async def get_default_outbound_phone_number(self, external_rep_id: str) -> DefaultOutboundPhoneNumber:
        """``GET /voiceCalls/defaultOutboundPhoneNumber?externalRepId=``: the agent's (by external id, e.g. their
        Amazon Connect ARN) default outbound caller id, else the call center's."""
        params = {"externalRepId": external_rep_id}
        response = await self._call("GET", "/voiceCalls/defaultOutboundPhoneNumber", params=params, idempotent=True)
        return parse(response, DefaultOutboundPhoneNumber)

    async def get_voicemail_greeting(self, to_phone_number: str) -> VoicemailGreeting:
        """``GET /voiceCalls/voicemailGreeting?toPhoneNumber=``: the greeting of the dialed number's channel."""
        params = {"toPhoneNumber": to_phone_number}
        response = await self._call("GET", "/voiceCalls/voicemailGreeting", params=params, idempotent=True)
        return parse(response, VoicemailGreeting)

    async def reserve_routable_number(self, request: RoutableNumberReserve) -> RoutableNumberReservation:
        """``POST /voiceCalls/reserveRoutableNumber``: a pooled number leased for the call center's TTL. An
        exhausted pool raises ``RateLimitError`` (``retry_after``) once waiting for it is over the policy's bound.
        Not retried after a 5xx (it may have reserved a number)."""
        response = await self._call("POST", "/voiceCalls/reserveRoutableNumber", body=request.wire(), idempotent=False)
        return parse(response, RoutableNumberReservation)

    async def create_voice_call_context(self, request: VoiceCallContextRequest) -> VoiceCallContextCreated:
        """``POST /voiceCalls/createVoiceCallContext``: a correlationId that a later create is linked with (by
        ``callAttributes.correlationId``, or by its from and to numbers)."""
        response = await self._call("POST", "/voiceCalls/createVoiceCallContext", body=request.wire(), idempotent=False)
        return parse(response, VoiceCallContextCreated)

    # ---- anything else ---------------------------------------------------------------------------------------

    async def raw_request(
        self,
        method: str,
        path: str,
        *,
        body: Any = NO_BODY,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        authorization: bool = True,
    ) -> httpx2.Response:
        """One request exactly as given, relative to ``/telephony/v1`` (``body`` JSON-encoded, or ``content``
        as bytes): no retry, no error raised, the raw response. For conformance checks and odd cases (a
        trailing slash, ``Content-Type: application/json; utf-8``, another token via
        ``headers={"Authorization": ...}``, none with ``authorization=False``).

        >>> await client.raw_request("PATCH", "/voiceCalls/c-1/clearRouting", content=b"null")  # doctest: +SKIP
        <Response [200 OK]>
        """
        if body is not NO_BODY:
            content = json.dumps(body, separators=(",", ":")).encode()
        return await self.http.send(
            method, TELEPHONY_PREFIX + path, content=content, headers=headers, authorization=authorization
        )
