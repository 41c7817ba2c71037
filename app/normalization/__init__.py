"""Pure input normalization shared by the API, the importers and both search backends.

Everything here is free of I/O so the same rules apply wherever data enters the system,
and every rejection is a :class:`NormalizationError` carrying a machine code.
"""

from app.normalization.errors import NormalizationError

__all__ = ["NormalizationError"]
