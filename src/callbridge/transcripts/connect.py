"""The Connect REST API's conversation resources (spec §14), served under ``/services/data/v{version}`` and
authorized with the call center's telephony token (Salesforce uses an OAuth session there): read and redact a
conversation's entries, upload conversations after the call, and read the uploads' statuses."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from callbridge.auth.context import CallCenterContext
from callbridge.auth.dependencies import authorize
from callbridge.errors import InvalidRequest, error_responses
from callbridge.kit.bodies import parse_body, request_body_openapi
from callbridge.kit.bounds import MAX_QUERY_EPOCH
from callbridge.kit.http import actor_of
from callbridge.kit.state import app_state
from callbridge.transcripts import read, repository
from callbridge.transcripts.jobs import RedactJob, RedactOutcome
from callbridge.transcripts.schemas import (
    ConnectEntries,
    ConversationBulkUploads,
    ConversationBulkUploadStatuses,
    EntriesUpdate,
    EntriesUpdated,
    EntryUpdateResult,
    UploadStatus,
)
from callbridge.transcripts.upload import Uploader
from callbridge.transcripts.writer import submit

router = APIRouter(tags=["Connect API"])

VERSION = Path(pattern=r"^\d{2}\.\d$", description="The API version, e.g. 52.0 in /services/data/v52.0.")
ENTRIES_PATH = "/v{version}/connect/conversation/{conversationIdentifier}/entries"
UPLOAD_PATH = "/v{version}/connect/conversations/upload"
MAX_UPLOAD_IDS = 100


@router.get(
    ENTRIES_PATH,
    summary="Read a conversation's entries",
    response_model=ConnectEntries,
    responses=error_responses(400, 401, 404),
)
async def get_conversation_entries(
    request: Request,
    conversationIdentifier: str,
    version: str = VERSION,
    startTimestamp: int = Query(
        default=0, ge=0, le=MAX_QUERY_EPOCH, description="Epoch ms; on serverReceivedTimestamp."
    ),
    endTimestamp: int | None = Query(
        default=None, ge=0, le=MAX_QUERY_EPOCH, description="Epoch ms; none means no bound."
    ),
    queryDirection: Literal["FromEnd", "FromStart"] = Query(default="FromEnd"),
    recordLimit: int = Query(default=25, ge=1, le=1000),
    context: CallCenterContext = Depends(authorize),
) -> ConnectEntries:
    """``conversationIdentifier`` is the first leg's vendorCallKey (or the 0dw conversation id). The last
    ``recordLimit`` entries in the range (FromEnd) or the first (FromStart), oldest first."""
    async with app_state(request).database.read_session() as session:
        return await read.connect_entries(
            session,
            context,
            conversationIdentifier,
            start=startTimestamp,
            end=endTimestamp,
            direction=queryDirection,
            limit=recordLimit,
        )


@router.patch(
    ENTRIES_PATH,
    summary="Update (redact) a conversation's entries",
    response_model=EntriesUpdated,
    responses=error_responses(400, 401, 404, 413, 415, 503),
    openapi_extra=request_body_openapi(EntriesUpdate),
)
async def update_conversation_entries(
    request: Request,
    conversationIdentifier: str,
    version: str = VERSION,
    context: CallCenterContext = Depends(authorize),
) -> EntriesUpdated:
    """Replaces each named entry's text and marks it redacted; the timeline records the redaction but never
    the old text. An unknown identifier fails alone."""
    state = app_state(request)
    body = await parse_body(request, EntriesUpdate, state.settings.max_body_bytes)
    limit = state.settings.transcript_max_content_chars
    too_long = [
        f"conversationEntriesUpdates[{i}].messageText: is {len(u.messageText)} characters; at most {limit} are allowed"
        for i, u in enumerate(body.conversationEntriesUpdates)
        if len(u.messageText) > limit
    ]
    if too_long:
        raise InvalidRequest.for_fields(too_long)
    async with state.database.read_session() as session:
        conversation = await read.find_conversation(session, context, conversationIdentifier)
    updates = tuple((u.identifier, u.messageText) for u in body.conversationEntriesUpdates)
    job = RedactJob(context.call_center_id, conversation.id, actor_of(request), updates)
    outcome = await submit(state, job, RedactOutcome)
    return EntriesUpdated(
        conversationEntriesUpdates=[
            EntryUpdateResult(identifier=u.identifier, success=u.success, errorMessage=u.error) for u in outcome.updates
        ]
    )


@router.post(
    UPLOAD_PATH,
    summary="Upload conversations (multipart/form-data, one part per conversation)",
    status_code=201,
    response_model=ConversationBulkUploads,
    responses=error_responses(400, 401, 404, 413, 415, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "additionalProperties": {"type": "string", "format": "binary"},
                        "description": "One part per conversation, named by its conversationIdentifier: "
                        "newline-delimited JSON, a conversation line then conversationEntry lines.",
                    }
                }
            },
        }
    },
)
async def upload_conversations(
    request: Request, version: str = VERSION, context: CallCenterContext = Depends(authorize)
) -> JSONResponse:
    """Up to 512 MB by default, parsed and stored while it streams in. Answers with one upload id per part;
    ``GET`` on the same path gives each upload's status and failed entries."""
    uploader = Uploader(app_state(request), context, actor_of(request))
    await uploader.run(request.headers.get("content-type"), request.headers.get("content-length"), request.stream())
    body = ConversationBulkUploads(conversationBulkUploads=uploader.started)
    return JSONResponse(body.model_dump(mode="json"), status_code=201)


@router.get(
    UPLOAD_PATH,
    summary="Statuses of conversation uploads",
    response_model=ConversationBulkUploadStatuses,
    responses=error_responses(400, 401, 404),
)
async def get_upload_statuses(
    request: Request,
    version: str = VERSION,
    uploadIds: str = Query(description="Comma-separated upload ids, at most 100."),
    context: CallCenterContext = Depends(authorize),
) -> ConversationBulkUploadStatuses:
    """One status per id, in the order asked; an id this call center does not know has status NotFound."""
    wanted = [upload_id.strip() for upload_id in uploadIds.split(",") if upload_id.strip()]
    if not wanted or len(wanted) > MAX_UPLOAD_IDS:
        raise InvalidRequest.for_fields([f"uploadIds: give 1 to {MAX_UPLOAD_IDS} ids, not {len(wanted)}"])
    async with app_state(request).database.read_session() as session:
        found = {u.id: u for u in await repository.uploads_by_id(session, context.call_center_id, wanted)}
    statuses = []
    for upload_id in wanted:
        upload = found.get(upload_id)
        if upload is None:
            statuses.append(
                UploadStatus(
                    conversationId="",
                    errorDetail="No upload with this id in this call center.",
                    failedEntryCount=0,
                    failedEntryIds=[],
                    lastUpdatedTimestamp=0,
                    status="NotFound",
                    successEntryCount=0,
                    uploadId=upload_id,
                )
            )
            continue
        statuses.append(
            UploadStatus(
                conversationId=upload.conversation_identifier,
                errorDetail=upload.error_detail,
                failedEntryCount=upload.failed_entry_count,
                failedEntryIds=[str(entry_id) for entry_id in upload.failed_entry_ids],
                lastUpdatedTimestamp=int(upload.last_updated.timestamp() * 1000),
                status=upload.status,
                successEntryCount=upload.success_entry_count,
                uploadId=upload.id,
            )
        )
    return ConversationBulkUploadStatuses(conversationBulkUploadStatuses=statuses)
