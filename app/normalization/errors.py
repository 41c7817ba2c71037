"""The single error type raised by every normalizer for bad input."""

from __future__ import annotations


class NormalizationError(ValueError):
    """Bad input: ``code`` is stable for machines, ``message`` is a sentence for people.

    It subclasses ``ValueError`` so pydantic validators turn it into a 422 without glue code.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"NormalizationError(code={self.code!r}, message={self.message!r})"
