"""Opaque credentials of the form ``<kind>_<id>_<secret>``: the id finds the row, the secret is hashed.

The recognizable prefix (``uiak_`` for agency keys, ``uist_`` for staff tokens) lets secret
scanners and people tell them apart; only a SHA-256 of the secret is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

AGENCY_KEY_KIND = "uiak"
STAFF_TOKEN_KIND = "uist"


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    public_id: str
    plaintext: str
    secret_hash: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(kind: str) -> IssuedSecret:
    public_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return IssuedSecret(public_id, f"{kind}_{public_id}_{secret}", hash_secret(secret))


def split(kind: str, presented: str) -> tuple[str, str] | None:
    """(public id, secret) of a well-formed credential of this kind, else None."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != kind or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def matches(secret: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented secret with the stored hash."""
    return hmac.compare_digest(hash_secret(secret), stored_hash)
