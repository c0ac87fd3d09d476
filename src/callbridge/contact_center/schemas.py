"""The shape of a contact-centre config file (``callbridge apply -f FILE``), as pydantic models.

Unknown keys are errors (``extra="forbid"``) so a typo never passes silently. What needs the whole file
or the database (duplicates, cross-references, removals) is checked in ``checks`` and ``plan``. A flow's
rules are validated here and stored as written (JSON); the routing engine gives them their meaning, and
extends ``CALL_FIELDS``, ``CONDITION_PREFIXES`` and ``OPERATORS`` when it learns new conditions.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator
from pydantic_core import PydanticCustomError

from callbridge.webhooks.types import EVENT_TYPES

MAX_PUSH_TIMEOUT = 20  # seconds: Salesforce caps PendingServiceRouting.PushTimeout at 20 for voice
# seconds: Salesforce documents a routable-number reservation as valid for at most 180 s
MAX_ROUTABLE_NUMBER_TTL = 180
CALL_FIELDS = frozenset(
    {
        "call.from",
        "call.to",
        "call.initiationMethod",
        "call.callOrigin",
        "call.callSubtype",
        "call.dialedNumber",
        "call.vendorCallKey",
    }
)
CONDITION_PREFIXES = ("input.", "attribute.")
OPERATORS = frozenset({"in", "prefix", "exists", "not", "equals"})

# What Salesforce's own Lambda checks before reserveRoutableNumber; Callbridge uses it for every phone number.
E164 = re.compile(r"\+[1-9]\d{1,14}")
_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ORG_ID = re.compile(r"00D[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?")
_USER_ID = re.compile(r"005[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?")
# What ``callbridge agent hash-password`` prints (callbridge.console.passwords): scrypt$N$r$p$salt$hash.
_PASSWORD_HASH = re.compile(r"scrypt\$[0-9]+\$[0-9]+\$[0-9]+\$[A-Za-z0-9_-]+={0,2}\$[A-Za-z0-9_-]+={0,2}")


def _api_name(value: str) -> str:
    if not _API_NAME.fullmatch(value):
        raise ValueError(f"{value!r} is not an API name (letters, digits and underscores, starting with a letter)")
    return value


def _org_id(value: str) -> str:
    if not _ORG_ID.fullmatch(value):
        raise ValueError(f"{value!r} is not an org id (15 or 18 letters and digits starting with 00D)")
    return value


def _user_id(value: str) -> str:
    if not _USER_ID.fullmatch(value):
        raise ValueError(f"{value!r} is not a user id (15 or 18 letters and digits starting with 005)")
    return value


def _password_hash(value: str) -> str:
    if not _PASSWORD_HASH.fullmatch(value):
        raise ValueError(
            "not a password hash: give what `callbridge agent hash-password` prints (scrypt$N$r$p$salt$hash),"
            " never the password itself"
        )
    return value


def _e164(value: str) -> str:
    if not E164.fullmatch(value):
        raise ValueError(f"{value!r} is not an E.164 phone number (+ and up to 15 digits, e.g. +14155550100)")
    return value


def _url(value: str) -> str:
    parsed = urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or any(c.isspace() for c in value):
        raise ValueError(f"{value!r} is not an http(s) URL (e.g. https://example.com/drops/busy.wav)")
    return value


def _condition_key(key: str) -> str:
    if key in CALL_FIELDS or any(key.startswith(p) and len(key) > len(p) for p in CONDITION_PREFIXES):
        return key
    allowed = ", ".join(sorted(CALL_FIELDS))
    raise ValueError(f"unknown condition {key!r}: use input.<name>, attribute.<name> or one of {allowed}")


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _condition_problems(value: Any) -> list[str]:
    """What is wrong with a condition: a plain value (equality) or a mapping of operators (all must hold)."""
    if _is_scalar(value):
        return []
    if value is None:
        return ["a condition needs a value (use {exists: false} to match a missing one)"]
    if isinstance(value, list):
        return ["a list needs an operator: write {in: [...]}"]
    if not isinstance(value, dict):
        return [f"expected a value or an operator mapping, got {type(value).__name__} (quote it)"]
    if not value:
        return [f"an empty operator mapping (operators: {', '.join(sorted(OPERATORS))})"]
    problems = []
    for operator, operand in value.items():
        if operator not in OPERATORS:
            problems.append(f"unknown operator {operator!r} (operators: {', '.join(sorted(OPERATORS))})")
        elif operator == "in" and not (
            isinstance(operand, list) and operand and all(_is_scalar(item) for item in operand)
        ):
            problems.append("in: expected a non-empty list of values")
        elif operator == "prefix" and not (isinstance(operand, str) and operand):
            problems.append("prefix: expected a non-empty string")
        elif operator == "exists" and not isinstance(operand, bool):
            problems.append("exists: expected true or false")
        elif operator == "equals" and not _is_scalar(operand):
            problems.append("equals: expected a single value")
        elif operator == "not":
            problems.extend(f"not: {problem}" for problem in _condition_problems(operand))
    return problems


def _condition(value: Any) -> Any:
    problems = _condition_problems(value)
    if problems:
        raise PydanticCustomError("condition", "{reason}", {"reason": "; ".join(problems)})
    return value


ApiName = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_api_name)]
CallCenterApiName = Annotated[str, Field(min_length=1, max_length=80), AfterValidator(_api_name)]
OrgId = Annotated[str, AfterValidator(_org_id)]
UserId = Annotated[str, AfterValidator(_user_id)]
Username = Annotated[str, Field(min_length=1, max_length=255)]
AgentRef = Annotated[str, Field(min_length=1, max_length=255)]  # a username or a 005 user id
ExternalId = Annotated[str, Field(min_length=1, max_length=1024)]
DialedNumber = Annotated[str, Field(min_length=1, max_length=64)]
PasswordHash = Annotated[str, Field(max_length=255), AfterValidator(_password_hash)]
SkillLevel = Annotated[StrictInt, Field(ge=0, le=10)]
Skills = dict[Annotated[str, Field(min_length=1, max_length=255)], SkillLevel]
ConditionKey = Annotated[str, AfterValidator(_condition_key)]
Condition = Annotated[Any, AfterValidator(_condition)]
PhoneNumber = Annotated[str, AfterValidator(_e164)]
Url = Annotated[str, Field(min_length=1, max_length=2048), AfterValidator(_url)]


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Removable(Spec):
    """An item that ``remove: true`` deletes; such an entry carries only its identifying key(s)."""

    IDENTITY: ClassVar[tuple[str, ...]]
    remove: StrictBool = False


class RouteSpec(Spec):
    """Where a matching call goes: exactly one of ``queue``, ``agent`` or ``skills``."""

    queue: ApiName | None = None
    agent: AgentRef | None = None
    skills: Skills | None = None
    preferred_agent: AgentRef | None = None
    priority: StrictInt | None = None
    push_timeout: Annotated[StrictInt, Field(ge=0, le=MAX_PUSH_TIMEOUT)] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> RouteSpec:
        targets = [name for name in ("queue", "agent", "skills") if getattr(self, name) is not None]
        if len(targets) != 1:
            given = f" (got {', '.join(targets)})" if targets else ""
            raise ValueError(f"name exactly one of queue, agent or skills{given}")
        if self.skills is not None and not self.skills:
            raise ValueError("skills: name at least one skill with its minimum level")
        if self.preferred_agent is not None and self.skills is None:
            raise ValueError("preferred_agent goes with skills (a queue or agent route names its target)")
        return self


class RuleSpec(Spec):
    """When all conditions hold (no ``when``: always), route the call; the first matching rule wins."""

    when: dict[ConditionKey, Condition] | None = None
    route: RouteSpec


class FlowSpec(Removable):
    IDENTITY = ("api_name",)
    api_name: ApiName
    description: str | None = None
    rules: list[RuleSpec] | None = None

    def definition(self) -> dict[str, Any]:
        """The flow as written, as ``Flow.definition`` stores it: ``{"rules": [...]}`` (+ ``description``)."""
        return self.model_dump(mode="json", exclude_unset=True, include={"description", "rules"})


class RoutingSpec(Spec):
    """A flow and/or fallback queue, e.g. for callbacks (ContactCenterChannel.OmniCallbackHandler)."""

    flow: ApiName | None = None
    fallback_queue: ApiName | None = None


class PhoneChannelSpec(Removable):
    IDENTITY = ("dialed_number",)
    dialed_number: DialedNumber
    flow: ApiName | None = None
    fallback_queue: ApiName | None = None
    voicemail_greeting_url: Url | None = None  # GET /voiceCalls/voicemailGreeting?toPhoneNumber=<dialed_number>


class VoicemailDropSpec(Spec):
    """A recording an agent can pick for their outbound call (GET /voiceCalls/{id}/voicemailDrop)."""

    name: Annotated[str, Field(min_length=1, max_length=255)]
    recording_url: Url


class CallCenterSpec(Removable):
    IDENTITY = ("api_name",)
    api_name: CallCenterApiName
    certificates: list[Annotated[str, Field(min_length=1)]] | None = None
    phone_channels: list[PhoneChannelSpec] = []
    callback: RoutingSpec | None = None
    voicemail: RoutingSpec | None = None
    voicemail_drops: list[VoicemailDropSpec] = []
    default_outbound_number: PhoneNumber | None = None
    routable_numbers: list[PhoneNumber] = []
    routable_number_ttl_seconds: Annotated[StrictInt, Field(ge=1, le=MAX_ROUTABLE_NUMBER_TTL)] | None = None

    def settings(self) -> dict[str, Any]:
        """What ``CallCenter.settings`` stores (the outbound keys only when given, so that a file without them
        leaves an existing call center unchanged)."""
        stored: dict[str, Any] = {
            name: routing.model_dump(exclude_none=True)
            for name, routing in (("callback", self.callback), ("voicemail", self.voicemail))
            if routing is not None
        }
        if self.voicemail_drops:
            stored["voicemail_drops"] = [drop.model_dump() for drop in self.voicemail_drops]
        if self.default_outbound_number is not None:
            stored["default_outbound_number"] = self.default_outbound_number
        if self.routable_numbers:
            stored["routable_numbers"] = list(self.routable_numbers)
        if self.routable_number_ttl_seconds is not None:
            stored["routable_number_ttl_seconds"] = self.routable_number_ttl_seconds
        return stored


class QueueSpec(Removable):
    IDENTITY = ("api_name",)
    api_name: ApiName
    external_id: ExternalId | None = None


class AgentSpec(Removable):
    IDENTITY = ("username", "user_id")  # either one identifies an agent to remove
    username: Username | None = None
    user_id: UserId | None = None
    external_id: ExternalId | None = None
    queues: list[ApiName] = []
    skills: Skills = {}
    capacity: Annotated[StrictInt, Field(ge=1)] = 100
    role: Literal["agent", "supervisor"] = "agent"
    password_hash: PasswordHash | None = None  # left out: a password set with the CLI is kept
    default_outbound_number: PhoneNumber | None = None  # GET /voiceCalls/defaultOutboundPhoneNumber


def _event_type(value: str) -> str:
    if value != "*" and value not in EVENT_TYPES:
        known = ", ".join(sorted(EVENT_TYPES))
        raise ValueError(f"unknown event type {value!r}: use * (every type) or one of {known}")
    return value


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an environment variable name (letters, digits and underscores): name the variable"
            " that holds the signing secret, never the secret itself"
        )
    return value


EventType = Annotated[str, AfterValidator(_event_type)]
EnvName = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_env_name)]


class WebhookSpec(Removable):
    """A subscription: the events of this org (of some of its call centers) POSTed to ``url``, signed with the
    secret held by the environment variable ``secret_env`` (docs/integrations.md)."""

    IDENTITY = ("url",)
    url: Url
    events: Annotated[list[EventType], Field(min_length=1)] | None = None
    secret_env: EnvName | None = None
    call_centers: list[CallCenterApiName] = []

    @model_validator(mode="after")
    def _complete(self) -> WebhookSpec:
        if not self.remove:
            missing = [name for name in ("events", "secret_env") if getattr(self, name) is None]
            if missing:
                raise ValueError(f"a webhook needs {' and '.join(missing)}")
        return self


class OrgSpec(Removable):
    IDENTITY = ("id",)
    id: OrgId
    call_centers: list[CallCenterSpec] = []
    queues: list[QueueSpec] = []
    agents: list[AgentSpec] = []
    flows: list[FlowSpec] = []
    webhooks: list[WebhookSpec] = []


class ConfigFile(Spec):
    version: Literal[1] = 1
    orgs: list[OrgSpec] = []


# The lists whose items can be checked on their own: an item with a schema error is left out of the
# cross-reference checks (its own error is already reported) instead of hiding every other error.
ITEM_LISTS: frozenset[tuple[str, ...]] = frozenset(
    {
        ("orgs",),
        ("orgs", "call_centers"),
        ("orgs", "call_centers", "phone_channels"),
        ("orgs", "queues"),
        ("orgs", "agents"),
        ("orgs", "flows"),
        ("orgs", "webhooks"),
    }
)
