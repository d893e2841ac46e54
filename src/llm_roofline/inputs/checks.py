"""Input validation shared by every public entry point.

Each checker returns the value (normalized) or raises with a message that names the
field and the offending value, so a user never sees a traceback from deep arithmetic.
Booleans are rejected where numbers are expected (``True`` is an ``int`` in Python).
"""

from __future__ import annotations

import math
from typing import Any


def _number(field: str, value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{field} must be a number, got {value!r} ({type(value).__name__})")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{field} must be finite, got {value!r}")
    number: float | int = value
    return number


def integer(field: str, value: Any, *, minimum: int = 0) -> int:
    """An int (or an integral float such as 4096.0) >= ``minimum``."""
    _number(field, value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{field} must be a whole number, got {value!r}")
        value = int(value)
    if value < minimum:
        raise ValueError(f"{field} must be >= {minimum}, got {value!r}")
    return int(value)


def positive(field: str, value: Any) -> float | int:
    """A finite number > 0 (ints stay ints so exact arithmetic stays exact)."""
    number = _number(field, value)
    if number <= 0:
        raise ValueError(f"{field} must be > 0, got {value!r}")
    return number


def non_negative(field: str, value: Any) -> float | int:
    """A finite number >= 0."""
    number = _number(field, value)
    if number < 0:
        raise ValueError(f"{field} must be >= 0, got {value!r}")
    return number


def fraction(field: str, value: Any) -> float:
    """A finite number in (0, 1]."""
    _number(field, value)
    if not 0 < value <= 1:
        raise ValueError(f"{field} must be in (0, 1], got {value!r}")
    return float(value)


def boolean(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{field} must be true or false, got {value!r}")
    return value


def text(field: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field} must be a non-empty string, got {value!r}")
    return value


def choice(field: str, value: Any, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ValueError(f"{field} must be one of {', '.join(options)}; got {value!r}")
    return str(value)
