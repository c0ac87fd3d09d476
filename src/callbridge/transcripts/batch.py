"""One writer batch: the state it loads once for all of its jobs, and the rows it writes at the end.

Jobs are planned in arrival order against this state, which each job updates as it goes, so the second of
two identical messages in one batch sees the first. The writes then go out as one statement per kind of row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.events.schemas import AnyEvent
from callbridge.kit import ids
from callbridge.kit.bulk import insert_timeline
from callbridge.kit.uow import Actor, stored_reason
from callbridge.transcripts import repository
from callbridge.transcripts.events import timeline_recorded
from callbridge.transcripts.rules import to_ms


@dataclass(frozen=True)
class Leg:
    id: str
    call_center_id: str
    vendor_call_key: str
    is_first: bool
    is_on_hold: bool
    is_recording_paused: bool
    is_voicemail: bool = False
    start_ms: int | None = None  # the call's own start and end (a voicemail's replace impossible message times)
    end_ms: int | None = None


@dataclass
class ConversationState:
    id: str
    call_center_id: str
    identifier: str  # ConversationIdentifier: the first leg's vendorCallKey
    start_ms: int
    end_ms: int | None
    legs: list[Leg] = field(default_factory=list)  # oldest first
    last_received: int = 0

    @property
    def current_leg(self) -> Leg:
        """The leg a message arriving now belongs to: the newest of the conversation."""
        return self.legs[-1]


@dataclass
class EntryState:
    id: int | None  # None until inserted by this batch
    conversation_id: str
    identifier: str
    message_text: str
    version: int
    is_redacted: bool
    sender_id: str
    client_timestamp: int
    client_duration: int
    server_received_timestamp: int
    voice_call_id: str | None


@dataclass(frozen=True)
class Resolved:
    conversation: ConversationState
    note: str | None


@dataclass
class _Timeline:
    row: dict[str, Any]
    event: Callable[[int], AnyEvent]


class Batch:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self.now_ms = to_ms(now)
        self.conversations: dict[str, ConversationState] = {}
        self._legs_by_key: dict[tuple[str, str], list[tuple[Leg, str]]] = defaultdict(list)
        self._entries: dict[tuple[str, str], EntryState] = {}
        self._participants: dict[tuple[str, str, str], str] = {}
        self._new_participants: list[dict[str, Any]] = []
        self._new_entries: list[EntryState] = []
        self._new_entry_meta: dict[tuple[str, str], dict[str, Any]] = {}
        self._changed_entries: dict[int, EntryState] = {}
        self._timeline: list[_Timeline] = []
        self.uploads: list[tuple[dict[str, Any], bool]] = []

    async def load(
        self,
        session: AsyncSession,
        keys: Mapping[tuple[str, str], Collection[str]],
        conversations: Mapping[str, Collection[str]],
    ) -> None:
        """Everything the batch's jobs can touch, in four queries whatever the batch's size: the legs of the
        keys and conversations, and the entries with the messageIds named for each (``keys`` and
        ``conversations`` map to those messageIds)."""
        for row in await repository.legs_for(session, list(keys), list(conversations)):
            conversation = self.conversations.get(row.conversation_id)
            if conversation is None:
                conversation = self.conversations[row.conversation_id] = ConversationState(
                    id=row.conversation_id,
                    call_center_id=row.call_center_id,
                    identifier=row.conversation_identifier,
                    start_ms=to_ms(row.start_time),
                    end_ms=to_ms(row.end_time) if row.end_time is not None else None,
                )
            leg = Leg(
                id=row.id,
                call_center_id=row.call_center_id,
                vendor_call_key=row.vendor_call_key,
                is_first=row.previous_call_id is None,
                is_on_hold=row.is_on_hold,
                is_recording_paused=row.is_recording_paused,
                is_voicemail=row.call_origin == "Voicemail",
                start_ms=to_ms(row.call_start_date_time) if row.call_start_date_time is not None else None,
                end_ms=to_ms(row.call_end_date_time) if row.call_end_date_time is not None else None,
            )
            conversation.legs.append(leg)
            self._legs_by_key[(row.call_center_id, row.vendor_call_key)].append((leg, conversation.id))
        found = list(self.conversations)
        for conversation_id, newest in (await repository.last_received(session, found)).items():
            self.conversations[conversation_id].last_received = newest
        wanted: defaultdict[str, set[str]] = defaultdict(set)
        for conversation_id, named in conversations.items():
            wanted[conversation_id].update(named)
        for key, named in keys.items():
            for _, conversation_id in self._legs_by_key.get(key, []):
                wanted[conversation_id].update(named)
        for row in await repository.entries_named(session, wanted):
            self._entries[(row.conversation_id, row.identifier)] = EntryState(
                id=row.id,
                conversation_id=row.conversation_id,
                identifier=row.identifier,
                message_text=row.message_text,
                version=row.version,
                is_redacted=row.is_redacted,
                sender_id=row.sender_id,
                client_timestamp=row.client_timestamp,
                client_duration=row.client_duration,
                server_received_timestamp=row.server_received_timestamp,
                voice_call_id=row.voice_call_id,
            )
        for row in await repository.participants_in(session, found):
            self._participants[(row.conversation_id, row.participant_role, row.participant_key)] = row.id

    def resolve(self, call_center_id: str, vendor_call_key: str) -> Resolved | None:
        """The conversation a vendorCallKey names for transcripts: the one it is the ConversationIdentifier of
        (a first leg, or a consult call not merged), else the conversation of the leg that carries it."""
        candidates = self._legs_by_key.get((call_center_id, vendor_call_key))
        if not candidates:
            return None
        for _leg, conversation_id in candidates:
            conversation = self.conversations[conversation_id]
            if conversation.identifier == vendor_call_key:
                return Resolved(conversation, None)
        leg, conversation_id = candidates[-1]
        conversation = self.conversations[conversation_id]
        return Resolved(
            conversation,
            f"vendorCallKey '{vendor_call_key}' names leg {leg.id}, not the first leg of its conversation; "
            f"the message was stored on the conversation of '{conversation.identifier}' "
            "(send the first leg's vendorCallKey)",
        )

    def next_received(self, conversation: ConversationState) -> int:
        """A serverReceivedTimestamp: now in ms, but always after the conversation's previous one."""
        conversation.last_received = max(self.now_ms, conversation.last_received + 1)
        return conversation.last_received

    def participant(self, conversation: ConversationState, role: str, key: str, display: str | None) -> str:
        """The id of the conversation's participant with this role and key, added if new."""
        found = self._participants.get((conversation.id, role, key))
        if found is not None:
            return found
        participant_id = ids.new_id(ids.CONVERSATION_PARTICIPANT)
        self._participants[(conversation.id, role, key)] = participant_id
        self._new_participants.append(
            {
                "id": participant_id,
                "conversation_id": conversation.id,
                "participant_role": role,
                "participant_key": key,
                "participant_display_name": display,
                "app_type": "telephony_integration",
                "joined_time": self.now,
            }
        )
        return participant_id

    def entry(self, conversation_id: str, identifier: str) -> EntryState | None:
        return self._entries.get((conversation_id, identifier))

    def add_entry(self, entry: EntryState, *, sender_role: str, participant_id: str, source: str) -> None:
        self._entries[(entry.conversation_id, entry.identifier)] = entry
        self._new_entries.append(entry)
        self._new_entry_meta[(entry.conversation_id, entry.identifier)] = {
            "sender_role": sender_role,
            "participant_id": participant_id,
            "source": source,
        }

    def change_entry(self, entry: EntryState, **changes: Any) -> EntryState:
        """Replace fields of an entry; a stored one is updated, one new in this batch is inserted as changed."""
        changed = replace(entry, **changes)
        self._entries[(entry.conversation_id, entry.identifier)] = changed
        if entry.id is None:
            self._new_entries = [changed if e is entry else e for e in self._new_entries]
        else:
            self._changed_entries[entry.id] = changed
        return changed

    def record(
        self,
        *,
        conversation: ConversationState,
        voice_call_id: str | None,
        actor: Actor,
        kind: str,
        outcome: str,
        reason: str | None,
        data: dict[str, Any],
        event: Callable[[int], AnyEvent] | None = None,
    ) -> None:
        """A timeline entry of the conversation; ``event`` builds the published event from its id (by default
        the generic ``timeline.recorded``)."""
        row = {
            "call_center_id": conversation.call_center_id,
            "voice_call_id": voice_call_id,
            "conversation_id": conversation.id,
            "occurred_at": self.now,
            "kind": kind,
            "actor": actor.name,
            "request": actor.request,
            "outcome": outcome,
            "reason": stored_reason(reason),
            "data": data,
        }
        self._timeline.append(_Timeline(row, event or timeline_recorded(row)))

    async def flush(self, session: AsyncSession) -> list[AnyEvent]:
        """Write every row the batch planned; the events to publish once it commits, in order."""
        await repository.insert_participants(session, self._new_participants)
        await repository.insert_entries(
            session,
            [
                {
                    "conversation_id": e.conversation_id,
                    "identifier": e.identifier,
                    "message_text": e.message_text,
                    "sender_id": e.sender_id,
                    "client_timestamp": e.client_timestamp,
                    "client_duration": e.client_duration,
                    "server_received_timestamp": e.server_received_timestamp,
                    "voice_call_id": e.voice_call_id,
                    "version": e.version,
                    "is_redacted": e.is_redacted,
                    "updated_at": self.now,
                    **self._new_entry_meta[(e.conversation_id, e.identifier)],
                }
                for e in self._new_entries
            ],
        )
        await repository.update_entries(
            session,
            [
                {
                    "b_id": entry_id,
                    "b_message_text": e.message_text,
                    "b_sender_id": e.sender_id,
                    "b_client_timestamp": e.client_timestamp,
                    "b_client_duration": e.client_duration,
                    "b_version": e.version,
                    "b_is_redacted": e.is_redacted,
                    "b_updated_at": self.now,
                }
                for entry_id, e in self._changed_entries.items()
            ],
        )
        for row, new in self.uploads:
            await repository.save_upload(session, row, new=new)
        timeline_ids = await insert_timeline(session, [t.row for t in self._timeline])
        return [t.event(timeline_id) for t, timeline_id in zip(self._timeline, timeline_ids, strict=True)]
