"""Reading the PEM certificates and public keys a call center trusts, and making new ones."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

MIN_KEY_BITS = 2048


class CertificateError(ValueError):
    """The PEM text is not a usable RSA certificate or public key."""


@dataclass(frozen=True)
class ParsedCertificate:
    kind: str  # "certificate" or "public_key"
    pem: str
    fingerprint_sha256: str
    subject: str | None
    key_bits: int
    not_before: datetime | None
    not_after: datetime | None
    public_key: rsa.RSAPublicKey

    def is_expired(self, at: datetime) -> bool:
        return self.not_after is not None and at > self.not_after


def parse_pem(pem: str) -> ParsedCertificate:
    """An X.509 certificate (``BEGIN CERTIFICATE``) or a bare RSA public key (``BEGIN PUBLIC KEY``)."""
    data = pem.strip().encode()
    if b"BEGIN CERTIFICATE" in data:
        try:
            cert = x509.load_pem_x509_certificate(data)
        except ValueError as exc:
            raise CertificateError(f"not a readable PEM certificate ({exc})") from exc
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise CertificateError("the certificate's key is not RSA (RS256 needs an RSA key)")
        return ParsedCertificate(
            kind="certificate",
            pem=pem.strip() + "\n",
            fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex(),
            subject=cert.subject.rfc4514_string(),
            key_bits=key.key_size,
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            public_key=key,
        )
    if b"BEGIN PUBLIC KEY" in data or b"BEGIN RSA PUBLIC KEY" in data:
        try:
            public = serialization.load_pem_public_key(data)
        except ValueError as exc:
            raise CertificateError(f"not a readable PEM public key ({exc})") from exc
        if not isinstance(public, rsa.RSAPublicKey):
            raise CertificateError("the public key is not RSA (RS256 needs an RSA key)")
        der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return ParsedCertificate(
            kind="public_key",
            pem=pem.strip() + "\n",
            fingerprint_sha256=hashlib.sha256(der).hexdigest(),
            subject=None,
            key_bits=public.key_size,
            not_before=None,
            not_after=None,
            public_key=public,
        )
    raise CertificateError("expected a PEM certificate (BEGIN CERTIFICATE) or public key (BEGIN PUBLIC KEY)")


@dataclass(frozen=True)
class KeyPair:
    private_key_pem: str
    certificate_pem: str


def new_key_pair(
    common_name: str = "callbridge-telephony",
    *,
    bits: int = 2048,
    days: int = 365,
    now: datetime | None = None,
) -> KeyPair:
    """An RSA private key (PKCS#8 PEM) and a self-signed X.509 certificate for it: what Salesforce asks
    partners to make with OpenSSL."""
    now = now or datetime.now(UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return KeyPair(private_key_pem=private_pem, certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode())
