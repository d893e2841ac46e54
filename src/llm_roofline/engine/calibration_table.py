"""Parsing an efficiency table (``llm-roofline/efficiency-table/v2``) into a ``Calibration``.

Every malformed field raises ValueError naming it; the model itself (what the parsed records
mean) is in ``calibration``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..inputs import xp
from ..inputs.xp import Number
from .calibration import (
    AXES,
    COLLECTIVE_IMPLEMENTATIONS,
    ENGINE_NUMBERS,
    OVERHEAD_MODES,
    PHASES,
    STATUSES,
    TABLE_FAMILIES,
    TABLE_FORMAT,
    VARIANT_FAMILIES,
    Calibration,
    CollectiveModel,
    DtypeModel,
    EngineProfile,
    KernelModel,
)
from .curves import Curve, make_curve
from .ops import OpCost

# ---- parsing --------------------------------------------------------------------------


def _fail(where: str, message: str) -> ValueError:
    return ValueError(f"efficiency_table.{where}: {message}")


def _obj(where: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(where, f"must be an object, got {value!r}")
    return value


def _number(where: str, value: Any, *, minimum: float = 0.0, strict: bool = False) -> float:
    bad = isinstance(value, bool) or not isinstance(value, (int, float))
    if bad or not math.isfinite(value) or value < minimum or (strict and value <= minimum):
        bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
        raise _fail(where, f"must be a finite number {bound}, got {value!r}")
    return float(value)


def _knots(where: str, value: Any) -> tuple[float, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise _fail(where, f"must be a non-empty list of numbers, got {value!r}")
    knots = tuple(_number(f"{where}[{i}]", v, strict=True) for i, v in enumerate(value))
    if any(b <= a for a, b in itertools.pairwise(knots)):
        raise _fail(where, f"must be strictly ascending, got {list(knots)}")
    return knots


def _values(where: str, value: Any, n: int, positive: bool) -> tuple[float, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != n:
        raise _fail(where, f"must be a list of {n} numbers, got {value!r}")
    return tuple(_number(f"{where}[{i}]", v, strict=positive) for i, v in enumerate(value))


_LARGE_TOKENS = 1 << 30  # a matmul without a shape reads its curve at the largest tokens
_SCALARS = (int, float)


def _at_least_one(x: Number) -> Number:
    return x if type(x) in _SCALARS and x >= 1 else xp.maximum(x, 1.0)


# What a curve axis reads from an operator record (numbers or numpy arrays).
OPERATOR_AXES: dict[str, Callable[[OpCost], Number]] = {
    "tokens": lambda op: op.shape[0] if op.shape else _LARGE_TOKENS,  # a matmul's rows
    "weight_bytes": lambda op: _at_least_one(op.weight_bytes),
    "keys": lambda op: op.shape[1] if len(op.shape) > 1 else 1,  # attention: keys per sequence
    "flops": lambda op: _at_least_one(op.flops),
    "bytes": lambda op: _at_least_one(op.bytes),
    # FLOPs per byte (attention: about the query heads per KV head)
    "intensity": lambda op: _at_least_one(op.flops) / _at_least_one(op.bytes),
}


def operator_axis(op: OpCost, name: str) -> Number:
    """An operator's quantity that a curve is read at."""
    if name not in OPERATOR_AXES:
        raise ValueError(f"an operator has no curve axis {name!r}")
    return OPERATOR_AXES[name](op)


def parse_curve(
    where: str, data: Any, axes_allowed: Sequence[str] = AXES, *, positive: bool = True
) -> Curve:
    """A curve from ``{"over": [axes], <axis>: [knots], "efficiency": values}``; the values
    must be > 0 (efficiencies) unless ``positive`` is False (a latency may be 0)."""
    data = _obj(where, data)
    over = data.get("over", [])
    if not isinstance(over, list) or len(over) > 2 or any(a not in axes_allowed for a in over):
        raise _fail(
            f"{where}.over", f"must list at most 2 of {', '.join(axes_allowed)}, got {over!r}"
        )
    if len(set(over)) != len(over):
        raise _fail(f"{where}.over", f"names an axis twice: {over!r}")
    unknown = set(data) - {"over", "efficiency", "time_s", *over}
    if unknown:
        raise _fail(where, f"unknown key {sorted(unknown)[0]!r}")
    knots = tuple(_knots(f"{where}.{axis}", data.get(axis)) for axis in over)
    raw = data.get("efficiency")
    if not over:
        return Curve.constant(_number(f"{where}.efficiency", raw, strict=positive))
    if len(over) == 1:
        values = _values(f"{where}.efficiency", raw, len(knots[0]), positive)
        return make_curve(tuple(over), knots, values, _readers(over))
    if not isinstance(raw, Sequence) or isinstance(raw, str) or len(raw) != len(knots[0]):
        raise _fail(f"{where}.efficiency", f"must hold {len(knots[0])} rows, got {raw!r}")
    rows = tuple(
        _values(f"{where}.efficiency[{i}]", row, len(knots[1]), positive)
        for i, row in enumerate(raw)
    )
    return make_curve(tuple(over), knots, rows, _readers(over))


