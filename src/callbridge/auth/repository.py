"""Every query authorization makes: the call center a token names with its certificates, and the memory
of token ids already seen."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.models import CallCenter, Certificate, Organization, SeenTokenId

SEEN_TOKEN_IDS = cast(Table, SeenTokenId.__table__)


@dataclass(frozen=True)
class TrustedCertificate:
    fingerprint_sha256: str
    pem: str
    key_bits: int
    not_after: datetime | None


@dataclass(frozen=True)
class TrustedCallCenter:
    org_id: str
    call_center_id: str
    api_name: str
    certificates: tuple[TrustedCertificate, ...]


@dataclass(frozen=True)
class CallCenterLookup:
    """What ``(iss, sub)`` found: the org (or not), and its call center (or not)."""

    org_id: str | None
    call_center: TrustedCallCenter | None


@dataclass(frozen=True)
class CertificateListing:
    org_id: str
    call_center_api_name: str
    kind: str
    subject: str | None
    fingerprint_sha256: str
    key_bits: int
    not_after: datetime | None


async def find_call_center(session: AsyncSession, iss: str, sub: str) -> CallCenterLookup:
    """The org whose 15-character id starts ``iss`` and its call center named ``sub`` (exactly), with every
    certificate that call center trusts, in one query."""
    statement = (
        select(Organization.id, CallCenter.id, Certificate)
        .select_from(Organization)
        .outerjoin(CallCenter, and_(CallCenter.org_id == Organization.id, CallCenter.api_name == sub))
        .outerjoin(Certificate, Certificate.call_center_id == CallCenter.id)
        .where(Organization.id15 == iss[:15])
        .order_by(Certificate.id)
    )
    rows = (await session.execute(statement)).all()
    if not rows:
        return CallCenterLookup(org_id=None, call_center=None)
    org_id, call_center_id = rows[0][0], rows[0][1]
    if call_center_id is None:
        return CallCenterLookup(org_id=org_id, call_center=None)
    certificates = tuple(
        TrustedCertificate(
            fingerprint_sha256=cert.fingerprint_sha256,
            pem=cert.pem,
            key_bits=cert.key_bits,
            not_after=cert.not_after,
        )
        for _, _, cert in rows
        if cert is not None
    )
    return CallCenterLookup(
        org_id=org_id,
        call_center=TrustedCallCenter(
            org_id=org_id, call_center_id=call_center_id, api_name=sub, certificates=certificates
        ),
    )


async def list_certificates(session: AsyncSession, org_id: str | None = None) -> list[CertificateListing]:
    """Every certificate of every call center (of one org, 15 or 18 characters, when given)."""
    statement = (
        select(Organization.id, CallCenter.api_name, Certificate)
        .join(CallCenter, CallCenter.org_id == Organization.id)
        .join(Certificate, Certificate.call_center_id == CallCenter.id)
        .order_by(Organization.id, CallCenter.api_name, Certificate.not_after)
    )
    if org_id is not None:
        statement = statement.where(Organization.id15 == org_id[:15])
    return [
        CertificateListing(
            org_id=org,
            call_center_api_name=api_name,
            kind=cert.kind,
            subject=cert.subject,
            fingerprint_sha256=cert.fingerprint_sha256,
            key_bits=cert.key_bits,
            not_after=cert.not_after,
        )
        for org, api_name, cert in (await session.execute(statement)).all()
    ]


async def get_seen_token_id(session: AsyncSession, call_center_id: str, jti: str) -> SeenTokenId | None:
    return await session.get(SeenTokenId, (call_center_id, jti))


async def delete_expired_seen_token_ids(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(SeenTokenId).where(SeenTokenId.expires_at <= now))


JtiKey = tuple[str, str]  # (call center id, jti)


def _keyed(keys: Collection[JtiKey]) -> Any:
    """``(call_center_id, jti) IN keys``, written per call center so that both SQLite and PostgreSQL look the
    keys up in the primary key (SQLite scans the table for a row-value IN list of several rows)."""
    by_call_center: dict[str, list[str]] = defaultdict(list)
    for call_center_id, jti in sorted(keys):
        by_call_center[call_center_id].append(jti)
    return or_(
        *(
            and_(SeenTokenId.call_center_id == call_center_id, SeenTokenId.jti.in_(jtis))
            for call_center_id, jtis in by_call_center.items()
        )
    )


def _remember_statement(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upsert = insert(SEEN_TOKEN_IDS)
    return upsert.on_conflict_do_update(
        index_elements=[SEEN_TOKEN_IDS.c.call_center_id, SEEN_TOKEN_IDS.c.jti],
        set_={"token_sha256": upsert.excluded.token_sha256, "expires_at": upsert.excluded.expires_at},
        where=SEEN_TOKEN_IDS.c.expires_at <= bindparam("now", type_=SEEN_TOKEN_IDS.c.expires_at.type),
    ).returning(SEEN_TOKEN_IDS.c.call_center_id, SEEN_TOKEN_IDS.c.jti)


# Built once per dialect: each build makes the ``excluded`` alias, whose reference cycles only the garbage
# collector frees.
_REMEMBER = {dialect: _remember_statement(dialect) for dialect in ("sqlite", "postgresql")}


async def insert_new_seen_token_ids(session: AsyncSession, rows: list[dict[str, Any]], now: datetime) -> set[JtiKey]:
    """Insert the rows whose ``(call_center_id, jti)`` is not remembered yet (by anyone: the primary key decides
    between processes), or remembered only until a time already past (that row is replaced), and skip the
    others; the keys actually written."""
    if not rows:
        return set()
    connection = await session.connection()
    statement = _REMEMBER[connection.dialect.name]
    result = await connection.execute(statement, [{**row, "now": now} for row in rows])
    return {(call_center_id, jti) for call_center_id, jti in result.all()}


async def seen_token_ids(session: AsyncSession, keys: Collection[JtiKey]) -> dict[JtiKey, SeenTokenId]:
    """What the memory holds for each of ``keys`` that it remembers."""
    query = select(SeenTokenId).where(_keyed(keys))
    return {(row.call_center_id, row.jti): row for row in (await session.scalars(query)).all()}
