"""Fitting efficiency curves to measured kernel times: the one fitter behind every table.

``llm-roofline measure`` (a user's machine) and the generation tables the catalog ships
(``kernel_set.py``: H100 kernels) both turn measured samples, an operator record priced by
the engine's own formulas plus its measured time, into the same v2 kernel models
(``engine/calibration.py``) with ``fit_kernel``:

1. fixed = the given per-call overhead (measured on a CPU), or the 10th percentile of the
   excess of measured time over ideal (a GPU kernel's launch-and-sync floor; the
   minimum would let one lucky kernel set it; chosen by cross-validation on the H100
   set: 92.3% of kernels within ×1.25 against 91.2% with the minimum);
2. each point's required efficiencies, ηc = (FLOPs/peak)/(t − fixed) and
   ηm = (bytes/bandwidth)/(t − fixed), clipped to (0, 1];
3. knots on each curve axis (the measured values, or powers of 2 or 4 over their range);
   the curves start from the log-mean of the points around each knot;
4. coordinate descent: each knot in turn takes the value, among those that would make a
   neighbouring point exact (and 1), that minimizes Σ log²(predicted / measured) over the
   points its value reaches (interpolation is linear in the knot values, so every
   candidate is evaluated at once), the highest of equally good ones (a compute curve
   must not stand in for memory time, or it would not transfer to another ridge point);
   four sweeps;
5. values rounded to 4 significant digits (what is written, and what the tests compare).

Deterministic: the same samples give the same table, byte for byte (tested on the shipped
data). numpy is needed here only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ..engine.calibration_table import operator_axis
from ..engine.curves import Curve, make_curve
from ..engine.ops import OpCost

SWEEPS = 4
SIGNIFICANT = 4
MIN_EFFICIENCY = 1e-6
FIXED_QUANTILE = 0.1  # the fixed time: this quantile of the excess of measured over ideal
MIN_WEIGHT = 0.25  # a point proposes a knot value only where that knot weighs this much
TIE = 1e-9  # losses this close (relative) are equal
RELEVANT = 0.02  # default share for KernelSpec.relevant


class Sample(NamedTuple):
    op: OpCost
    time_s: float
    group: str = ""  # what cross-validation holds out together (a shape, a head layout)


@dataclass(frozen=True)
class KernelSpec:
    """Which axes each curve of a kind runs over, and how to place their knots."""

    compute: tuple[str, ...]
    memory: tuple[str, ...]
    knots: tuple[tuple[str, str], ...] = ()  # (axis, "distinct" | "pow2" | "pow4")
    # A kernel shapes a roof's curve only where that roof's ideal is at least this share of
    # the other roof's (1: only kernels bound by that roof).
    relevant: float = RELEVANT

    def rule(self, axis: str) -> str:
        return dict(self.knots).get(axis, "pow2")


def round_sig(x: float, digits: int = SIGNIFICANT) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return float(f"{x:.{digits - 1}e}")


def knots_for(values: np.ndarray, rule: str) -> tuple[float, ...]:
    """Knots covering ``values``: the distinct values, or powers of 2 (4) spanning them."""
    if rule == "distinct":
        return tuple(float(v) for v in np.unique(values))
    base = {"pow2": 2.0, "pow4": 4.0}[rule]
    lo = math.floor(math.log(float(values.min()), base))
    hi = math.ceil(math.log(float(values.max()), base))
    return tuple(base**e for e in range(lo, max(hi, lo) + 1))


def _weights(logs: tuple[float, ...], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(i, t) per point as ``curves._segment`` computes them (clamped at the ends)."""
    if len(logs) == 1:
        return np.zeros(len(x), dtype=int), np.zeros(len(x))
    lx = np.log(x)
    pos = np.interp(lx, logs, np.arange(len(logs), dtype=float))
    i = np.minimum(np.floor(pos).astype(int), len(logs) - 2)
    return i, pos - i


