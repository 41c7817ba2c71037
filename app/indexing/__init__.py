"""Who drains the outbox in this process: an arq job when Redis is configured, else an in-process loop."""

from app.indexing.runner import InProcessIndexer, start_indexing

__all__ = ["InProcessIndexer", "start_indexing"]
