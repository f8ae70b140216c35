"""Hash and check officers' passwords with argon2id, rehashing when the parameters change."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from trigger_workflow.errors import TriggerWorkflowError

MIN_LENGTH = 12


@dataclass(frozen=True)
class Hashing:
    """The argon2id cost parameters: time (iterations) and memory in KiB."""

    time_cost: int = 3
    memory_kib: int = 65536

    def hasher(self) -> PasswordHasher:
        """Return an argon2id hasher with these parameters."""
        return PasswordHasher(time_cost=self.time_cost, memory_cost=self.memory_kib)


def hash_password(password: str, hashing: Hashing) -> str:
    """Return the argon2id hash of a password that is long enough."""
    check_strength(password)
    return hashing.hasher().hash(password)


def check_strength(password: str) -> None:
    """Refuse a password shorter than MIN_LENGTH characters, saying why."""
    if len(password) < MIN_LENGTH:
        raise TriggerWorkflowError(f"A password needs at least {MIN_LENGTH} characters.")


def verify(stored_hash: str | None, password: str, hashing: Hashing) -> bool:
    """Return whether the password matches the hash; spend the same effort when there is none."""
    hasher = hashing.hasher()
    try:
        matched = hasher.verify(stored_hash or _DUMMY.get(hashing), password)
    except (VerificationError, InvalidHashError):
        return False
    return matched and stored_hash is not None


def needs_rehash(stored_hash: str, hashing: Hashing) -> bool:
    """Return whether a hash was made with other parameters than the ones now configured."""
    try:
        return hashing.hasher().check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


class _DummyHashes:
    """A hash of nothing per parameter set: unknown usernames cost as much as known ones."""

    def __init__(self) -> None:
        self._hashes: dict[Hashing, str] = {}

    def get(self, hashing: Hashing) -> str:
        if hashing not in self._hashes:
            self._hashes[hashing] = hashing.hasher().hash("no such officer: " + repr(hashing))
        return self._hashes[hashing]


_DUMMY = _DummyHashes()
