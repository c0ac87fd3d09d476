"""The contact centre the simulator calls: its org, call center, dialed numbers, queues and agents, read from a
contact-centre file (by default the one ``callbridge demo`` writes under ``./var/demo``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

DEMO_DIR: Final = Path("var/demo")
DEMO_CONFIG: Final = DEMO_DIR / "contact-center.yaml"
DEMO_PRIVATE_KEY: Final = DEMO_DIR / "private.key"


class SiteError(Exception):
    """The contact-centre file cannot be used: missing, unreadable, or without what the simulator needs."""


@dataclass(frozen=True)
class Queue:
    api_name: str
    external_id: str | None = None


@dataclass(frozen=True)
class Site:
    """What the simulator needs to know about the contact centre. ``agents`` are the usernames it may sign in
    (role ``agent``); ``supervisors`` are only named in the hints it prints."""

    org_id: str
    call_center: str
    dialed_numbers: tuple[str, ...]
    queues: tuple[Queue, ...] = ()
    agents: tuple[str, ...] = ()
    supervisors: tuple[str, ...] = ()


def _present(items: Any) -> list[dict[str, Any]]:
    """The entries of a list that the file declares (``remove: true`` ones left out)."""
    return [item for item in items or [] if isinstance(item, dict) and not item.get("remove")]


def load_site(path: Path, *, org_id: str | None = None, call_center: str | None = None) -> Site:
    """The site described by a contact-centre file: the org ``org_id`` (default: the first) and its call center
    ``call_center`` (default: the first)."""
    try:
        config = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise SiteError(f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise SiteError(f"{path} is not YAML: {exc}") from exc
    orgs = _present(config.get("orgs") if isinstance(config, dict) else None)
    org = next((o for o in orgs if org_id is None or str(o.get("id", ""))[:15] == org_id[:15]), None)
    if org is None:
        raise SiteError(f"{path} has no org {org_id}" if org_id else f"{path} declares no org")
    centers = _present(org.get("call_centers"))
    center = next((c for c in centers if call_center is None or c.get("api_name") == call_center), None)
    if center is None:
        raise SiteError(f"org {org['id']} in {path} has no call center {call_center or ''}".rstrip())
    agents = _present(org.get("agents"))
    return Site(
        org_id=str(org["id"]),
        call_center=str(center["api_name"]),
        dialed_numbers=tuple(str(c["dialed_number"]) for c in _present(center.get("phone_channels"))),
        queues=tuple(Queue(str(q["api_name"]), q.get("external_id")) for q in _present(org.get("queues"))),
        agents=tuple(str(a["username"]) for a in agents if a.get("username") and a.get("role", "agent") == "agent"),
        supervisors=tuple(str(a["username"]) for a in agents if a.get("role") == "supervisor"),
    )
