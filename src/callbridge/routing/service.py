"""The routing requests of the Telephony Integration API: omniFlow, route, reroute, clearRouting and
requestCallback. Each decision is explained in the call's timeline; a routing failure is recorded there
too (the caller commits, then answers ROUTING_FAILED)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.auth.context import CallCenterContext
from callbridge.config import Settings
from callbridge.kit import ids
from callbridge.kit.times import isoformat_z
from callbridge.kit.uow import UnitOfWork
from callbridge.models import ContactRequest, PendingServiceRouting, VoiceCall
from callbridge.routing import engine, repository
from callbridge.routing.decide import Decider, Decision, Target, looks_like
from callbridge.routing.directory import directory
from callbridge.routing.engine import WorkStatus, record
from callbridge.routing.errors import CallEnded, ConcurrentRouting, NothingToReroute, RoutingFailed
from callbridge.routing.flows import FlowContext
from callbridge.routing.schemas import CallbackRequest, OmniFlowRequest, OmniFlowResult, RouteRequest
from callbridge.voice_calls import repository as calls
from callbridge.voice_calls.errors import VoiceCallNotFound
from callbridge.voice_calls.schemas import RestoresPlus

PENDING_SERVICE_ROUTING = "0JR"
VOICE_WEIGHT = 100  # a voice call takes the whole of a default capacity (PendingServiceRouting.CapacityWeight)


async def resolve_call(uow: UnitOfWork, context: CallCenterContext, id_or_key: str) -> VoiceCall:
    call = await calls.resolve(uow.session, context.call_center_id, id_or_key)
    if call is None:
        raise VoiceCallNotFound(id_or_key)
    return call


def has_ended(call: VoiceCall) -> bool:
    """An end time, or closed (isActiveCall false): nobody is on the line any more."""
    return call.call_end_date_time is not None or not call.is_active_call


def refuse_if_ended(uow: UnitOfWork, call: VoiceCall, request: str) -> CallEnded | None:
    """An ended call that is not a voicemail is never offered to an agent: the refusal, recorded in the
    timeline (the caller commits it, then answers 409 CALL_ENDED); None when the call may be routed."""
    if call.call_origin == "Voicemail" or not has_ended(call):
        return None
    ended = isoformat_z(call.call_end_date_time) if call.call_end_date_time else None
    uow.record(
        call_center_id=call.call_center_id,
        voice_call_id=call.id,
        conversation_id=call.conversation_id,
        kind="routing.refused",
        outcome="refused",
        reason=f"{request}: the call has ended"
        + (f" (endTime {ended})" if ended else " (isActiveCall false)")
        + "; only voicemails are routed after their end",
        data={"request": request, "code": "CALL_ENDED", "callEndDateTime": ended},
    )
    return CallEnded(call.id, request)


def note_restored(uow: UnitOfWork, call: VoiceCall, body: RestoresPlus, request: str) -> None:
    """A phone number whose '+' arrived as a space and was given back, in the timeline."""
    if body.plus_restored:
        uow.record(
            call_center_id=call.call_center_id,
            voice_call_id=call.id,
            conversation_id=call.conversation_id,
            kind="request.number_restored",
            outcome="normalised",
            reason="; ".join(body.plus_restored),
            data={"request": request},
        )


def flow_context(call: VoiceCall, inputs: dict[str, Any], dialed_number: str | None = None) -> FlowContext:
    return FlowContext(
        inputs=inputs,
        attributes=call.call_attributes,
        call={
            "from": call.from_phone_number,
            "to": call.to_phone_number,
            "initiationMethod": call.call_type,
            "callOrigin": call.call_origin,
            "callSubtype": call.call_subtype,
            "dialedNumber": dialed_number,
            "vendorCallKey": call.vendor_call_key,
        },
    )


def _record_steps(uow: UnitOfWork, call: VoiceCall, decision: Decision) -> None:
    for step in decision.steps:
        uow.record(
            call_center_id=call.call_center_id,
            voice_call_id=call.id,
            conversation_id=call.conversation_id,
            kind=step.kind,
            outcome=step.outcome,
            reason=step.reason,
            data=step.data,
        )


def _failed(uow: UnitOfWork, call: VoiceCall, decision: Decision, request: str, what: str = "call") -> RoutingFailed:
    uow.record(
        call_center_id=call.call_center_id,
        voice_call_id=call.id,
        conversation_id=call.conversation_id,
        kind="routing.failed",
        outcome="failed",
        reason="; ".join(decision.tried) or "nothing to try",
        data={"request": request, "tried": decision.tried},
    )
    return RoutingFailed(decision.tried, what)


@dataclass(frozen=True)
class WorkItem:
    id: str
    type: str  # VoiceCall or ContactRequest
    call: VoiceCall


async def create_psr(
    uow: UnitOfWork,
    org_id: str,
    item: WorkItem,
    target: Target,
    decision: Decision,
    *,
    ready_at: datetime | None = None,
    passed_over: list[str] | None = None,
) -> PendingServiceRouting:
    """The work item's one PendingServiceRouting (a previous one is replaced, its offer withdrawn)."""
    session = uow.session
    now = uow.clock.now()
    existing = (
        await repository.psr_of_work_item(session, item.id) if await repository.has_psr(session, item.id) else None
    )
    if existing is not None:
        await engine.remove_psr(uow, existing, "a new routing request replaced this one")
        record(uow, existing, "routing.psr_replaced", "removed", "a new routing request replaced it", psrId=existing.id)
    # An agent already had the call (its agent is set on accept): routing it again is a transfer.
    handled = item.call.agent_username is not None
    psr = PendingServiceRouting(
        id=ids.new_id(PENDING_SERVICE_ROUTING),
        org_id=org_id,
        call_center_id=item.call.call_center_id,
        work_item_id=item.id,
        work_item_type=item.type,
        voice_call_id=item.call.id,
        conversation_id=item.call.conversation_id,
        routing_type=target.routing_type,
        queue_id=target.queue.id if target.queue else None,
        queue_name=target.queue.api_name if target.queue else None,
        skills=dict(target.skills),
        preferred_user_id=target.agent.user_id if target.agent else None,
        is_preferred_user_required=target.agent_required,
        priority=target.priority,
        push_timeout=target.push_timeout,
        capacity_weight=VOICE_WEIGHT,
        is_transfer=item.type == "VoiceCall" and (item.call.call_type == "Transfer" or handled),
        is_ready_for_routing=ready_at is None or ready_at <= now,
        ready_at=ready_at or now,
        declined_by=passed_over or [],
        decision={"source": decision.source, "tried": decision.tried, "target": target.as_data()},
        created_at=now,
    )
    try:
        await repository.insert_new(session, psr)
    except IntegrityError as error:  # another transaction routed the same item meanwhile: retry from scratch
        raise ConcurrentRouting(item.id) from error
    changes: dict[str, Any] = {}
    if item.type == "VoiceCall" and target.queue is not None:
        call = item.call
        if call.queue_name != target.queue.api_name:
            call.queue_name = changes["queueName"] = target.queue.api_name
        if call.call_queued_date_time is None:
            call.call_queued_date_time = now
            changes["callQueuedDateTime"] = isoformat_z(now)
        call.updated_at = now
    record(
        uow,
        psr,
        "routing.psr_created",
        "created" if psr.is_ready_for_routing else "scheduled",
        f"decided by {decision.source}: {target.describe()}",
        psrId=psr.id,
        isTransfer=psr.is_transfer,
        readyAt=isoformat_z(psr.ready_at),
        target=target.as_data(),
        changes=changes,
    )
    return psr