def _readers(axes: Sequence[str]) -> tuple[Callable[[OpCost], Number], ...]:
    """Operator readers for a curve's axes ("devices" is read by the collective's caller)."""
    return tuple(OPERATOR_AXES[a] for a in axes if a in OPERATOR_AXES)


def parse_kernel(where: str, data: Any, axes: Sequence[str]) -> KernelModel:
    data = _obj(where, data)
    unknown = set(data) - {"fixed_s", "compute", "memory", "note"}
    if unknown:
        raise _fail(where, f"unknown key {sorted(unknown)[0]!r}")
    for key in ("compute", "memory"):
        if key not in data:
            raise _fail(where, f"missing key {key!r}")
    return KernelModel(
        _number(f"{where}.fixed_s", data.get("fixed_s", 0.0)),
        parse_curve(f"{where}.compute", data["compute"], axes),
        parse_curve(f"{where}.memory", data["memory"], axes),
    )


MATMUL_AXES = ("tokens", "weight_bytes", "flops", "bytes")
ATTENTION_AXES = ("keys", "flops", "bytes", "tokens", "intensity")
ELEMENTWISE_AXES = ("bytes",)


def parse_dtype(where: str, data: Any) -> DtypeModel:
    data = _obj(where, data)
    info = {"note", "overhead_method", "per_layer_overhead_s"}  # how it was measured
    unknown = set(data) - {"matmul", "attention", "elementwise", "gather", *info}
    if unknown:
        raise _fail(where, f"unknown key {sorted(unknown)[0]!r}")
    attention = _obj(f"{where}.attention", data.get("attention"))
    families = _obj(f"{where}.elementwise", data.get("elementwise"))
    if "default" not in families:
        raise _fail(f"{where}.elementwise", "must have a 'default' entry")
    for family in families:
        if family not in TABLE_FAMILIES:
            raise _fail(
                f"{where}.elementwise",
                f"unknown family {family!r}; known: {', '.join(TABLE_FAMILIES)}",
            )
    elementwise = {
        str(f): parse_kernel(f"{where}.elementwise.{f}", v, ELEMENTWISE_AXES)
        for f, v in families.items()
    }
    for family, parent in VARIANT_FAMILIES.items():  # every family has an entry
        if family not in elementwise:
            elementwise[family] = (
                _NO_TIME if parent is None else elementwise.get(parent, elementwise["default"])
            )
    gather = (
        parse_kernel(f"{where}.gather", data["gather"], ELEMENTWISE_AXES)
        if "gather" in data
        else elementwise["default"]
    )
    for key in attention:
        if key not in ("decode", "decode_kv8", "prefill"):
            raise _fail(f"{where}.attention", f"unknown key {key!r}")
    decode = parse_kernel(f"{where}.attention.decode", attention.get("decode"), ATTENTION_AXES)
    kv8 = attention.get("decode_kv8")
    return DtypeModel(
        matmul=parse_kernel(f"{where}.matmul", data.get("matmul"), MATMUL_AXES),
        decode_attention=decode,
        decode_attention_kv8=decode
        if kv8 is None
        else parse_kernel(f"{where}.attention.decode_kv8", kv8, ATTENTION_AXES),
        prefill_attention=parse_kernel(
            f"{where}.attention.prefill", attention.get("prefill"), ATTENTION_AXES
        ),
        elementwise=elementwise,
        gather=gather,
    )


_NO_TIME = KernelModel(0.0, Curve.constant(1.0), Curve.constant(1.0))


def parse_collective(where: str, data: Any) -> CollectiveModel:
    data = _obj(where, data)
    unknown = set(data) - {"alpha_s", "ring", "switch", "note"}
    if unknown:
        raise _fail(where, f"unknown key {sorted(unknown)[0]!r}")
    switch = data.get("switch")
    return CollectiveModel(
        parse_curve(f"{where}.alpha_s", data.get("alpha_s"), ("devices",), positive=False),
        parse_curve(f"{where}.ring", data.get("ring"), ("bytes",)),
        None if switch is None else parse_curve(f"{where}.switch", switch, ("devices", "bytes")),
    )


