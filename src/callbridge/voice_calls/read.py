"""Reading a VoiceCall back (the original has no read API; integrators need one)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.auth.context import CallCenterContext
from callbridge.outbound.correlation import correlation_of
from callbridge.voice_calls import repository
from callbridge.voice_calls.errors import VoiceCallNotFound
from callbridge.voice_calls.schemas import (
    ConversationOut,
    DisconnectReasonOut,
    LegOut,
    ParticipantOut,
    RecordingOut,
    Timeline,
    TimelineEntryOut,
    VoiceCall,
)


async def get_voice_call(session: AsyncSession, context: CallCenterContext, id_or_key: str) -> VoiceCall:
    call = await repository.resolve(session, context.call_center_id, id_or_key)
    if call is None:
        raise VoiceCallNotFound(id_or_key)
    conversation = await repository.get_conversation(session, call.conversation_id)
    participants = await repository.participants_of(session, conversation.id)
    legs = await repository.legs_of_conversation(session, conversation.id)
    recording = await repository.recording_of(session, call.id)
    return VoiceCall(
        id=call.id,
        vendorCallKey=call.vendor_call_key,
        callCenterApiName=context.call_center_api_name,
        callType=call.call_type,
        callSubtype=call.call_subtype,
        callOrigin=call.call_origin,
        callDisposition=call.call_disposition,
        fromPhoneNumber=call.from_phone_number,
        toPhoneNumber=call.to_phone_number,
        callStartDateTime=call.call_start_date_time,
        callEndDateTime=call.call_end_date_time,
        callDurationInSeconds=call.call_duration_in_seconds,
        callAcceptDateTime=call.call_accept_date_time,
        callQueuedDateTime=call.call_queued_date_time,
        customerHoldDuration=call.customer_hold_duration,
        longestHoldDuration=call.longest_hold_duration,
        numberOfHolds=call.number_of_holds,
        agentInteractionDuration=call.agent_interaction_duration,
        queueName=call.queue_name,
        ownerQueueId=call.owner_queue_id,
        agent=call.agent_username,
        disconnectReason=(
            DisconnectReasonOut(value=call.disconnect_reason, isError=call.disconnect_reason_is_error)
            if call.disconnect_reason is not None
            else None
        ),
        isActiveCall=call.is_active_call,
        isOnHold=call.is_on_hold,
        isRecordingPaused=call.is_recording_paused,
        isRecorded=call.is_recorded,
        callAttributes=call.call_attributes,
        previousCallId=call.previous_call_id,
        nextCallId=call.next_call_id,
        conversationId=conversation.id,
        conversation=ConversationOut(
            id=conversation.id,
            conversationIdentifier=conversation.conversation_identifier,
            startTime=conversation.start_time,
            endTime=conversation.end_time,
            participants=[
                ParticipantOut(
                    id=p.id,
                    participantRole=p.participant_role,
                    participantKey=p.participant_key,
                    participantDisplayName=p.participant_display_name,
                    joinedTime=p.joined_time,
                )
                for p in participants
            ],
        ),
        recording=(
            RecordingOut(
                id=recording.id,
                recordingLocation=recording.recording_location,
                durationInSeconds=recording.duration_in_seconds,
            )
            if recording
            else None
        ),
        legs=[
            LegOut(
                id=leg.id,
                vendorCallKey=leg.vendor_call_key,
                callType=leg.call_type,
                previousCallId=leg.previous_call_id,
                nextCallId=leg.next_call_id,
                createdAt=leg.created_at,
            )
            for leg in legs
        ],
        agentSentimentScore=call.agent_sentiment_score,
        customerSentimentScore=call.customer_sentiment_score,
        telephonyProviderName=call.telephony_provider_name,
        correlation=await correlation_of(session, call.id),
        createdAt=call.created_at,
        updatedAt=call.updated_at,
    )


async def get_timeline(session: AsyncSession, context: CallCenterContext, id_or_key: str, limit: int) -> Timeline:
    call = await repository.resolve(session, context.call_center_id, id_or_key)
    if call is None:
        raise VoiceCallNotFound(id_or_key)
    entries = await repository.timeline_of(session, call.conversation_id, limit)
    return Timeline(
        voiceCallId=call.id,
        entries=[
            TimelineEntryOut(
                id=e.id,
                voiceCallId=e.voice_call_id,
                occurredAt=e.occurred_at,
                kind=e.kind,
                actor=e.actor,
                request=e.request,
                outcome=e.outcome,
                reason=e.reason,
                data=e.data,
            )
            for e in entries
        ],
    )
