"""Errors of the console API, in the one error body shape."""

from __future__ import annotations

from callbridge.errors import CallbridgeError, Conflict, InvalidRequest, NotFound, TooManyRequests, Unauthorized


class Forbidden(CallbridgeError):
    status_code = 403
    code = "FORBIDDEN"


class InvalidCredentials(Unauthorized):
    code = "INVALID_CREDENTIALS"

    def __init__(self) -> None:
        super().__init__("The username or password is wrong.")


class SessionMissing(Unauthorized):
    code = "SESSION_MISSING"

    def __init__(self) -> None:
        super().__init__("Sign in first: send Authorization: Bearer <token> or the callbridge_session cookie.")


class SessionInvalid(Unauthorized):
    code = "SESSION_INVALID"

    def __init__(self) -> None:
        super().__init__("The session token is unknown (signed out, or never issued); sign in again.")


class SessionExpired(Unauthorized):
    code = "SESSION_EXPIRED"

    def __init__(self) -> None:
        super().__init__("The session has expired; sign in again.")


class SessionEnded(Unauthorized):
    code = "SESSION_ENDED"

    def __init__(self) -> None:
        super().__init__("The session has ended (signed out); sign in again.")


class SessionPasswordChanged(Unauthorized):
    code = "SESSION_PASSWORD_CHANGED"

    def __init__(self) -> None:
        super().__init__("The agent's password has changed since this session began; sign in again.")


class SignInThrottled(TooManyRequests):
    code = "SIGN_IN_THROTTLED"

    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(
            f"Too many failed sign-ins for this {what}; try again in {retry_after} s.", retry_after=retry_after
        )


class OrgRequired(InvalidRequest):
    code = "ORG_REQUIRED"

    def __init__(self) -> None:
        super().__init__(
            "This username and password sign in to agents of several orgs: name one with orgId.",
            errors=["orgId: required when a username is used in several orgs"],
        )


class OfferNotFound(NotFound):
    code = "OFFER_NOT_FOUND"

    def __init__(self, offer_id: str) -> None:
        super().__init__(f"No offer '{offer_id}'.")


class WorkNotFound(NotFound):
    code = "WORK_NOT_FOUND"

    def __init__(self, work_id: str) -> None:
        super().__init__(f"No work '{work_id}'.")


class CallNotFound(NotFound):
    code = "VOICE_CALL_NOT_FOUND"

    def __init__(self, call_id: str) -> None:
        super().__init__(f"No VoiceCall '{call_id}' in this org.")


class NotYourOffer(Forbidden):
    code = "NOT_YOUR_OFFER"

    def __init__(self, offer_id: str) -> None:
        super().__init__(f"Offer {offer_id} was made to another agent.")


class NotYourWork(Forbidden):
    code = "NOT_YOUR_WORK"

    def __init__(self, work_id: str) -> None:
        super().__init__(f"Work {work_id} belongs to another agent.")


class NotYourCall(Forbidden):
    code = "NOT_YOUR_CALL"

    def __init__(self, call_id: str) -> None:
        super().__init__(f"You hold no open work on call {call_id} (only its agent or a supervisor may).")


class NotSupervisor(Forbidden):
    code = "NOT_SUPERVISOR"

    def __init__(self) -> None:
        super().__init__("Only a supervisor may see this.")


class OfferExpired(Conflict):
    code = "OFFER_EXPIRED"

    def __init__(self, offer_id: str, status: str) -> None:
        super().__init__(f"Offer {offer_id} no longer stands (it is {status}).")


class OfferAlreadyAccepted(Conflict):
    code = "OFFER_ALREADY_ACCEPTED"

    def __init__(self, offer_id: str) -> None:
        super().__init__(f"Offer {offer_id} was accepted already.")


class CapacityExceeded(Conflict):
    code = "CAPACITY_EXCEEDED"

    def __init__(self, held: str) -> None:
        super().__init__(f"Accepting would exceed your capacity ({held}); the offer goes to another agent.")


class WorkNotOpen(Conflict):
    code = "WORK_CLOSED"

    def __init__(self, work_id: str, status: str) -> None:
        super().__init__(f"Work {work_id} is not open (it is {status}).")


class PendingRoutingNotFound(NotFound):
    code = "PENDING_ROUTING_NOT_FOUND"

    def __init__(self, psr_id: str) -> None:
        super().__init__(f"No pending routing '{psr_id}' in this org (accepted, cleared, or never made).")
