"""Benchmarks against the real services: ``python -m bench.run --transactions N`` (see bench/README.md)."""