class _Grid:
    """A curve's knot values and, per point, the (knot, weight) pairs it interpolates."""

    def __init__(
        self,
        axes: tuple[str, ...],
        knots: tuple[tuple[float, ...], ...],
        xs: list[np.ndarray],
        n: int,
    ):
        self.axes, self.knots = axes, knots
        self.shape = tuple(len(k) for k in knots) or (1,)
        cols: list[tuple[np.ndarray, np.ndarray]] = []  # (flat knot index, weight) per corner
        if not axes:
            cols = [(np.zeros(n, dtype=int), np.ones(n))]
        elif len(axes) == 1:
            i, t = _weights(tuple(math.log(k) for k in knots[0]), xs[0])
            hi = np.minimum(i + 1, self.shape[0] - 1)
            cols = [(i, 1 - t), (hi, t)]
        else:
            i, t = _weights(tuple(math.log(k) for k in knots[0]), xs[0])
            j, u = _weights(tuple(math.log(k) for k in knots[1]), xs[1])
            ni, nj = self.shape
            i1, j1 = np.minimum(i + 1, ni - 1), np.minimum(j + 1, nj - 1)
            cols = [
                (i * nj + j, (1 - t) * (1 - u)),
                (i * nj + j1, (1 - t) * u),
                (i1 * nj + j, t * (1 - u)),
                (i1 * nj + j1, t * u),
            ]
        self.index = np.stack([c[0] for c in cols])  # (corners, n)
        self.weight = np.stack([c[1] for c in cols])
        self.values = np.ones(int(np.prod(self.shape)))
        self.relevant = np.ones(n, dtype=bool)

    def at_points(self) -> np.ndarray:
        values: np.ndarray = (self.values[self.index] * self.weight).sum(axis=0)
        return values

    def support(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Points that shape this curve (``relevant``) that knot k reaches, its weight at each."""
        w = np.where(self.index == k, self.weight, 0.0).sum(axis=0)
        pts = np.nonzero((w > 0) & self.relevant)[0]
        return pts, w[pts]

    def init(self, required: np.ndarray) -> None:
        """Log-mean of the required values around each knot; empty knots copy a neighbour."""
        logs = np.log(required)
        filled = np.zeros(len(self.values), dtype=bool)
        for k in range(len(self.values)):
            pts, w = self.support(k)
            if len(pts) and w.sum() > 0:
                self.values[k] = math.exp(float((logs[pts] * w).sum() / w.sum()))
                filled[k] = True
        self._fill(filled)

    def _fill(self, filled: np.ndarray) -> None:
        """Knots no point reaches: linear (in log value, along each axis in turn, the last
        axis first) between the nearest reached knots on either side, held beyond them."""
        if not filled.any():
            return
        grid = np.log(self.values.reshape(self.shape))
        known = filled.reshape(self.shape).copy()
        for axis in reversed(range(len(self.shape))):
            g, k = np.moveaxis(grid, axis, -1), np.moveaxis(known, axis, -1)
            for idx in np.ndindex(g.shape[:-1]):
                have = np.nonzero(k[idx])[0]
                if len(have):
                    g[idx] = np.interp(np.arange(g.shape[-1]), have, g[idx][have])
                    k[idx] = True
        self.values = np.exp(grid).reshape(-1)

    def curve(self) -> Curve:
        vals = [round_sig(float(v)) for v in self.values]
        if not self.axes:
            return Curve.constant(vals[0])
        if len(self.axes) == 1:
            return make_curve(self.axes, self.knots, tuple(vals))
        nj = self.shape[1]
        rows = tuple(tuple(vals[i * nj : (i + 1) * nj]) for i in range(self.shape[0]))
        return make_curve(self.axes, self.knots, rows)


def _axis_values(samples: Sequence[Sample], name: str) -> np.ndarray:
    return np.array([float(operator_axis(s.op, name)) for s in samples])


def fit_kernel(
    samples: Sequence[Sample],
    spec: KernelSpec,
    peak_flops_per_s: float,
    bandwidth_bytes_per_s: float,
    fixed_s: float | None = None,
) -> dict[str, Any]:
    """The kernel model (file form: fixed_s, compute, memory) of one kind (module docstring)."""
    flops = np.array([float(s.op.flops) for s in samples])
    moved = np.array([float(s.op.bytes) for s in samples])
    t = np.array([s.time_s for s in samples])
    c_time, m_time = flops / peak_flops_per_s, moved / bandwidth_bytes_per_s
    ideal = np.maximum(c_time, m_time)
    if fixed_s is None:
        above = t > ideal
        excess = (t - ideal)[above]
        fixed_s = (
            round_sig(max(0.0, float(np.quantile(excess, FIXED_QUANTILE)))) if above.any() else 0.0
        )
    specs = [
        (axes, [_axis_values(samples, a) for a in axes], tuple(spec.rule(a) for a in axes), own)
        for axes, own in ((spec.compute, c_time), (spec.memory, m_time))
    ]
    compute, memory = fit_curves(specs, t, np.full(len(t), float(fixed_s)), spec.relevant)
    return {"fixed_s": fixed_s, "compute": compute.to_dict(), "memory": memory.to_dict()}


def _descend(grids: Sequence[tuple[_Grid, np.ndarray]], t: np.ndarray, fixed: np.ndarray) -> None:
    """Coordinate descent on Σ log²(predicted / measured), predicted = fixed + the slowest
    of own / η over the curves (compute and memory; a collective has one)."""
    log_t = np.log(t)
    work = np.maximum(t - fixed, 1e-3 * t)
    for _ in range(SWEEPS):
        for g, (grid, own) in enumerate(grids):
            others = [o / og.at_points() for h, (og, o) in enumerate(grids) if h != g]
            other_time = np.max(others, axis=0) if others else np.zeros_like(t)
            for k in range(len(grid.values)):
                pts, w = grid.support(k)
                if not len(pts):
                    continue
                base = grid.at_points()[pts] - w * grid.values[k]
                required = np.clip(own[pts] / work[pts], MIN_EFFICIENCY, 1.0)
                strong = w >= MIN_WEIGHT
                proposals = (required[strong] - base[strong]) / w[strong]
                cands = np.unique(
                    np.clip(np.append(proposals, [grid.values[k], 1.0]), MIN_EFFICIENCY, 1.0)
                )
                eta = np.maximum(base[None, :] + w[None, :] * cands[:, None], MIN_EFFICIENCY)
                pred = fixed[pts][None, :] + np.maximum(
                    own[pts][None, :] / eta, other_time[pts][None, :]
                )
                loss = ((np.log(pred) - log_t[pts][None, :]) ** 2).sum(axis=1)
                # Ties (the other roof binds, this efficiency does not matter) go to the
                # highest efficiency, so a curve never stands in for the other roof's time
                # (which would not transfer to a device with another ridge point).
                best = np.nonzero(loss <= loss.min() * (1 + TIE) + 1e-15)[0]
                grid.values[k] = cands[int(best.max())]


def fit_curves(
    specs: Sequence[tuple[tuple[str, ...], list[np.ndarray], tuple[str, ...], np.ndarray]],
    t: np.ndarray,
    fixed: np.ndarray,
    relevant: float = RELEVANT,
) -> list[Curve]:
    """Curves for arbitrary axes: each spec is (axes, axis values per point, knot rules,
    the point's time at efficiency 1); predicted = fixed + max over specs of time / η.
    With two curves, a point shapes a curve only where that roof's ideal is at least
    ``relevant`` of the other's (a GEMV says nothing about compute efficiency); knots no
    such point reaches are filled from their neighbours."""
    work = np.maximum(t - fixed, 1e-3 * t)
    grids = []
    for n, (axes, xs, rules, own) in enumerate(specs):
        knots = tuple(knots_for(x, r) for x, r in zip(xs, rules, strict=True))
        grid = _Grid(axes, knots, xs, len(t))
        others = [o for m, (*_, o) in enumerate(specs) if m != n]
        if others:
            grid.relevant = own >= relevant * np.max(others, axis=0)
        grid.init(np.clip(own / work, MIN_EFFICIENCY, 1.0))
        grids.append((grid, own))
    _descend(grids, t, fixed)
    return [grid.curve() for grid, _ in grids]
