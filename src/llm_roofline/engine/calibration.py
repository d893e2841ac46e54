"""Measured efficiency tables: the calibrated expected time of one operator.

A hardware profile written by ``llm-roofline measure`` carries an ``efficiency_table``
(format ``llm-roofline/efficiency-table/v1``, documented in docs/CALIBRATION.md). For
each compute dtype it holds what fraction of the roofline each kind of operator reached
on that machine, and a fixed per-operator framework overhead:

- matmul: efficiency per measured (d_in, d_out) shape over token counts; looked up by
  linear interpolation in log(tokens) on the operator's own shape when it was measured,
  else also in log(weight bytes) between the measured shapes;
- attention: efficiency over key counts for decode (1 query) and prefill (queries =
  keys, causal), interpolated in log(keys), then between the two by log(q)/log(k);
- elementwise (and gather): efficiency over the operator's bytes moved, per family
  (norm, rotary, act_fn, residual), interpolated in log(bytes);
- overhead_s: seconds per operator instance by kind (Python and dispatch cost).

efficiency = ideal roofline time / (measured time − overhead), so the calibrated time of
an operator is ``overhead + ideal / efficiency`` (``"sum"``: CPU, where dispatch and work
run one after the other) or ``max(overhead, ideal / efficiency)`` (``"max"``: an
accelerator, where the host queues work ahead of the device). Values above 1 are allowed:
a cache-resident operand beats the DRAM roof. Pure: no I/O, no torch.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .ops import ATTENTION, ELEMENTWISE, GATHER, MATMUL, OpCost

TABLE_FORMAT = "llm-roofline/efficiency-table/v1"
OVERHEAD_MODES = ("sum", "max")
ELEMENTWISE_FAMILIES = ("norm", "rotary", "act_fn", "residual")
_FALLBACK_FAMILY = "residual"  # a plain streaming kernel stands in for unmeasured ops


@dataclass(frozen=True, slots=True)
class Curve:
    """A piecewise-linear function of log(x), held flat beyond its first and last points."""

    xs: tuple[float, ...]  # ascending, > 0
    ys: tuple[float, ...]

    def at(self, x: float) -> float:
        xs, ys = self.xs, self.ys
        if x <= xs[0]:
            return ys[0]
        if x >= xs[-1]:
            return ys[-1]
        i = bisect.bisect_right(xs, x)  # xs[i-1] <= x < xs[i]
        x0, x1 = xs[i - 1], xs[i]
        t = math.log(x / x0) / math.log(x1 / x0)
        return ys[i - 1] + t * (ys[i] - ys[i - 1])


@dataclass(frozen=True, slots=True)
class MatmulCurves:
    """Efficiency of (tokens, d_in) @ (d_in, d_out) per measured shape, by weight size.

    A shape that was measured itself uses its own curve (BLAS speed depends on the exact
    dimensions, not only on the size); any other shape interpolates between sizes.
    """

    weight_bytes: tuple[float, ...]  # ascending; shapes of equal size are averaged
    curves: tuple[tuple[Curve, ...], ...]  # the shapes measured at each weight size
    exact: Mapping[tuple[int, int], Curve] = field(default_factory=dict)  # (d_in, d_out)

    def at(self, tokens: float, weight_bytes: float, dims: tuple[int, int] | None = None) -> float:
        own = self.exact.get(dims) if dims is not None else None
        if own is not None:
            return own.at(tokens)
        per_size = [sum(c.at(tokens) for c in group) / len(group) for group in self.curves]
        return Curve(tuple(self.weight_bytes), tuple(per_size)).at(max(weight_bytes, 1.0))


@dataclass(frozen=True, slots=True)
class Calibration:
    """One dtype's measured efficiencies and overheads (see the module docstring)."""

    dtype: str
    matmul: MatmulCurves
    attention_decode: Curve
    attention_prefill: Curve
    elementwise: Mapping[str, Curve]
    overhead_s: Mapping[str, float]
    overhead_mode: str = "sum"

    def efficiency(self, op: OpCost) -> float | None:
        """The measured fraction of the roofline for ``op``; None for kinds not measured."""
        if op.kind == MATMUL:
            tokens = op.shape[0] if op.shape else 1
            dims = (op.shape[1], op.shape[2]) if len(op.shape) >= 3 else None
            return self.matmul.at(max(tokens, 1), op.weight_bytes, dims)
        if op.kind == ATTENTION:
            queries, keys = (op.shape[0], op.shape[1]) if len(op.shape) >= 2 else (1, 1)
            return attention_efficiency(self, queries, keys)
        if op.kind in (ELEMENTWISE, GATHER):
            curve = self.elementwise.get(elementwise_family(op.name))
            if curve is None:
                curve = self.elementwise[_FALLBACK_FAMILY]
            return curve.at(max(op.bytes, 1.0))
        return None

    def expected_s(self, op: OpCost, ideal_s: float) -> float | None:
        """Calibrated time of one instance given its ideal time; None when not covered."""
        if op.comm_bytes:
            return None  # interconnect traffic is not measured on one device
        eff = self.efficiency(op)
        if eff is None:
            return None
        work = ideal_s / eff
        overhead = self.overhead_s.get(op.kind, 0.0)
        return work + overhead if self.overhead_mode == "sum" else max(work, overhead)


