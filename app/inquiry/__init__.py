"""Citizen inquiry: "where is my transaction?" by reference and verifier, without login."""