def _answer(target: Target) -> OmniFlowResult:
    """External ids of the target, falling back to the Salesforce id when it has none."""
    if target.queue is not None:
        return OmniFlowResult(queue=target.queue.external_id or target.queue.id)
    if target.agent is not None:
        return OmniFlowResult(agent=target.agent.external_id or target.agent.user_id)
    return OmniFlowResult()


async def decide_omni_flow(
    session: AsyncSession, call: VoiceCall, org_id: str, body: OmniFlowRequest, push_timeout: int
) -> Decision:
    """Where omniFlow routes the call (reads only): voicemail routing (voicemail calls), then the phone
    channel of ``dialedNumber`` (flow, then its fallback queue), then ``flowDevName``, then ``fallbackQueue``."""
    inputs = dict(body.flow_input_parameters or {})
    if body.transfer_target is not None:
        inputs.setdefault("transferTarget", body.transfer_target)
    decider = Decider(session, org_id, flow_context(call, inputs, body.dialed_number), push_timeout)
    if call.call_origin == "Voicemail":
        await _routing_setting(session, decider, call.call_center_id, "voicemail")
    if not decider.decision.decided and body.dialed_number:
        channel = (await directory(session)).phone_channel(call.call_center_id, body.dialed_number)
        if channel is None:
            decider.note(f"dialedNumber {body.dialed_number}: no phone channel has this number")
        else:
            via = f"phone channel {channel.dialed_number}"
            routed = channel.flow is not None and await decider.flow(channel.flow, via)
            if not routed and channel.fallback_queue is not None:
                await decider.queue(channel.fallback_queue, f"{via} fallback queue")
    if decider.decision.decided and body.flow_dev_name and body.dialed_number:
        decider.skipped(
            "flowDevName",
            body.flow_dev_name,
            f"{decider.decision.source} takes precedence over the request's flowDevName {body.flow_dev_name}",
        )
    if not decider.decision.decided and body.flow_dev_name:
        await decider.flow(body.flow_dev_name, "flowDevName")
    if not decider.decision.decided and body.fallback_queue:
        await decider.queue(body.fallback_queue, "fallbackQueue")
    return decider.decision


