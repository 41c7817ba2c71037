"""What the outbox drain writes to: per transaction a sink acknowledges, refuses, or fails for now."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

Document = dict[str, Any]


@dataclass(slots=True)
class Failure:
    error_type: str
    reason: str


@dataclass(slots=True)
class SinkResult:
    """Per-transaction outcome of one write; an id is in exactly one of the three groups."""

    indexed: set[int] = field(default_factory=set)
    """Written, or already newer in the index (a version conflict is a no-op success)."""
    deleted: set[int] = field(default_factory=set)
    permanent: dict[int, Failure] = field(default_factory=dict)
    """Refused for good (mapping error...): dead-lettered, never retried automatically."""
    transient: dict[int, Failure] = field(default_factory=dict)
    """Not written now (index down, overloaded): the outbox row stays and is retried later."""

    @property
    def acknowledged(self) -> set[int]:
        return self.indexed | self.deleted

    def merge(self, other: SinkResult) -> SinkResult:
        """Combine two writes of the same ids (dual writes during a rebuild): the worst outcome wins."""
        merged = SinkResult()
        ids = self.acknowledged | other.acknowledged | set(self.permanent) | set(other.permanent)
        ids |= set(self.transient) | set(other.transient)
        for tid in ids:
            if tid in self.permanent or tid in other.permanent:
                merged.permanent[tid] = self.permanent.get(tid) or other.permanent[tid]
            elif tid in self.transient or tid in other.transient:
                merged.transient[tid] = self.transient.get(tid) or other.transient[tid]
            elif tid in self.deleted or tid in other.deleted:
                merged.deleted.add(tid)
            else:
                merged.indexed.add(tid)
        return merged


class Sink(Protocol):
    """Writes documents (``None`` = delete) inside the drain's database transaction."""

    async def write(self, session: AsyncSession, docs: Mapping[int, Document | None]) -> SinkResult: ...
