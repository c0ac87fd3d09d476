"""What a webhook request carries: a CloudEvents 1.0 JSON envelope (structured mode) around the event, signed
per the Standard Webhooks specification (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloudevents.core.bindings.http import to_structured_event
from cloudevents.core.v1.event import CloudEvent
from standardwebhooks.webhooks import Webhook

SOURCE_PREFIX = "/callbridge/callCenters/"


class MissingSecret(Exception):
    """The environment variable a subscription names is unset or not a Standard Webhooks secret."""


@dataclass(frozen=True)
class Outgoing:
    """One event for one subscription: ``webhook_id`` (the idempotency key) is the same on every attempt."""

    event_id: int
    webhook_id: str
    cloud_event_id: str
    type: str
    call_center_id: str
    subject: str | None
    occurred_at: datetime
    data: dict[str, Any]


def webhook_id(subscription_id: int, event_id: int, suffix: str = "") -> str:
    """Stable per event and subscription: a receiver drops a repeat by it (at-least-once delivery)."""
    return f"cb_{subscription_id}_{event_id}{suffix}"


def secret_of(secret_env: str) -> Webhook:
    value = os.environ.get(secret_env)
    if not value:
        raise MissingSecret(f"the signing secret's environment variable {secret_env} is not set")
    try:
        return Webhook(value)
    except Exception as exc:  # binascii.Error, EmptyWebhookSecretError: the library's own refusals
        raise MissingSecret(f"{secret_env} does not hold a Standard Webhooks secret (whsec_ + base64): {exc}") from None


def request_of(outgoing: Outgoing, signer: Webhook, now: datetime) -> tuple[dict[str, str], bytes]:
    """The headers and body of the POST: the envelope, and the signature over ``id.timestamp.body``."""
    attributes: dict[str, Any] = {
        "id": outgoing.cloud_event_id,
        "source": SOURCE_PREFIX + outgoing.call_center_id,
        "type": outgoing.type,
        "time": outgoing.occurred_at,
        "datacontenttype": "application/json",
    }
    if outgoing.subject:
        attributes["subject"] = outgoing.subject
    message = to_structured_event(CloudEvent(attributes, outgoing.data))
    body = message.body
    headers = {key.lower(): value for key, value in message.headers.items()}
    headers["webhook-id"] = outgoing.webhook_id
    headers["webhook-timestamp"] = str(int(now.timestamp()))
    headers["webhook-signature"] = signer.sign(outgoing.webhook_id, now, body.decode())
    return headers, body