async def omni_flow(
    uow: UnitOfWork, context: CallCenterContext, id_or_key: str, body: OmniFlowRequest, settings: Settings
) -> OmniFlowResult | RoutingFailed | CallEnded:
    """Decide, explain, create the PSR and offer it at once; the answer names the target's external ids."""
    call = await resolve_call(uow, context, id_or_key)
    note_restored(uow, call, body, "omniFlow")
    if (ended := refuse_if_ended(uow, call, "omniFlow")) is not None:
        return ended
    decision = await decide_omni_flow(uow.session, call, context.org_id, body, settings.routing_push_timeout_seconds)
    _record_steps(uow, call, decision)
    if decision.target is None:
        return _failed(uow, call, decision, "omniFlow")
    await create_psr(uow, context.org_id, WorkItem(call.id, "VoiceCall", call), decision.target, decision)
    await engine.dispatch(uow, context.org_id)
    return _answer(decision.target)


async def _routing_setting(session: AsyncSession, decider: Decider, call_center_id: str, name: str) -> None:
    """The call center's ``callback`` or ``voicemail`` routing: its flow, then its fallback queue."""
    call_center = await repository.get_call_center(session, call_center_id)
    setting = call_center.settings.get(name)
    if not isinstance(setting, dict) or not setting:
        decider.note(
            f"{name} routing: call center {call_center.api_name} has none ({name}.flow / {name}.fallback_queue)"
        )
        return
    routed = "flow" in setting and await decider.flow(str(setting["flow"]), f"{name} routing")
    if not routed and "fallback_queue" in setting:
        await decider.queue(str(setting["fallback_queue"]), f"{name} fallback queue")


async def route(
    uow: UnitOfWork, context: CallCenterContext, id_or_key: str, body: RouteRequest, settings: Settings
) -> RoutingFailed | CallEnded | None:
    """``routingTarget`` names an agent, a queue or a flow (ids by prefix, else by name); ``fallbackQueue``
    is taken when it fails."""
    call = await resolve_call(uow, context, id_or_key)
    if (ended := refuse_if_ended(uow, call, "routeVoiceCall")) is not None:
        return ended
    ctx = flow_context(call, dict(body.flow_input_parameters or {}))
    decider = Decider(uow.session, context.org_id, ctx, settings.routing_push_timeout_seconds)
    target, via, names = body.routing_target, "routingTarget", await directory(uow.session)
    if looks_like(target, ids.USER):
        await decider.agent(target, via)
    elif looks_like(target, ids.QUEUE):
        await decider.queue(target, via, fallback=False)
    elif looks_like(target, ids.FLOW):
        await decider.flow(target, via)
    elif names.queue(context.org_id, target) is not None:
        await decider.queue(target, via, fallback=False)
    elif names.agent(context.org_id, target) is not None:
        await decider.agent(target, via)
    elif names.flow(context.org_id, target) is not None:
        await decider.flow(target, via)
    else:
        decider.note(f"routingTarget {target}: no agent, queue or flow has this id or name")
    if not decider.decision.decided and body.fallback_queue:
        await decider.queue(body.fallback_queue, "fallbackQueue")
    decision = decider.decision
    _record_steps(uow, call, decision)
    if decision.target is None:
        return _failed(uow, call, decision, "routeVoiceCall")
    await create_psr(uow, context.org_id, WorkItem(call.id, "VoiceCall", call), decision.target, decision)
    await engine.dispatch(uow, context.org_id)
    return None


