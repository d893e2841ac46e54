"""Efficiency curves: piecewise-linear in the logarithm of each axis, flat beyond the ends.

A curve has 0, 1 or 2 named axes (``tokens``, ``weight_bytes``, ``keys``, ``flops``,
``bytes``, ``intensity``, ``devices``). With 0 it is a constant; with 1 it interpolates its
values linearly in log(x) between its knots; with 2 it interpolates bilinearly in
(log x, log y) on a grid (``values[i][j]`` at ``knots[0][i]``, ``knots[1][j]``). Beyond the
first or last knot of an axis the value is held. ``at`` takes Python numbers (bisect, no
numpy: well under a microsecond) or numpy arrays (``numpy.interp``, element-wise): one
lookup rule, two evaluations of it, tested against each other. ``make_curve`` builds the
class for the number of axes.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from ..inputs import xp
from ..inputs.xp import Number

_SCALARS = (int, float)


def _numpy() -> Any:
    import numpy  # only reached with arrays in hand, so numpy is already imported

    return numpy


def _interp_array(logs: tuple[float, ...], values: Any, x: Any) -> Any:
    np = _numpy()
    lx = np.log(np.maximum(np.asarray(x, dtype=float), 1e-300))
    return np.interp(lx, logs, values)


Axis = tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]


def axis_of(logs: tuple[float, ...]) -> Axis:
    """An axis's log knots, its inner knots (all but the ends) and each cell's width: what
    ``_where`` reads, computed once per curve (the same subtractions it would make)."""
    return logs, logs[1:-1], tuple(b - a for a, b in itertools.pairwise(logs))


def _where(axis: Axis, x: Number) -> tuple[Any, Any]:
    """(i, t): x lies between knot i and i + 1 at fraction t in log space, clamped to the
    ends (i = 0, t = 0 below the first knot; i = last but one, t = 1 above the last).

    Written without branches on x beyond its sign, so the same lines serve a number and
    a value being compiled (engine/compiled.py). The inner knots' bisection is the cell
    already clamped (the count of inner knots ≤ log x: 0 below the second knot, the last
    cell from the last but one), and clamping t holds the end values beyond the ends."""
    logs, inner, gaps = axis
    lx = xp.log(x) if x > 0 else -math.inf
    i = xp.bisect(inner, lx)
    t = (lx - xp.take(logs, i)) / xp.take(gaps, i)
    return i, xp.minimum(xp.maximum(t, 0.0), 1.0)


def steps_of(values: tuple[float, ...]) -> tuple[float, ...]:
    """Each cell's rise, values[i + 1] − values[i] (0.0 for one value), computed once."""
    return tuple(b - a for a, b in itertools.pairwise(values)) or (0.0,)


def _segment(values: Any, rises: Any, i: Any, t: Number) -> Number:
    """values[i] + t·(values[i + 1] − values[i]), the rise read from ``steps_of``: linear
    interpolation inside one cell."""
    return xp.take(values, i) + t * xp.take(rises, i)


def _cells(np: Any, logs: tuple[float, ...], x: Any) -> tuple[Any, Any, Any]:
    """(i, i + 1, t) per element: the knot interval of log(x) and the fraction in it,
    clamped to the ends (as ``_where``); one knot: (0, 0, 0)."""
    if len(logs) == 1:
        zero = np.zeros(x.shape, dtype=int)
        return zero, zero, np.zeros(x.shape)
    pos = np.interp(np.log(np.maximum(x, 1e-300)), logs, np.arange(len(logs), dtype=float))
    i = np.minimum(np.floor(pos).astype(int), len(logs) - 2)
    return i, i + 1, pos - i


class Curve:
    """A constant (0 axes); ``Curve1`` and ``Curve2`` carry axes. Immutable by convention."""

    __slots__ = ("_grid", "axes", "knots", "logs", "peak", "readers", "rises", "values", "where")

    def __init__(
        self,
        axes: tuple[str, ...],
        knots: tuple[tuple[float, ...], ...],
        values: tuple[Any, ...],
        readers: tuple[Any, ...] = (),
    ):
        self.axes = axes
        self.knots = knots
        self.values = values
        self.readers = readers  # per axis, a function of an operator record (``read``)
        self.logs = tuple(tuple(math.log(k) for k in ks) for ks in knots)  # per axis
        self.where = tuple(axis_of(logs) for logs in self.logs)  # per axis, for ``_where``
        # Each cell's rise along the last axis (per row with 2 axes), for ``_segment``.
        two = len(axes) == 2
        self.rises = tuple(steps_of(tuple(r)) for r in values) if two else steps_of(values)
        self._grid: Any = None  # 2 axes: the values as a numpy array, made on first array use
        flat = [v for row in values for v in row] if axes and len(axes) == 2 else list(values)
        self.peak = max(flat)  # the largest value anywhere on the curve

    @classmethod
    def constant(cls, value: float) -> Curve:
        return cls((), (), (float(value),))

    def at(self, x: Number = 1.0, y: Number = 1.0) -> Number:
        return self.values[0]

    def read(self, op: Any) -> Number:
        """The value at an operator's own axis quantities (``readers``)."""
        return self.values[0]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Curve) and (self.axes, self.knots, self.values) == (
            other.axes,
            other.knots,
            other.values,
        )

    def __hash__(self) -> int:
        return hash((self.axes, self.knots, self.values))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.axes!r}, {self.knots!r}, {self.values!r})"

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


