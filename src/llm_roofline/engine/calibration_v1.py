"""Version 1 efficiency tables (CPU profiles measured before v2), read as v2.

``upgrade_v1`` maps a v1 table onto the v2 format that ``calibration_table.parse_table`` reads,
checking every field it uses (errors name it); ``read_table`` parses either version.
docs/CALIBRATION.md describes both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .calibration import TABLE_FORMAT, TABLE_FORMAT_V1, Calibration
from .calibration_table import _fail, _knots, _number, _obj, _values, parse_table
from .curves import Curve, make_curve


def _v1_curve(where: str, axis: str, data: Any, x_key: str) -> dict[str, Any]:
    data = _obj(where, data)
    xs = _knots(f"{where}.{x_key}", data.get(x_key))
    ys = _values(f"{where}.efficiency", data.get("efficiency"), len(xs), True)
    return {"over": [axis], axis: list(xs), "efficiency": list(ys)}


def _v1_matmul(where: str, shapes: Any) -> dict[str, Any]:
    """v1 per-shape curves over tokens -> one (tokens, weight_bytes) grid: shapes of equal
    size averaged, each curve read at every token count any shape measured (held flat
    beyond its own), as v1's lookup between measured sizes did."""
    if not isinstance(shapes, Sequence) or isinstance(shapes, str) or not shapes:
        raise _fail(where, f"must be a non-empty list of measured shapes, got {shapes!r}")
    by_size: dict[float, list[Curve]] = {}
    tokens: set[float] = set()
    for i, s in enumerate(shapes):
        c = _v1_curve(f"{where}[{i}]", "tokens", s, "tokens")
        size = _number(f"{where}[{i}].weight_bytes", s.get("weight_bytes"), strict=True)
        xs = tuple(c["tokens"])
        by_size.setdefault(size, []).append(make_curve(("tokens",), (xs,), tuple(c["efficiency"])))
        tokens.update(xs)
    sizes, grid = sorted(by_size), sorted(tokens)
    rows = [
        [sum(float(c.at(t)) for c in by_size[w]) / len(by_size[w]) for w in sizes] for t in grid
    ]
    return {
        "over": ["tokens", "weight_bytes"],
        "tokens": grid,
        "weight_bytes": sizes,
        "efficiency": rows,
    }


def upgrade_v1(table: Mapping[str, Any]) -> dict[str, Any]:
    """The v2 form of a v1 table. A v1 efficiency divided the whole ideal time, so it
    becomes both the compute and the memory curve; v1's overhead per kind is the fixed
    time. Two v1 rules are not kept: a shape measured itself used its own curve, and
    attention between one query and as many as keys blended the decode and prefill curves
    (the prefill curve serves every pass of more than one query)."""
    dtypes = _obj("dtypes", table.get("dtypes"))
    out: dict[str, Any] = {}
    for name, entry in dtypes.items():
        base = f"dtypes.{name}"
        entry = _obj(base, entry)
        over = _obj(f"{base}.overhead_s", entry.get("overhead_s", {}))
        for kind, value in over.items():
            _number(f"{base}.overhead_s.{kind}", value)

        def kernel(
            curve: dict[str, Any], kind: str, over: Mapping[str, Any] = over
        ) -> dict[str, Any]:
            return {"fixed_s": over.get(kind, 0.0), "compute": curve, "memory": curve}

        att = _obj(f"{base}.attention", entry.get("attention"))
        elementwise = _obj(f"{base}.elementwise", entry.get("elementwise"))
        if "residual" not in elementwise:
            raise _fail(f"{base}.elementwise", "must have a 'residual' curve")
        families = {
            f: kernel(_v1_curve(f"{base}.elementwise.{f}", "bytes", c, "bytes"), "elementwise")
            for f, c in elementwise.items()
        }
        residual = _v1_curve(
            f"{base}.elementwise.residual", "bytes", elementwise["residual"], "bytes"
        )
        out[str(name)] = {
            "matmul": kernel(_v1_matmul(f"{base}.matmul", entry.get("matmul")), "matmul"),
            "attention": {
                "decode": kernel(
                    _v1_curve(f"{base}.attention.decode", "keys", att.get("decode"), "keys"),
                    "attention",
                ),
                "prefill": kernel(
                    _v1_curve(f"{base}.attention.prefill", "keys", att.get("prefill"), "keys"),
                    "attention",
                ),
            },
            "elementwise": families | {"default": families["residual"]},
            "gather": kernel(residual, "gather"),
        }
    return {
        "format": TABLE_FORMAT,
        "status": "measured",
        "generation": "measured",
        "note": "expected time: measured profile (efficiency table v1, read as v2)",
        "overhead_mode": table.get("overhead_mode", "sum"),
        "dtypes": out,
    }


def read_table(table: Mapping[str, Any]) -> Calibration:
    """A table of either version, parsed (v1 through ``upgrade_v1``)."""
    if table.get("format") == TABLE_FORMAT_V1:
        table = upgrade_v1(table)
    return parse_table(table)