async def reroute(uow: UnitOfWork, context: CallCenterContext, id_or_key: str) -> CallEnded | None:
    """Pass the call over its current agent (accepted work closed, or the standing offer withdrawn), else over
    the agent it was last offered to, and route it again without a preferred agent."""
    session = uow.session
    call = await resolve_call(uow, context, id_or_key)
    if (ended := refuse_if_ended(uow, call, "reroute")) is not None:
        return ended
    psr = await repository.psr_of_work_item(session, call.id)
    reason = "rerouted: the telephony system asked for another agent"
    current: list[str] = []
    for work in await repository.works_of_item(session, call.id, WorkStatus.opened.value):
        await engine.close(uow, work, WorkStatus.closed, reason)
        current.append(work.user_id)
    if psr is not None and psr.offer_id is not None:
        offer = await repository.get_work(session, psr.offer_id)
        if offer is not None and await engine.end_offer(uow, offer, WorkStatus.canceled, reason, pass_over=True):
            current.append(offer.user_id)
    history = [w for w in await repository.works_of_call(session, call.id) if w.work_item_id == call.id]
    if not current and history:
        current.append(history[-1].user_id)  # nobody has it now: pass over the agent it was last offered to
    if psr is not None:
        psr = await repository.psr_of_work_item(session, call.id)  # refreshed: the withdrawal changed it
    if psr is not None:
        routing, passed_over = engine.routing_of(psr), [str(user) for user in psr.declined_by]
    elif history:
        routing, passed_over = history[-1].routing, []
    else:
        raise NothingToReroute(call.id)
    passed_over += [user for user in current if user not in passed_over]
    dropped = routing.get("preferredUserId")
    new_psr = await _psr_again(uow, context.org_id, call, routing, passed_over)
    record(
        uow,
        new_psr,
        "routing.rerouted",
        "rerouted",
        "passed over "
        + (", ".join(current) if current else "nobody (the call was never offered)")
        + (f"; the preferred agent {dropped} was dropped" if dropped else "")
        + f"; routed again to {new_psr.queue_name or 'any eligible agent'}",
        psrId=new_psr.id,
        passedOver=passed_over,
        droppedPreferredUserId=dropped,
    )
    await engine.dispatch(uow, context.org_id)
    return None


async def _psr_again(
    uow: UnitOfWork, org_id: str, call: VoiceCall, routing: dict[str, Any], passed_over: list[str]
) -> PendingServiceRouting:
    """A PSR asking again for what ``routing`` (a PSR's or a work's) asked, without its preferred agent: a
    route that required one agent goes to the call's queue instead (any agent of the org when it has none)."""
    names = await directory(uow.session)
    queue = names.queue_by_id(routing["queueId"]) if routing.get("queueId") else None
    routing_type = routing["routingType"]
    if queue is None and routing.get("isPreferredUserRequired") and call.queue_name:
        queue = names.queue(org_id, call.queue_name)
        routing_type = "QueueBased" if queue is not None else routing_type
    target = Target(
        routing_type,
        queue=queue,
        skills=routing.get("skills") or {},
        priority=int(routing.get("priority", 1)),
        push_timeout=int(routing.get("pushTimeout", 0)),
    )
    decision = Decision(target=target, source="reroute (the routing asked for before, without its preferred agent)")
    return await create_psr(
        uow, org_id, WorkItem(call.id, "VoiceCall", call), target, decision, passed_over=passed_over
    )


