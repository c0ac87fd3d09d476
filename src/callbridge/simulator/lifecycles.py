"""The order of things in each lifecycle, over the API (``Call`` holds the mechanics):

- **inbound**: create the call, IVR lines, ``omniFlow`` on the dialed number, an agent accepts the offer, the
  conversation (sometimes a hold or a paused recording), the agent closes the work, the contact-record update
  closes the call, sometimes a segment stamped after the disconnect, post-call events.
- **transfer**: as inbound, then a transfer leg (``parentVoiceCallId``, the queue) routed to a queue with
  ``route``; the first agent closes, the first leg's record arrives, a second agent takes the caller.
- **consult**: as inbound, then the agent holds the caller and consults a colleague on a consult leg routed to
  that colleague by name; the caller is taken off hold and handed over, the colleague finishes the call.
- **voicemail**: create, the greeting, ``isActiveCall: true`` with ``callOrigin: Voicemail``, the message,
  ``omniFlow``, the final update with the recording; an agent takes the voicemail when free.
- **missed**: create, IVR, ``omniFlow``, the caller hangs up before an agent takes it: ``clearRouting`` and the
  record.
- **callback**: create, IVR, ``requestCallback``, the record (``disconnectReason`` CALLBACK); an agent takes
  the ContactRequest when it is released.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from callbridge.client import CallbackRequest, CallOrigin, OmniFlowRequest, RouteRequest, VoiceCallUpdate
from callbridge.simulator.agents import HANDLING_SECONDS, Assignment, SimulatedAgent
from callbridge.simulator.calls import Call, Leg
from callbridge.simulator.scenarios import Lifecycle, Speaker
from callbridge.simulator.stats import Outcome, Route, RoutingOutcome, Stage


async def _omni_flow(call: Call, leg: Leg) -> tuple[Route, Assignment | None]:
    """``PATCH …/omniFlow`` as the Lambda's executeOmniFlow: dialed number and flow inputs."""
    inputs = {"IncomingCallPhoneNumber": call.plan.caller, "recordId": leg.id, **call.plan.flow_inputs}
    request = OmniFlowRequest(dialed_number=call.plan.dialed_number, flow_input_parameters=inputs)
    leg.enqueued = datetime.now(UTC)
    return await call.route(
        leg.id, lambda: call.client.execute_omni_flow(leg.key, request), patience=call.plan.patience
    )


async def _answered(call: Call) -> tuple[Leg, Assignment] | None:
    """Create, IVR, omniFlow and wait for an agent; None when the caller gave up (the call is then ended)."""
    call.stage(Stage.IVR)
    leg = await call.create_leg(call.key)
    await call.talk(call.plan.ivr)
    route, assignment = await _omni_flow(call, leg)
    if assignment is None:
        await call.abandon(leg, route)
        call.record.outcome = Outcome.ABANDONED
        return None
    call.owner = assignment
    call.speakers[Speaker.AGENT] = assignment.agent
    call.stage(Stage.TALKING)
    await call.talk(call.plan.talk)
    return leg, assignment


async def inbound(call: Call) -> None:
    answered = await _answered(call)
    if answered is None:
        return
    leg, assignment = answered
    await call.end_leg(leg, "CUSTOMER_DISCONNECT", assignment=assignment)
    call.owner = None
    call.record.outcome = Outcome.COMPLETED
    await call.after_call(assignment.accepted_wall)


async def transfer(call: Call) -> None:
    answered = await _answered(call)
    if answered is None:
        return
    first, assignment = answered
    second = call.plan.second_leg
    assert second is not None
    queue = second.queue
    leg = await call.create_leg(
        f"{call.key}-t", parent=call.key, queue=(queue.external_id or queue.api_name) if queue else None
    )
    await call.end_leg(first, "AGENT_DISCONNECT", assignment=assignment)
    call.owner = None
    leg.enqueued = datetime.now(UTC)
    if queue is not None:
        target = RouteRequest(routing_target=queue.api_name)
        route, taken = await call.route(
            leg.id, lambda: call.client.route_voice_call(leg.key, target), patience=call.plan.patience
        )
    else:
        route, taken = await _omni_flow(call, leg)
    if taken is None:
        await call.abandon(leg, route)
        call.record.outcome = Outcome.ABANDONED
        return
    call.owner = taken
    call.speakers[Speaker.AGENT] = taken.agent
    call.stage(Stage.TALKING)
    await call.talk(second.talk)
    await call.end_leg(leg, "CUSTOMER_DISCONNECT", assignment=taken)
    call.owner = None
    call.record.outcome = Outcome.TRANSFERRED
    await call.after_call(assignment.accepted_wall)


def _colleague(call: Call, agent: SimulatedAgent) -> SimulatedAgent | None:
    """A free colleague if there is one, else any other signed-in agent (the consult then waits for them)."""
    others = [other for other in call.ctx.agents if other is not agent and other.user_id]
    free = [other for other in others if not other.busy]
    pool = free or others
    return call.ctx.rng.choice(pool) if pool else None


