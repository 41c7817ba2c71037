"""Agencies: the registry from config/ mirrored into the database."""