def parse_engine(where: str, name: str, data: Any) -> EngineProfile:
    data = _obj(where, data)
    allowed = {*ENGINE_NUMBERS, "compute_cap_flops_per_s", "quantized_matmul_dtype"}
    allowed |= {"collective", "description", "sources", "fitted", "inherits"}
    unknown = set(data) - allowed
    if unknown:
        raise _fail(where, f"unknown key {sorted(unknown)[0]!r}")
    numbers = {
        k: _number(f"{where}.{k}", data[k], strict=k.endswith("scale"))
        for k in ENGINE_NUMBERS
        if k in data
    }
    cap = data.get("compute_cap_flops_per_s")
    dtype = data.get("quantized_matmul_dtype")
    if dtype is not None and dtype not in ("int8", "fp8"):
        raise _fail(f"{where}.quantized_matmul_dtype", f"must be int8, fp8 or null, got {dtype!r}")
    collective = data.get("collective", "nccl")
    if collective not in COLLECTIVE_IMPLEMENTATIONS:
        raise _fail(
            f"{where}.collective",
            f"must be one of {', '.join(COLLECTIVE_IMPLEMENTATIONS)}, got {collective!r}",
        )
    return EngineProfile(
        name=name,
        compute_cap_flops_per_s=None
        if cap is None
        else _number(f"{where}.compute_cap_flops_per_s", cap, strict=True),
        quantized_matmul_dtype=dtype,
        collective=collective,
        **numbers,
    )


def _ranges(data: Any) -> dict[str, tuple[float, float]]:
    out = {}
    for phase, pair in _obj("ranges", data).items():
        if phase not in PHASES:
            raise _fail("ranges", f"unknown phase {phase!r}; known: {', '.join(PHASES)}")
        pair = _obj(f"ranges.{phase}", pair)
        low = _number(f"ranges.{phase}.low", pair.get("low"), strict=True)
        high = _number(f"ranges.{phase}.high", pair.get("high"), strict=True)
        if not low <= 1.0 <= high:
            raise _fail(f"ranges.{phase}", f"must have low <= 1 <= high, got {low}, {high}")
        out[phase] = (low, high)
    return out


_PARTS: dict[int, tuple[Any, Any]] = {}


def _memo(where: str, data: Any, parse: Any) -> Any:
    """parse(where, data), once per data object: tables that share their dtype entries
    (the same generation under several engine profiles) are parsed once."""
    hit = _PARTS.get(id(data))
    if hit is not None and hit[0] is data:
        return hit[1]
    parsed = parse(where, data)
    if len(_PARTS) >= 256:
        _PARTS.clear()
    _PARTS[id(data)] = (data, parsed)  # holding data keeps its id from being reused
    return parsed


def parse_table(table: Mapping[str, Any]) -> Calibration:
    """A whole v2 table (``calibration_v1.read_table`` also takes v1); raises ValueError
    naming the bad field."""
    if table.get("format") != TABLE_FORMAT:
        raise _fail("format", f"must be {TABLE_FORMAT!r}, got {table.get('format')!r}")
    status = table.get("status", "measured")
    if status not in STATUSES:
        raise _fail("status", f"must be one of {', '.join(STATUSES)}, got {status!r}")
    mode = table.get("overhead_mode", "sum")
    if mode not in OVERHEAD_MODES:
        raise _fail("overhead_mode", f"must be one of {', '.join(OVERHEAD_MODES)}, got {mode!r}")
    dtypes = _obj("dtypes", table.get("dtypes"))
    aliases = _obj("aliases", table.get("aliases", {}))
    for alias, target in aliases.items():
        if target not in dtypes:
            raise _fail(f"aliases.{alias}", f"names no dtype of the table: {target!r}")
    engines = _obj("engines", table.get("engines", {}))
    default = str(table.get("default_engine", ""))
    if engines and default not in engines and (default or status != "measured"):
        raise _fail("default_engine", f"must name one of the engines, got {default!r}")
    return Calibration(
        generation=str(table.get("generation", "")),
        status=status,
        note=str(table.get("note", "")),
        overhead_mode=mode,
        dtypes={str(k): _memo(f"dtypes.{k}", v, parse_dtype) for k, v in dtypes.items()},
        aliases={str(k): str(v) for k, v in aliases.items()},
        collectives={
            str(k): _memo(f"collectives.{k}", v, parse_collective)
            for k, v in _obj("collectives", table.get("collectives", {})).items()
        },
        engines={str(k): parse_engine(f"engines.{k}", str(k), v) for k, v in engines.items()},
        default_engine=default,
        ranges=_ranges(table.get("ranges", {})),
    )