async def consult(call: Call) -> None:
    answered = await _answered(call)
    if answered is None:
        return
    first, assignment = answered
    second = call.plan.second_leg
    assert second is not None
    colleague = _colleague(call, assignment.agent)
    if colleague is None:  # nobody to consult: the agent finishes the call alone
        await call.end_leg(first, "CUSTOMER_DISCONNECT", assignment=assignment)
        call.record.outcome = Outcome.COMPLETED
        await call.after_call(assignment.accepted_wall)
        return
    await call.control(assignment.agent, first, "hold")
    call.stage(Stage.ON_HOLD)
    held = asyncio.get_running_loop().time()
    leg = await call.create_leg(f"{call.key}-c", parent=call.key)
    leg.enqueued = datetime.now(UTC)
    target = RouteRequest(routing_target=colleague.username)
    route, taken = await call.route(
        leg.id, lambda: call.client.route_voice_call(leg.key, target), patience=call.plan.patience
    )
    if taken is None:  # the colleague never answered: back to the caller, who hangs up
        await call.stats.checked(call.client.clear_routing(leg.key))
        route.outcome = route.outcome or RoutingOutcome.ABANDONED
        await call.control(assignment.agent, first, "resume")
        first.holds.append(asyncio.get_running_loop().time() - held)
        await call.end_leg(first, "CUSTOMER_DISCONNECT", assignment=assignment)
        await call.end_leg(leg, "AGENT_DISCONNECT", assignment=None)
        call.record.outcome = Outcome.COMPLETED
        await call.after_call(assignment.accepted_wall)
        return
    call.speakers[Speaker.COLLEAGUE] = taken.agent
    call.stage(Stage.TALKING)
    await call.talk(second.consult)
    await call.control(assignment.agent, first, "resume")
    first.holds.append(asyncio.get_running_loop().time() - held)
    await call.end_leg(first, "AGENT_DISCONNECT", assignment=assignment)
    call.owner = taken
    await call.talk(second.talk)
    await call.end_leg(leg, "CUSTOMER_DISCONNECT", assignment=taken)
    call.owner = None
    call.record.outcome = Outcome.CONSULTED
    await call.after_call(assignment.accepted_wall)


async def _handled_when_taken(call: Call, route: Route, assignment: Assignment | None) -> None:
    """Work no caller waits on (a voicemail, a callback): the agent deals with it for a moment, then closes it."""
    if assignment is None:
        route.outcome = route.outcome or RoutingOutcome.WAITING
        return
    await assignment.agent.pause(call.ctx.rng.uniform(*HANDLING_SECONDS))
    await assignment.agent.close_work(assignment.work_id)


async def voicemail(call: Call) -> None:
    """As demo-scv-connector's sendVoiceMail and Amazon Connect's voicemail packager do it."""
    call.stage(Stage.IVR)
    leg = await call.create_leg(call.key)
    await call.talk(call.plan.ivr)
    assert call.plan.voicemail is not None
    seconds = max(5, round(call.plan.voicemail.words / 2.5))
    opened = VoiceCallUpdate(
        call_origin=CallOrigin.VOICEMAIL,
        is_active_call=True,
        start_time=leg.started,
        end_time=datetime.now(UTC) + timedelta(seconds=seconds),
    )
    await call.stats.checked(call.client.update_voice_call(leg.key, opened))
    await call.say(call.plan.voicemail)
    request = OmniFlowRequest(dialed_number=call.plan.dialed_number, flow_input_parameters={})
    leg.enqueued = datetime.now(UTC)
    pending = await call.request_route(leg.id, lambda: call.client.execute_omni_flow(leg.key, request))
    closing = VoiceCallUpdate(
        recording_location=f"callbridge-simulator/{call.ctx.run_id}/{leg.key}-voicemail.wav",
        total_recording_duration=seconds,
        call_center_api_name=call.ctx.site.call_center,
    )
    await call.stats.checked(call.client.update_voice_call(leg.key, closing))
    leg.ended = datetime.now(UTC)
    call.record.outcome = Outcome.VOICEMAIL
    await _handled_when_taken(call, pending.route, await call.wait_for_agent(pending, call.plan.patience))


async def missed(call: Call) -> None:
    call.stage(Stage.IVR)
    leg = await call.create_leg(call.key)
    await call.talk(call.plan.ivr)
    route, assignment = await _omni_flow(call, leg)
    if assignment is not None:  # an agent was quicker than the caller, who hangs up on them anyway
        call.owner = assignment
        await call.end_leg(leg, "CUSTOMER_DISCONNECT", assignment=None)
        call.owner = None
    else:
        await call.abandon(leg, route)
    call.record.outcome = Outcome.ABANDONED


async def callback(call: Call) -> None:
    """As the Lambda's callbackExecution: requestCallback during the call, then the record says CALLBACK."""
    call.stage(Stage.IVR)
    leg = await call.create_leg(call.key)
    await call.talk(call.plan.ivr)
    plan = call.plan.callback
    assert plan is not None
    delay = plan.scheduled_after
    when = datetime.now(UTC) + timedelta(seconds=delay / call.ctx.pace) if delay is not None else None
    request = CallbackRequest(
        callback_number=plan.number, is_preview_callback=plan.preview or None, scheduled_routing_date_time=when
    )
    pending = await call.request_route(
        leg.id, lambda: call.client.request_callback(leg.key, request), ready_after=delay or 0.0
    )
    await call.end_leg(leg, "CALLBACK", assignment=None)
    call.record.outcome = Outcome.CALLBACK
    assignment = await call.wait_for_agent(pending, call.plan.patience + (delay or 0.0))
    await _handled_when_taken(call, pending.route, assignment)


LIFECYCLES: dict[Lifecycle, Callable[[Call], Awaitable[None]]] = {
    Lifecycle.INBOUND: inbound,
    Lifecycle.TRANSFER: transfer,
    Lifecycle.CONSULT: consult,
    Lifecycle.VOICEMAIL: voicemail,
    Lifecycle.MISSED: missed,
    Lifecycle.CALLBACK: callback,
}
