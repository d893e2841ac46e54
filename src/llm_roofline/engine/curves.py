"""Efficiency curves: piecewise-linear in the logarithm of each axis, flat beyond the ends.

A ``Curve`` has 0, 1 or 2 named axes (``tokens``, ``weight_bytes``, ``keys``, ``flops``,
``bytes``, ``devices``). With 0 it is a constant; with 1 it interpolates its values
linearly in log(x) between its knots; with 2 it interpolates bilinearly in (log x, log y)
on a grid (``values[i][j]`` at ``knots[0][i]``, ``knots[1][j]``). Beyond the first or last
knot of an axis the value is held. ``at`` takes Python numbers (bisect, no numpy: a few
hundred nanoseconds) or numpy arrays (``numpy.interp``, element-wise): one lookup rule,
two evaluations of it, tested against each other.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any

from . import xp
from .xp import Number


def _segment(logs: tuple[float, ...], x: float) -> tuple[int, float]:
    """(i, t): x lies between knot i and i + 1 at fraction t in log space (clamped)."""
    lx = math.log(x) if x > 0 else -math.inf
    if lx <= logs[0]:
        return 0, 0.0
    if lx >= logs[-1]:
        return len(logs) - 2, 1.0
    i = bisect.bisect_right(logs, lx) - 1
    return i, (lx - logs[i]) / (logs[i + 1] - logs[i])


def _numpy() -> Any:
    import numpy  # only reached with arrays in hand, so numpy is already imported

    return numpy


def _interp_array(logs: tuple[float, ...], values: Any, x: Any) -> Any:
    np = _numpy()
    lx = np.log(np.maximum(np.asarray(x, dtype=float), 1e-300))
    return np.interp(lx, logs, values)


@dataclass(frozen=True, slots=True)
class Curve:
    axes: tuple[str, ...]
    knots: tuple[tuple[float, ...], ...]  # one ascending tuple of positive knots per axis
    values: tuple[Any, ...]  # 0 axes: (v,); 1 axis: v per knot; 2 axes: rows per knot of axis 0
    _logs: tuple[tuple[float, ...], ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_logs", tuple(tuple(math.log(k) for k in ks) for ks in self.knots)
        )

    @classmethod
    def constant(cls, value: float) -> Curve:
        return cls((), (), (float(value),))

    @property
    def is_constant(self) -> bool:
        return not self.axes

    def at(self, x: Number = 1.0, y: Number = 1.0) -> Number:
        """The value at axis values (x[, y]); numbers give a float, arrays an array."""
        n = len(self.axes)
        if n == 0:
            return self.values[0]
        if n == 1:
            return self._at1(x)
        return self._at2(x, y)

    def _at1(self, x: Number) -> Number:
        logs, values = self._logs[0], self.values
        if len(logs) == 1:
            return values[0] if xp.is_scalar(x) else _numpy().full_like(x, values[0], dtype=float)
        if xp.is_scalar(x):
            i, t = _segment(logs, x)
            return values[i] + t * (values[i + 1] - values[i])
        return _interp_array(logs, values, x)

    def _at2(self, x: Number, y: Number) -> Number:
        lx, ly = self._logs
        rows = self.values
        if xp.is_scalar(x, y):
            if len(lx) == 1:
                return Curve((self.axes[1],), (self.knots[1],), rows[0])._at1(y)
            i, t = _segment(lx, x)
            if len(ly) == 1:
                a, b = rows[i][0], rows[i + 1][0]
                return a + t * (b - a)
            j, u = _segment(ly, y)
            a = rows[i][j] + u * (rows[i][j + 1] - rows[i][j])
            b = rows[i + 1][j] + u * (rows[i + 1][j + 1] - rows[i + 1][j])
            return a + t * (b - a)
        np = _numpy()
        x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        # Along axis 1 for every row (knot of axis 0), then along axis 0 between rows.
        by_row = np.stack([_interp_array(ly, row, y) for row in rows])  # (rows, *shape)
        if len(lx) == 1:
            return by_row[0]
        pos = np.interp(np.log(np.maximum(x, 1e-300)), lx, np.arange(len(lx), dtype=float))
        i = np.minimum(np.floor(pos).astype(int), len(lx) - 2)
        t = pos - i
        lo = np.take_along_axis(by_row, i[None, ...], axis=0)[0]
        hi = np.take_along_axis(by_row, (i + 1)[None, ...], axis=0)[0]
        return lo + t * (hi - lo)

    def to_dict(self) -> dict[str, Any]:
        """The file form: {"over": [axes], <axis>: [knots], "efficiency": values}."""
        out: dict[str, Any] = {"over": list(self.axes)}
        for name, ks in zip(self.axes, self.knots, strict=True):
            out[name] = list(ks)
        if not self.axes:
            out["efficiency"] = self.values[0]
        elif len(self.axes) == 1:
            out["efficiency"] = list(self.values)
        else:
            out["efficiency"] = [list(row) for row in self.values]
        return out
