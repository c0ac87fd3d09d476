"""The calls of a run, planned from a seed: which lifecycle each call follows and everything that is said.

Planning is pure: the same seed, number of calls, mix and site give the same plans, utterance for utterance
(message ids included). Only timing is left to the run (when an agent is free, how fast the server answers).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from callbridge.simulator import phrases
from callbridge.simulator.phrases import Topic
from callbridge.simulator.site import Queue, Site


class Lifecycle(StrEnum):
    INBOUND = "inbound"  # IVR, omniFlow, an agent takes it, talk, close, post-call
    TRANSFER = "transfer"  # as inbound, then a second leg to a queue taken by another agent
    CONSULT = "consult"  # as inbound, then the agent consults a colleague on a consult leg and hands over
    VOICEMAIL = "voicemail"  # a message left out of hours, routed to an agent who listens to it
    MISSED = "missed"  # the caller hangs up before an agent takes the call: clearRouting
    CALLBACK = "callback"  # the caller asks to be called back: requestCallback, the agent takes the request


DEFAULT_MIX: Final[Mapping[Lifecycle, int]] = {
    Lifecycle.INBOUND: 45,
    Lifecycle.TRANSFER: 12,
    Lifecycle.CONSULT: 8,
    Lifecycle.VOICEMAIL: 10,
    Lifecycle.MISSED: 13,
    Lifecycle.CALLBACK: 12,
}


def parse_mix(text: str) -> dict[Lifecycle, int]:
    """``inbound=5,missed=1``: the weights of the lifecycles named (the others get 0).

    >>> parse_mix("inbound=3, missed=1")
    {<Lifecycle.INBOUND: 'inbound'>: 3, <Lifecycle.MISSED: 'missed'>: 1}
    """
    mix: dict[Lifecycle, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.partition("=")
        try:
            lifecycle = Lifecycle(name.strip().lower())
        except ValueError:
            raise ValueError(f"unknown lifecycle {name.strip()!r}: one of {', '.join(Lifecycle)}") from None
        if not weight.strip().isdigit():
            raise ValueError(f"{part!r}: the weight must be a whole number (inbound=5)")
        mix[lifecycle] = int(weight)
    if not any(mix.values()):
        raise ValueError("the mix gives every lifecycle a weight of 0")
    return mix


class Speaker(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"  # the agent who has the call (the second agent on a second leg)
    COLLEAGUE = "colleague"  # the agent consulted (consult lifecycle)
    IVR = "ivr"


class TranscriptStyle(StrEnum):
    SINGLE = "single"  # kvsTranscriber: one POST .../messages per final segment
    BULK = "bulk"  # Contact Lens processor: POST /voiceCalls/messages, a partial segment then the final one


class GateKind(StrEnum):
    HOLD = "hold"
    PAUSE_RECORDING = "pause-recording"


@dataclass(frozen=True)
class Line:
    """One utterance, with the real-time signals it fires."""

    message_id: str
    speaker: Speaker
    text: str
    sentiment: int | None = None  # a real-time Sentiment signal for the speaker, -1000..1000
    category: str | None = None  # a real-time Category signal

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class Gate:
    """The agent puts the call on hold (or pauses the recording), ``lines`` are said meanwhile (the server
    drops them, ``on_hold`` / ``recording_paused``), then the agent resumes."""

    kind: GateKind
    lines: tuple[Line, ...]


Step = Line | Gate


@dataclass(frozen=True)
class SecondLeg:
    """Transfer: a new leg routed to ``queue``. Consult: the caller is put on hold, the agent says
    ``consult`` to a colleague on a consult leg routed to that colleague, then hands the caller over."""

    queue: Queue | None
    consult: tuple[Line, ...]
    talk: tuple[Step, ...]


@dataclass(frozen=True)
class Callback:
    number: str
    preview: bool
    scheduled_after: float | None  # seconds after the request (None: route now)


@dataclass(frozen=True)
class PostCall:
    """Contact Lens' post-call analysis: overall scores (-5..5) and the call's categories."""

    agent_score: float
    customer_score: float
    categories: tuple[str, ...]


@dataclass(frozen=True)
class CallPlan:
    index: int
    lifecycle: Lifecycle
    start: float  # when the call starts, as a fraction of the run's duration
    topic: str
    caller: str
    dialed_number: str
    attributes: dict[str, str]
    flow_inputs: dict[str, str]
    style: TranscriptStyle
    persist_signals: bool
    ivr: tuple[Line, ...]
    patience: float  # seconds (of speech time) the caller waits for an agent before hanging up
    talk: tuple[Step, ...] = ()
    second_leg: SecondLeg | None = None
    voicemail: Line | None = None
    callback: Callback | None = None
    late_line: Line | None = None  # a segment stamped after the disconnect: dropped after_end
    post_call: PostCall | None = None

    def all_lines(self) -> tuple[Line, ...]:
        """Every utterance of the plan, in the order they are said."""
        out: list[Line] = list(self.ivr)
        if self.voicemail is not None:
            out.append(self.voicemail)
        second = self.second_leg
        for steps in (self.talk, second.consult if second else (), second.talk if second else ()):
            for step in steps:
                out.extend(step.lines if isinstance(step, Gate) else (step,))
        if self.late_line is not None:
            out.append(self.late_line)
        return tuple(out)


class _Planner:
    def __init__(self, seed: int, site: Site) -> None:
        self.rng = random.Random(seed)
        self.site = site

    def message_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def line(self, speaker: Speaker, text: str, *, sentiment: int | None = None, category: str | None = None) -> Line:
        return Line(self.message_id(), speaker, text, sentiment, category)

    def pick(self, options: Sequence[str]) -> str:
        return options[self.rng.randrange(len(options))]

    def phone(self) -> str:
        area = self.pick(("415", "212", "312", "646", "503", "617", "305"))
        return f"+1{area}555{self.rng.randrange(10_000):04d}"

    def sentiment(self, mood: int) -> int:
        return max(-1000, min(1000, mood + self.rng.randrange(-200, 201, 50)))

    def ivr(self, topic: Topic) -> tuple[Line, ...]:
        return (
            self.line(Speaker.IVR, phrases.IVR_WELCOME),
            self.line(Speaker.CUSTOMER, topic.reason, sentiment=self.sentiment(topic.mood)),
        )

    def exchanges(self, topic: Topic, count: int, speaker: Speaker) -> list[Step]:
        agent = self.rng.sample(topic.agent, min(count, len(topic.agent)))
        customer = self.rng.sample(topic.customer, min(count, len(topic.customer)))
        steps: list[Step] = []
        for said, answer in zip(customer, agent, strict=False):
            category = self.pick(topic.categories) if topic.categories and self.rng.random() < 0.4 else None
            steps.append(self.line(Speaker.CUSTOMER, said, sentiment=self.sentiment(topic.mood), category=category))
            steps.append(self.line(speaker, answer))
        return steps

    def gate(self, topic: Topic, speaker: Speaker) -> list[Step]:
        """Sometimes a hold (or, on card payments, a paused recording) in the middle of the talk."""
        if topic.card and self.rng.random() < 0.5:
            lines = tuple(self.line(Speaker.CUSTOMER, text) for text in phrases.CUSTOMER_CARD)
            return [
                self.line(speaker, self.pick(phrases.AGENT_PAUSE)),
                Gate(GateKind.PAUSE_RECORDING, lines),
                self.line(speaker, self.pick(phrases.AGENT_RESUME)),
            ]
        if self.rng.random() < 0.3:
            return [
                self.line(speaker, self.pick(phrases.AGENT_HOLD)),
                Gate(GateKind.HOLD, (self.line(Speaker.CUSTOMER, self.pick(phrases.CUSTOMER_ON_HOLD)),)),
                self.line(speaker, self.pick(phrases.AGENT_BACK)),
            ]
        return []

    def talk(self, topic: Topic, speaker: Speaker = Speaker.AGENT, *, closing: bool = True) -> tuple[Step, ...]:
        steps: list[Step] = [
            self.line(speaker, self.pick(phrases.AGENT_GREETINGS)),
            self.line(Speaker.CUSTOMER, self.pick(topic.opener), sentiment=self.sentiment(topic.mood)),
        ]
        body = self.exchanges(topic, self.rng.randint(1, 2), speaker)
        gate = self.gate(topic, speaker)
        if gate:
            cut = self.rng.randint(0, len(body) // 2) * 2
            body[cut:cut] = gate
        steps += body
        if closing:
            happier = min(1000, topic.mood + 800)
            steps += [
                self.line(speaker, self.pick(phrases.AGENT_CLOSE)),
                self.line(Speaker.CUSTOMER, self.pick(phrases.CUSTOMER_CLOSE), sentiment=self.sentiment(happier)),
                self.line(speaker, self.pick(phrases.AGENT_BYE)),
            ]
        return tuple(steps)

    def post_call(self, topic: Topic) -> PostCall:
        categories = tuple(sorted(set(self.rng.sample(topic.categories, self.rng.randint(0, len(topic.categories))))))
        return PostCall(
            agent_score=round(self.rng.uniform(1.0, 4.5), 1),
            customer_score=round(max(-5.0, min(5.0, topic.mood / 200 + self.rng.uniform(0.0, 3.0))), 1),
            categories=categories,
        )

    def call(self, index: int, lifecycle: Lifecycle, start: float) -> CallPlan:
        rng, site = self.rng, self.site
        topic = phrases.TOPICS[rng.randrange(len(phrases.TOPICS))]
        dialed = site.dialed_numbers[topic.line % len(site.dialed_numbers)]
        caller = self.phone()
        plan = CallPlan(
            index=index,
            lifecycle=lifecycle,
            start=start,
            topic=topic.name,
            caller=caller,
            dialed_number=dialed,
            attributes={"Department__c": topic.department},
            flow_inputs={"language": topic.language} if topic.language else {},
            style=TranscriptStyle.BULK if rng.random() < 0.5 else TranscriptStyle.SINGLE,
            persist_signals=rng.random() < 0.3,
            ivr=self.ivr(topic),
            patience=rng.uniform(0.2, 0.8) if lifecycle is Lifecycle.MISSED else rng.uniform(20.0, 45.0),
        )
        if lifecycle is Lifecycle.MISSED:
            return plan
        if lifecycle is Lifecycle.VOICEMAIL:
            greeting = self.line(Speaker.IVR, phrases.IVR_VOICEMAIL)
            message = self.line(Speaker.CUSTOMER, self.pick(phrases.VOICEMAILS), sentiment=self.sentiment(topic.mood))
            return replace(plan, ivr=(greeting,), voicemail=message)
        if lifecycle is Lifecycle.CALLBACK:
            ivr = (
                self.line(Speaker.IVR, phrases.IVR_WELCOME),
                self.line(Speaker.CUSTOMER, topic.reason),
                self.line(Speaker.IVR, phrases.IVR_CALLBACK),
                self.line(Speaker.CUSTOMER, self.pick(phrases.CUSTOMER_CALLBACK)),
            )
            callback = Callback(
                number=caller if rng.random() < 0.7 else self.phone(),
                preview=rng.random() < 0.3,
                scheduled_after=rng.choice((None, None, 2.0, 4.0)),
            )
            return replace(plan, ivr=ivr, callback=callback)
        second: SecondLeg | None = None
        talk = self.talk(topic, closing=lifecycle is Lifecycle.INBOUND)
        if lifecycle is Lifecycle.TRANSFER:
            queue = site.queues[rng.randrange(len(site.queues))] if site.queues else None
            team = queue.api_name if queue else "sales"
            talk += (self.line(Speaker.AGENT, phrases.TRANSFER_ANNOUNCE.format(queue=team)),)
            second = SecondLeg(queue, (), self.second_talk(topic, Speaker.AGENT))
        elif lifecycle is Lifecycle.CONSULT:
            talk += (self.line(Speaker.AGENT, phrases.CONSULT_ANNOUNCE),)
            consult = (
                self.line(Speaker.AGENT, self.pick(phrases.CONSULT_ASK).format(topic=topic.name)),
                self.line(Speaker.COLLEAGUE, self.pick(phrases.CONSULT_REPLY)),
            )
            second = SecondLeg(None, consult, self.second_talk(topic, Speaker.COLLEAGUE))
        late = self.line(Speaker.AGENT, phrases.AGENT_GOODBYE_LATE[0]) if rng.random() < 0.2 else None
        return replace(plan, talk=talk, second_leg=second, late_line=late, post_call=self.post_call(topic))

    def second_talk(self, topic: Topic, speaker: Speaker) -> tuple[Step, ...]:
        steps: list[Step] = [self.line(speaker, phrases.SECOND_GREETING)]
        steps += self.exchanges(topic, 1, speaker)
        steps += [
            self.line(speaker, self.pick(phrases.AGENT_CLOSE)),
            self.line(Speaker.CUSTOMER, self.pick(phrases.CUSTOMER_CLOSE), sentiment=self.sentiment(topic.mood + 800)),
            self.line(speaker, self.pick(phrases.AGENT_BYE)),
        ]
        return tuple(steps)


def plan_calls(seed: int, calls: int, site: Site, mix: Mapping[Lifecycle, int] = DEFAULT_MIX) -> tuple[CallPlan, ...]:
    """``calls`` call plans drawn from ``mix`` (weights by lifecycle), their starts spread evenly over the run
    with some jitter, in start order. Deterministic: the same arguments give equal plans."""
    if not site.dialed_numbers:
        raise ValueError(f"call center {site.call_center} has no phone channel (dialed number) to call")
    planner = _Planner(seed, site)
    kinds = [kind for kind in Lifecycle if mix.get(kind, 0) > 0]
    weights = [mix[kind] for kind in kinds]
    plans = []
    for index in range(calls):
        lifecycle = planner.rng.choices(kinds, weights)[0]
        start = (index + planner.rng.random() * 0.8) / max(calls, 1)
        plans.append(planner.call(index, lifecycle, start))
    return tuple(plans)
