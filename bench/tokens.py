"""Pools of tokens minted the way the Amazon Connect Lambdas mint theirs (RS256, ``iss`` = org id, ``sub`` =
call center, ``iat``/``exp``, a fresh uuid-v1 ``jti``, header ``{"alg":"RS256","typ":"JWT"}``), in parallel
processes before the load starts, so the load generator only reads them."""

from __future__ import annotations

import os
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

# contactLensProcessor's lifetime ("15m"): the whole bench fits in it (invokeTelephonyIntegrationApi uses 5m).
TOKEN_TTL_SECONDS = 15 * 60


@dataclass(frozen=True)
class MintRun:
    tokens: int
    seconds: float
    processes: int


def _mint(args: tuple[str, str, str, int, int]) -> list[str]:
    private_key_pem, iss, sub, count, now = args
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return [
        jwt.encode(
            {"iss": iss, "sub": sub, "iat": now, "exp": now + TOKEN_TTL_SECONDS, "jti": str(uuid.uuid1())},
            key,
            algorithm="RS256",
        )
        for _ in range(count)
    ]


def mint_pools(
    private_key_pem: str, iss: str, sub: str, sizes: dict[str, int], directory: Path
) -> tuple[dict[str, Path], MintRun]:
    """One file of distinct tokens per pool name (one token per line); every token in every pool is unique."""
    processes = os.cpu_count() or 1
    total = sum(sizes.values())
    now = int(time.time())
    chunk = max(1, -(-total // (processes * 4)))
    jobs = [(private_key_pem, iss, sub, min(chunk, total - start), now) for start in range(0, total, chunk)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=processes) as pool:
        minted = [token for batch in pool.map(_mint, jobs) for token in batch]
    seconds = time.perf_counter() - started
    files: dict[str, Path] = {}
    offset = 0
    for name, size in sizes.items():
        path = directory / f"tokens-{name}.txt"
        path.write_text("\n".join(minted[offset : offset + size]) + "\n")
        offset += size
        files[name] = path
    return files, MintRun(tokens=total, seconds=seconds, processes=processes)


def read_pool(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line]
