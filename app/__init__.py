"""Unified Inquiry: one answer to "where is my transaction?" across the agencies of Makkah Region."""