def attention_efficiency(cal: Calibration, queries: int, keys: int) -> float:
    """Decode curve at 1 query, prefill curve at queries = keys, log-blend in between."""
    decode, prefill = cal.attention_decode.at(keys), cal.attention_prefill.at(keys)
    if queries <= 1 or keys <= 1:
        return decode if queries <= 1 else prefill
    f = min(1.0, math.log(queries) / math.log(keys))
    return decode + f * (prefill - decode)


def elementwise_family(name: str) -> str:
    """Which measured kernel family an element-wise operator (by its HF name) belongs to."""
    if name.endswith("norm"):
        return "norm"  # input_layernorm, post_attention_layernorm, final_norm, qk_norm
    if name == "rotary_emb":
        return "rotary"
    if name == "act_fn":
        return "act_fn"
    if name.endswith("residual"):
        return "residual"
    return "default"


# ---- parsing and validation ------------------------------------------------------------


def _fail(field: str, message: str) -> ValueError:
    return ValueError(f"efficiency_table.{field}: {message}")


def _positive_list(field: str, value: Any) -> tuple[float, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise _fail(field, f"must be a non-empty list of numbers, got {value!r}")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise _fail(field, f"must hold positive finite numbers, got {v!r}")
        out.append(float(v))
    return tuple(out)


def parse_curve(field: str, data: Any, x_key: str) -> Curve:
    """A curve from ``{x_key: [...], "efficiency": [...]}`` (x strictly ascending)."""
    if not isinstance(data, Mapping):
        raise _fail(field, f"must be an object, got {data!r}")
    xs = _positive_list(f"{field}.{x_key}", data.get(x_key))
    ys = _positive_list(f"{field}.efficiency", data.get("efficiency"))
    if len(xs) != len(ys):
        raise _fail(field, f"{x_key} has {len(xs)} values but efficiency has {len(ys)}")
    if any(b <= a for a, b in itertools.pairwise(xs)):
        raise _fail(f"{field}.{x_key}", f"must be strictly ascending, got {list(xs)}")
    return Curve(xs, ys)


def _parse_matmul(field: str, data: Any) -> MatmulCurves:
    if not isinstance(data, Sequence) or isinstance(data, str) or not data:
        raise _fail(field, "must be a non-empty list of measured shapes")
    groups: dict[float, list[Curve]] = {}
    exact: dict[tuple[int, int], Curve] = {}
    for i, shape in enumerate(data):
        where = f"{field}[{i}]"
        if not isinstance(shape, Mapping):
            raise _fail(where, f"must be an object, got {shape!r}")
        (size,) = _positive_list(f"{where}.weight_bytes", [shape.get("weight_bytes")])
        curve = parse_curve(where, shape, "tokens")
        groups.setdefault(size, []).append(curve)
        d_in, d_out = shape.get("d_in"), shape.get("d_out")
        if isinstance(d_in, int) and isinstance(d_out, int):
            exact[(d_in, d_out)] = curve
    sizes = sorted(groups)
    return MatmulCurves(tuple(sizes), tuple(tuple(groups[s]) for s in sizes), exact)


def _parse_overheads(field: str, data: Any) -> dict[str, float]:
    if not isinstance(data, Mapping):
        raise _fail(field, f"must map operator kinds to seconds, got {data!r}")
    out = {}
    for kind, value in data.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise _fail(f"{field}.{kind}", f"must be a number >= 0, got {value!r}")
        out[str(kind)] = float(value)
    return out


def calibration_from_table(table: Mapping[str, Any], dtype: str) -> Calibration | None:
    """The ``dtype`` part of an efficiency table, or None when it has no entry for it.

    Raises ValueError naming the field for a malformed table.
    """
    if table.get("format") != TABLE_FORMAT:
        raise _fail("format", f"must be {TABLE_FORMAT!r}, got {table.get('format')!r}")
    mode = table.get("overhead_mode", "sum")
    if mode not in OVERHEAD_MODES:
        raise _fail("overhead_mode", f"must be one of {', '.join(OVERHEAD_MODES)}, got {mode!r}")
    dtypes = table.get("dtypes")
    if not isinstance(dtypes, Mapping):
        raise _fail("dtypes", f"must map dtypes to tables, got {dtypes!r}")
    entry = dtypes.get(dtype)
    if entry is None:
        return None
    if not isinstance(entry, Mapping):
        raise _fail(f"dtypes.{dtype}", "must be an object")
    base = f"dtypes.{dtype}"
    attention = entry.get("attention")
    if not isinstance(attention, Mapping):
        raise _fail(f"{base}.attention", f"must be an object, got {attention!r}")
    elementwise = entry.get("elementwise")
    if not isinstance(elementwise, Mapping) or _FALLBACK_FAMILY not in elementwise:
        raise _fail(f"{base}.elementwise", f"must be an object with a {_FALLBACK_FAMILY!r} curve")
    return Calibration(
        dtype=dtype,
        matmul=_parse_matmul(f"{base}.matmul", entry.get("matmul")),
        attention_decode=parse_curve(f"{base}.attention.decode", attention.get("decode"), "keys"),
        attention_prefill=parse_curve(
            f"{base}.attention.prefill", attention.get("prefill"), "keys"
        ),
        elementwise={
            str(name): parse_curve(f"{base}.elementwise.{name}", curve, "bytes")
            for name, curve in elementwise.items()
        },
        overhead_s=_parse_overheads(f"{base}.overhead_s", entry.get("overhead_s", {})),
        overhead_mode=str(mode),
    )