async def clear_routing(uow: UnitOfWork, context: CallCenterContext, id_or_key: str) -> None:
    """Delete the call's pending routing (withdrawing a standing offer); nothing to clear is fine too."""
    call = await resolve_call(uow, context, id_or_key)
    psr = await repository.psr_of_work_item(uow.session, call.id)
    if psr is None:
        uow.record(
            call_center_id=call.call_center_id,
            voice_call_id=call.id,
            conversation_id=call.conversation_id,
            kind="routing.cleared",
            outcome="unchanged",
            reason="the call has no pending routing",
        )
        return
    await clear_pending(uow, psr, "clearRouting removed the pending routing")


async def clear_pending(uow: UnitOfWork, psr: PendingServiceRouting, reason: str) -> bool:
    """Delete a pending routing, withdrawing its standing offer, and say why in the call's timeline (clearRouting,
    and a supervisor in the console); False when another request removed it first (nothing is recorded then)."""
    if not await engine.remove_psr(uow, psr, reason):
        return False
    record(uow, psr, "routing.cleared", "cleared", reason, psrId=psr.id)
    await engine.dispatch(uow, psr.org_id)
    return True


CALLBACK_UNROUTED = "Unrouted"  # a ContactRequest nothing could route: it waits for a supervisor


async def request_callback(
    uow: UnitOfWork, context: CallCenterContext, id_or_key: str, body: CallbackRequest, settings: Settings
) -> str:
    """A ContactRequest, always recorded: routed by the call center's callback flow or fallback queue, else by
    the original call's queue, when it is scheduled; when nothing routes it, it waits, visible to supervisors."""
    call = await resolve_call(uow, context, id_or_key)
    note_restored(uow, call, body, "requestCallback")
    scheduled = body.scheduled_routing_date_time
    inputs: dict[str, Any] = {"callbackNumber": body.callback_number, "isPreviewCallback": body.is_preview_callback}
    if scheduled is not None:
        inputs["scheduledRoutingDateTime"] = isoformat_z(scheduled)
    decider = Decider(uow.session, context.org_id, flow_context(call, inputs), settings.routing_push_timeout_seconds)
    await _routing_setting(uow.session, decider, call.call_center_id, "callback")
    if not decider.decision.decided:
        original = await _original_queue(uow.session, call)
        if original is None:
            decider.note("the original call's queue: the call was never queued")
        else:
            await decider.queue(original, "the original call's queue")
    decision = decider.decision
    _record_steps(uow, call, decision)
    now = uow.clock.now()
    request = ContactRequest(
        id=ids.new_id(ids.CONTACT_REQUEST),
        call_center_id=call.call_center_id,
        voice_call_id=call.id,
        callback_number=body.callback_number,
        is_preview_callback=body.is_preview_callback,
        scheduled_routing_at=scheduled,
        status="New" if decision.target is not None else CALLBACK_UNROUTED,
        created_at=now,
    )
    uow.session.add(request)
    details: dict[str, Any] = {
        "contactRequestId": request.id,
        "callbackNumber": body.callback_number,
        "isPreviewCallback": body.is_preview_callback,
        "scheduledRoutingDateTime": isoformat_z(scheduled) if scheduled else None,
    }
    if decision.target is None:
        uow.record(
            call_center_id=call.call_center_id,
            voice_call_id=call.id,
            conversation_id=call.conversation_id,
            kind="routing.callback_waiting",
            outcome="waiting",
            reason="nothing can route the callback ("
            + "; ".join(decision.tried)
            + "): it is kept and waits, listed for supervisors",
            data={**details, "tried": decision.tried},
        )
        return request.id
    psr = await create_psr(
        uow, context.org_id, WorkItem(request.id, "ContactRequest", call), decision.target, decision, ready_at=scheduled
    )
    later = not psr.is_ready_for_routing
    record(
        uow,
        psr,
        "routing.callback_scheduled" if later else "routing.callback_requested",
        "scheduled" if later else "created",
        f"released for routing at {isoformat_z(psr.ready_at)}" if later else "routed now",
        **details,
    )
    if not later:
        await engine.dispatch(uow, context.org_id)
    return request.id


async def _original_queue(session: AsyncSession, call: VoiceCall) -> str | None:
    """The queue the call waited in: its QueueName, else the queue of its last routing."""
    if call.queue_name:
        return call.queue_name
    for work in reversed(await repository.works_of_call(session, call.id)):
        if work.routing.get("queueId"):
            return str(work.routing["queueId"])
    return None
