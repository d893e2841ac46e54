"""Input validation shared by every public entry point.

Each checker returns the value (normalized) or raises with a message that names the
field and the offending value, so a user never sees a traceback from deep arithmetic.
Booleans are rejected where numbers are expected (``True`` is an ``int`` in Python), and
integers beyond 2^53 everywhere (no arithmetic on them could stay exact or finite). The
plausible range of each physical quantity is in ``bounds``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from .bounds import show

MAX_EXACT_INT = 2**53  # the largest integer every float arithmetic step keeps exact


def _number(field: str, value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{field} must be a number, got {show(value)} ({type(value).__name__})")
    if isinstance(value, numbers.Integral):
        whole = int(value)
        if abs(whole) > MAX_EXACT_INT:  # beyond it, float arithmetic rounds or overflows
            raise ValueError(f"{field} must be at most {MAX_EXACT_INT:,} (2^53), got {show(value)}")
        return whole
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{field} must be finite, got {show(value)}")
    return number


def integer(field: str, value: Any, *, minimum: int = 0, maximum: int | None = None) -> int:
    """An int (or an integral float such as 4096.0, normalized to 4096) in [minimum, maximum].

    A float with a fraction is a ValueError, a bool or a non-number a TypeError.
    """
    number = _number(field, value)
    if isinstance(number, float):
        if not number.is_integer():
            raise ValueError(f"{field} must be a whole number, got {show(value)}")
        number = int(number)
    if number < minimum:
        raise ValueError(f"{field} must be >= {minimum}, got {show(number)}")
    if maximum is not None and number > maximum:
        raise ValueError(f"{field} must be <= {maximum:,}, got {show(number)}")
    return number


def positive(field: str, value: Any) -> float | int:
    """A finite number > 0 (ints stay ints so exact arithmetic stays exact)."""
    number = _number(field, value)
    if number <= 0:
        raise ValueError(f"{field} must be > 0, got {show(value)}")
    return number


def non_negative(field: str, value: Any) -> float | int:
    """A finite number >= 0."""
    number = _number(field, value)
    if number < 0:
        raise ValueError(f"{field} must be >= 0, got {show(value)}")
    return number


def fraction(field: str, value: Any) -> float:
    """A finite number in (0, 1]."""
    number = _number(field, value)
    if not 0 < number <= 1:
        raise ValueError(f"{field} must be in (0, 1], got {show(value)}")
    return float(number)


def boolean(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{field} must be true or false, got {value!r}")
    return value


def text(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a string, got {show(value)} ({type(value).__name__})")
    if not value.strip():
        raise ValueError(f"{field} must be a non-empty string, got {value!r}")
    return value


def string(field: str, value: Any) -> str:
    """Any string, the empty one included (a note, a source)."""
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a string, got {show(value)} ({type(value).__name__})")
    return value


def choice(field: str, value: Any, options: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{field} must be one of {', '.join(options)}; got {show(value)}")
    return value


def instance(field: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    """``value`` when it is a ``kind``, else a TypeError: 'workload must be a Workload, got None'."""
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise TypeError(f"{field} must be {what}, got {show(value)} ({type(value).__name__})")
    return value