class Curve1(Curve):
    __slots__ = ()

    def read(self, op: Any) -> Number:
        return self.at(self.readers[0](op))

    def at(self, x: Number = 1.0, y: Number = 1.0) -> Number:
        values = self.values
        if len(values) == 1:
            if type(x) in _SCALARS or xp.is_traced(x):
                return values[0]
            return _numpy().full_like(x, values[0], dtype=float)
        if type(x) in _SCALARS or xp.is_traced(x):  # a number (or one being compiled)
            i, t = _where(self.where[0], x)
            return _segment(values, self.rises, i, t)
        return _interp_array(self.logs[0], values, x)


class Curve2(Curve):
    __slots__ = ()

    def read(self, op: Any) -> Number:
        get_x, get_y = self.readers
        return self.at(get_x(op), get_y(op))

    def at(self, x: Number = 1.0, y: Number = 1.0) -> Number:
        lx, ly, rows = self.logs[0], self.logs[1], self.values
        numbers = type(x) in _SCALARS and type(y) in _SCALARS
        if not numbers and type(y) in _SCALARS and xp.is_traced(x):
            # Compiling at one y (a matmul's weights): its row, a 1-axis curve (the same
            # arithmetic as below).
            return Curve1(self.axes[:1], self.knots[:1], tuple(self._row_at(y))).at(x)
        if numbers or xp.is_traced(x, y):  # numbers (or values being compiled)
            i, t = _where(self.where[0], x) if len(lx) > 1 else (0, 0.0)
            j, u = _where(self.where[1], y) if len(ly) > 1 else (0, 0.0)
            i1 = i + 1 if len(lx) > 1 else i  # the next knot (i is at most the last but one)
            a = _segment(xp.take(rows, i), xp.take(self.rises, i), j, u)
            return a + t * (_segment(xp.take(rows, i1), xp.take(self.rises, i1), j, u) - a)
        if type(y) in _SCALARS:  # one y for every x (a matmul's weights): its row, then 1-D
            return _interp_array(lx, self._row_at(y), x)
        if type(x) in _SCALARS:
            return _interp_array(ly, self._column_at(x), y)
        np = _numpy()
        x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        # The same bilinear rule as for numbers: each element's cell (i, j) and fractions
        # (t, u) in log space, clamped at the ends; four gathers, whatever the knot count.
        i, i1, t = _cells(np, lx, x)
        j, j1, u = _cells(np, ly, y)
        grid = self._grid if self._grid is not None else self._make_grid(np)
        a = grid[i, j] + u * (grid[i, j1] - grid[i, j])
        b = grid[i1, j] + u * (grid[i1, j1] - grid[i1, j])
        return a + t * (b - a)

    def _row_at(self, y: float) -> list[float]:
        """The values along x at one y: each row interpolated as ``at`` would."""
        j, u = _where(self.where[1], y) if len(self.logs[1]) > 1 else (0, 0.0)
        return [_segment(r, rises, j, u) for r, rises in zip(self.values, self.rises, strict=True)]

    def _column_at(self, x: float) -> list[float]:
        """The values along y at one x."""
        lx, rows = self.logs[0], self.values
        i, t = _where(self.where[0], x) if len(lx) > 1 else (0, 0.0)
        r0, r1 = rows[i], rows[min(i + 1, len(lx) - 1)]
        return [a + t * (b - a) for a, b in zip(r0, r1, strict=True)]

    def _make_grid(self, np: Any) -> Any:
        object.__setattr__(self, "_grid", np.asarray(self.values, dtype=float))
        return self._grid


def make_curve(
    axes: tuple[str, ...],
    knots: tuple[tuple[float, ...], ...],
    values: tuple[Any, ...],
    readers: tuple[Any, ...] = (),
) -> Curve:
    """The curve class for ``len(axes)`` (0, 1 or 2) axes; ``readers`` (one function of an
    operator record per axis) make ``read`` work."""
    if not axes:
        return Curve((), (), values)
    return (Curve1 if len(axes) == 1 else Curve2)(axes, knots, values, readers)
