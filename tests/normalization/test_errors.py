"""NormalizationError carries a machine code and a human message and is a ValueError."""

import pytest

from app.normalization.errors import NormalizationError


def test_attributes_and_base_class() -> None:
    err = NormalizationError("invalid_mobile", "The mobile number is not valid.")
    assert isinstance(err, ValueError)
    assert err.code == "invalid_mobile"
    assert err.message == "The mobile number is not valid."
    assert str(err) == "The mobile number is not valid."
    assert "invalid_mobile" in repr(err)


def test_catchable_as_value_error() -> None:
    with pytest.raises(ValueError, match="bad"):
        raise NormalizationError("empty", "bad")
