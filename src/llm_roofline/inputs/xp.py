"""Arithmetic that takes Python numbers or numpy arrays, so one formula serves both.

Every operator formula and the roofline are written with these instead of ``min``,
``max``, ``if`` and ``math``: given numbers they stay on plain Python floats (no numpy
import, fast for one configuration); given arrays they broadcast element-wise (a sweep of
a million configurations in one evaluation). numpy is imported only when an array is seen.
"""

from __future__ import annotations

import bisect as _bisect
import math
from collections.abc import Iterable, Sequence
from typing import Any

Number = Any  # a Python int/float, or a numpy array of them (broadcast element-wise)
_SCALARS = (int, float)


def _np() -> Any:
    import numpy

    return numpy


def _traced(*values: Any) -> Any:
    """The type of the first traced value among ``values`` (engine/symbolic.py: a type
    with an ``__xp__`` hook, evaluated once to compile the formulas), or None."""
    for v in values:
        if hasattr(type(v), "__xp__"):
            return type(v)
    return None


def is_traced(*values: Any) -> bool:
    return _traced(*values) is not None


def is_scalar(*values: Number) -> bool:
    for v in values:  # noqa: SIM110  (a loop: cheaper than all() over a generator here)
        if type(v) not in _SCALARS:
            return False
    return True


def minimum(a: Number, b: Number) -> Number:
    if type(a) in _SCALARS and type(b) in _SCALARS:
        return a if a <= b else b
    if (t := _traced(a, b)) is not None:
        return t.__xp__("minimum", a, b)
    return _np().minimum(a, b)


def maximum(a: Number, b: Number) -> Number:
    if type(a) in _SCALARS and type(b) in _SCALARS:
        return a if a >= b else b
    if (t := _traced(a, b)) is not None:
        return t.__xp__("maximum", a, b)
    return _np().maximum(a, b)


def where(condition: Any, if_true: Number, if_false: Number) -> Number:
    """``if_true if condition else if_false``, element-wise for arrays."""
    if type(condition) is bool:
        return if_true if condition else if_false
    if (t := _traced(condition, if_true, if_false)) is not None:
        return t.__xp__("where", condition, if_true, if_false)
    return _np().where(condition, if_true, if_false)


def ceil_div(a: Number, b: Number) -> Number:
    """⌈a / b⌉ for positive integers (floor division of the negation: exact, no floats)."""
    return -(-a // b)


def power(base: Number, exponent: Number) -> Number:
    """base ** exponent; float64 for arrays (integer arrays would overflow)."""
    if type(base) in _SCALARS and type(exponent) in _SCALARS:
        return float(base) ** exponent
    if (t := _traced(base, exponent)) is not None:
        return t.__xp__("power", base, exponent)
    np = _np()
    return np.power(np.asarray(base, dtype=float), exponent)


def log(x: Number) -> Number:
    if type(x) in _SCALARS:
        return math.log(x)
    if (t := _traced(x)) is not None:
        return t.__xp__("log", x)
    return _np().log(x)


def log1p(x: Number) -> Number:
    if type(x) in _SCALARS:
        return math.log1p(x)
    if (t := _traced(x)) is not None:
        return t.__xp__("log1p", x)
    return _np().log1p(x)


def expm1(x: Number) -> Number:
    if type(x) in _SCALARS:
        return math.expm1(x)
    if (t := _traced(x)) is not None:
        return t.__xp__("expm1", x)
    return _np().expm1(x)


def bisect(items: Sequence[float], x: Any) -> Any:
    """``bisect.bisect_right(items, x)`` (a traced x: its node)."""
    if (t := _traced(x)) is not None:
        return t.__xp__("bisect", items, x)
    return _bisect.bisect_right(items, x)


def take(items: Sequence[Any], index: Any) -> Any:
    """``items[index]`` for a number index (a traced index: its node)."""
    if type(index) is int:
        return items[index]
    if (t := _traced(index)) is not None:
        return t.__xp__("take", items, index)
    return items[index]


def total(x: Number) -> Number:
    """The sum of an array's elements; a number itself."""
    if type(x) in _SCALARS:
        return x
    return x.sum()


def values(x: Number, count: int) -> list[float]:
    """``count`` floats: an array's elements, or a number repeated."""
    if type(x) in _SCALARS:
        return [float(x)] * count
    return [float(v) for v in _np().broadcast_to(x, (count,))]


def size(x: Number) -> int:
    """Elements of an array; 1 for a number."""
    return 1 if type(x) in _SCALARS else int(_np().size(x))


def broadcast(x: Number, count: int) -> Any:
    """A numpy array of ``count`` elements: an array's (broadcast) or a number repeated."""
    return _np().broadcast_to(x, (count,))


def part(value: Number, sl: slice, parts: int) -> Number:
    """The elements ``sl`` of a term of stacked configurations (``parts`` of them); a
    term that is one value for all of them (a number, a 1-element array) as it is."""
    return value if parts == 1 or size(value) == 1 else value[sl]


def concatenate(parts: Sequence[Any]) -> Any:
    return _np().concatenate(parts)


def array(items: list[int]) -> Number:
    """A numpy integer array of ``items`` (one configuration each)."""
    return _np().asarray(items, dtype=_np().int64)


def to_float(x: Number) -> Number:
    """float(x) for a number, a float64 array for an array."""
    if type(x) in _SCALARS:
        return float(x)
    if (t := _traced(x)) is not None:
        return t.__xp__("float", x)
    return _np().asarray(x, dtype=float)


def first_argmax(values: Sequence[Number]) -> Number:
    """Index of the largest of ``values`` (the first on ties), element-wise for arrays:
    ``max(range(len(values)), key=values.__getitem__)`` for numbers."""
    if all(type(v) in _SCALARS for v in values):
        return max(range(len(values)), key=values.__getitem__)
    np = _np()
    return np.argmax(np.stack(np.broadcast_arrays(*values)), axis=0)


def pick(values: Sequence[Number], index: Number) -> Number:
    """``values[index]``, element-wise when ``index`` is an array (one choice per element)."""
    if type(index) is int:
        return values[index]
    np = _np()
    stacked = np.stack(np.broadcast_arrays(*values))
    return np.take_along_axis(stacked, np.asarray(index)[None, ...], axis=0)[0]


def largest(values: Iterable[Number]) -> Number:
    """The largest of ``values``: ``max`` for numbers, element-wise for arrays."""
    it = iter(values)
    out = next(it)
    for v in it:
        out = maximum(out, v)
    return out
