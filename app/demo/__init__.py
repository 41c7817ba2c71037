"""Deterministic demo traffic, sent through the real ingestion path."""
