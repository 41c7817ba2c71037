"""Fixtures for the real services live in tests/fixtures/, one module per service."""

pytest_plugins = [
    "tests.fixtures.services",
    "tests.fixtures.database",
    "tests.fixtures.app",
    "tests.fixtures.factories",
    "tests.fixtures.elasticsearch",
    "tests.fixtures.redis",
]
