"""``sweep(model, hardware, **axes) -> Sweep``: every combination of the axes, as columns.

Each axis is a ``Workload`` or ``Layout`` field (or the model, the hardware, the chunk
size of a chunked prefill) given as one value or a sequence; the rows are the cartesian
product, in AXES order (the first axis outermost). Every row carries the numbers
``analyze()`` reports for that configuration (prefill and decode FLOPs, bytes, bound and
times of the bottleneck device, TTFT, TPOT, throughput, memory per device, the critical
batch) from the same formulas evaluated over arrays (studies/sweep_eval.py); a test holds
them equal to ``analyze()`` to 1e-9. With ``chunk_size`` the TTFT is the chunked prefill's
(studies/scheduling.py); the other prefill columns stay those of the unchunked pass.

Rows that cannot run (a layout that does not divide the heads, a device without the
compute dtype or an interconnect) or do not fit are not errors: ``valid`` is False and
``reason`` says why (NaN in their numeric columns when they cannot run). Bad axis values
(a batch of 0, an unknown dtype) are errors naming the axis and the value.

Memory stays bounded: ``sweep_chunks`` yields the columns ROW_CHUNK rows at a time (what
the CLI streams to CSV); ``sweep`` holds them all, evaluated HELD_CHUNK rows at a time.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from typing import Any

import numpy as np

from ..inputs import checks, dtypes
from ..inputs.hardware import Hardware
from ..inputs.layout import Layout
from ..inputs.model import Model
from ..inputs.workload import Workload
from .sweep_eval import ROW_CHUNK, Arrays, Group, GroupEvaluator, group_error
from .sweep_io import Sweep

HAS_ENGINE = "engine" in {f.name for f in fields(Workload)}  # Workload.engine, once it exists
LAYOUT_AXES = ("tensor", "pipeline", "expert", "micro_batches")
GROUP_AXES = (
    "model",
    "hardware",
    "weight_dtype",
    "activation_dtype",
    "kv_dtype",
    *(("engine",) if HAS_ENGINE else ()),
    *LAYOUT_AXES,
    "chunk_size",
    "data",
)
ROW_AXES = ("batch_size", "prompt_len", "context_len", "output_len")
AXES = (*GROUP_AXES, *ROW_AXES)
MINIMUM = {"batch_size": 1, "prompt_len": 1, "context_len": 0, "output_len": 0}
DTYPE_OPTIONS = {
    "weight_dtype": dtypes.WEIGHT_DTYPES,
    "activation_dtype": dtypes.ACTIVATION_DTYPES,
    "kv_dtype": dtypes.STORAGE_DTYPES,
}
ROW_LIMIT = 10**12  # a product beyond this is surely a mistake in an axis


def _values(name: str, value: Any) -> list[Any]:
    """One value or a sequence of them, as a non-empty list."""
    if isinstance(value, (str, Model, Hardware)) or value is None or np.isscalar(value):
        return [value]
    try:
        values = list(value)
    except TypeError:
        return [value]
    if not values:
        raise ValueError(f"sweep axis {name}: no values given")
    return values


def _check(name: str, value: Any) -> Any:
    """One axis value, checked and normalized (errors name the axis and the value)."""
    if name in DTYPE_OPTIONS:
        return dtypes.normalize(name, value, DTYPE_OPTIONS[name])
    if name == "chunk_size":
        return None if value is None else checks.integer(name, _plain(value), minimum=1)
    if name == "context_len" and value is None:
        return None
    if name == "engine":
        Workload(**{name: value})  # the Workload names a bad engine
        return value
    return checks.integer(name, _plain(value), minimum=MINIMUM.get(name, 1))


def _plain(value: Any) -> Any:
    """numpy integers and floats as Python numbers (what the checks accept)."""
    return value.item() if isinstance(value, np.generic) else value


def resolve_input(name: str, value: Any) -> Any:
    """A Model or Hardware as given, or the preset (or device file) it names."""
    if name == "model":
        if isinstance(value, Model):
            return value
        from ..catalog.model_catalog import get_model

        return get_model(checks.text("model", value))
    if isinstance(value, Hardware):
        return value
    from ..catalog.hardware_catalog import resolve_hardware

    return resolve_hardware(checks.text("hardware", value))


class SweepRun:
    """The product of the axes, evaluated group by group; iterate for column chunks."""

    def __init__(
        self,
        model: Any,
        hardware: Any,
        workload: Workload | None = None,
        *,
        price_per_device_hour: float | None = None,
        critical: bool = True,
        row_chunk: int = ROW_CHUNK,
        **axes: Any,
    ) -> None:
        self.row_chunk = checks.integer("row_chunk", row_chunk, minimum=1)  # rows per chunk
        base = Workload() if workload is None else workload
        unknown = sorted(set(axes) - set(AXES))
        if unknown:
            raise ValueError(f"unknown sweep axes {unknown}; known: {', '.join(AXES)}")
        defaults = {name: getattr(base, name, None) for name in AXES} | {
            **{name: 1 for name in (*LAYOUT_AXES, "data")},
            "chunk_size": None,
            "context_len": base.context_len,
        }
        self.axes: dict[str, list[Any]] = {"model": [], "hardware": []}
        for name, given in (("model", model), ("hardware", hardware)):
            self.axes[name] = [resolve_input(name, v) for v in _values(name, given)]
        for name in AXES[2:]:
            raw = axes.get(name, defaults[name])
            self.axes[name] = [_check(name, v) for v in _values(name, raw)]
        if None in self.axes["context_len"] and len(self.axes["context_len"]) > 1:
            raise ValueError(
                "sweep axis context_len: None (the prompt) cannot be mixed with lengths"
            )
        if price_per_device_hour is not None:
            checks.non_negative("price_per_device_hour", price_per_device_hour)
        self.base, self.price, self.critical = base, price_per_device_hour, critical
        self.row_arrays = {
            name: np.asarray([0 if v is None else v for v in self.axes[name]], dtype=float)
            for name in ROW_AXES
        }
        self.group_rows = math.prod(len(self.axes[n]) for n in ROW_AXES)
        self.rows = self.group_rows * math.prod(len(self.axes[n]) for n in GROUP_AXES)
        if self.rows > ROW_LIMIT:
            raise ValueError(f"the sweep has {self.rows:,} rows (more than {ROW_LIMIT:,})")

    def __len__(self) -> int:
        return self.rows

    def __iter__(self) -> Iterator[Arrays]:
        evaluator: GroupEvaluator | None = None
        evaluator_key: tuple[Any, ...] | None = None
        for combo in itertools.product(*(self.axes[n] for n in GROUP_AXES)):
            values = dict(zip(GROUP_AXES, combo, strict=True))
            group, error = self._group(values)
            key = (id(values["model"]), id(values["hardware"]), group)
            if error is None and key != evaluator_key:
                assert group is not None
                context = (
                    None if self.axes["context_len"] == [None] else self.row_arrays["context_len"]
                )
                rows = self.row_arrays
                evaluator = GroupEvaluator(
                    group, rows["batch_size"], rows["prompt_len"], context, rows["output_len"]
                )
                evaluator_key = key
            for start in range(0, self.group_rows, self.row_chunk):
                stop = min(self.group_rows, start + self.row_chunk)
                if error is None:
                    assert evaluator is not None
                    yield self._valid_rows(evaluator, values, start, stop)
                else:
                    yield self._invalid_rows(values, error, start, stop)

    def _group(self, values: dict[str, Any]) -> tuple[Group | None, str | None]:
        fields_ = {k: values[k] for k in ("weight_dtype", "activation_dtype", "kv_dtype")}
        if HAS_ENGINE:
            fields_["engine"] = values["engine"]
        try:
            workload = replace(self.base, **fields_)
            layout = Layout(**{k: values[k] for k in LAYOUT_AXES})
        except ValueError as exc:
            return None, str(exc)
        group = Group(values["model"], values["hardware"], workload, layout)
        return group, group_error(group)

    def _labels(self, values: dict[str, Any], n: int) -> Arrays:
        """The group's own axes as columns of n rows."""
        out: Arrays = {
            "model": _text(n, values["model"].name),
            "hardware": _text(n, values["hardware"].id or values["hardware"].name),
        }
        for name in GROUP_AXES[2:]:
            value = values[name]
            out[name] = _constant(n, value if isinstance(value, str) else value or 0)
        t, e, p = values["tensor"], values["expert"], values["pipeline"]
        out["devices"] = _constant(n, max(t, e) * p * values["data"])
        return out

    def _valid_rows(
        self, ev: GroupEvaluator, values: dict[str, Any], start: int, stop: int
    ) -> Arrays:
        n = stop - start
        cols = self._labels(values, n)
        got = ev.rows(start, stop, chunk_size=values["chunk_size"], critical=self.critical)
        for name in ROW_AXES:
            cols[name] = got.pop(name).astype(np.int64, copy=False)
        cols |= got
        tokens_per_s = values["data"] * cols["batch_size"] / cols["tpot_s"]
        cols["tokens_per_s"] = tokens_per_s
        cols["tokens_per_s_per_device"] = tokens_per_s / cols["devices"]
        capacity = values["hardware"].memory_bytes
        fits = cols["memory_bytes_per_device"] <= capacity
        cols["fits"] = fits
        self._cost(cols, tokens_per_s)
        cols["valid"] = fits
        reason = f"does not fit: needs more than the {capacity / 1e9:g} GB of one device"
        cols["reason"] = (
            _text(n, "")
            if fits.all()
            else np.array(["", reason], dtype=object)[(~fits).view(np.uint8)]
        )
        return _ordered(cols, self.critical, self.price is not None)

    def _cost(self, cols: Arrays, tokens_per_s: np.ndarray) -> None:
        if self.price is not None:
            cols["cost_per_million_tokens"] = cost_per_million_tokens(
                self.price, cols["devices"], tokens_per_s
            )

    def _invalid_rows(self, values: dict[str, Any], error: str, start: int, stop: int) -> Arrays:
        n = stop - start
        cols = self._labels(values, n)
        shape = tuple(len(self.axes[name]) for name in ROW_AXES)
        index = np.unravel_index(np.arange(start, stop), shape)
        for name, i in zip(ROW_AXES, index, strict=True):
            cols[name] = self.row_arrays[name][i].astype(np.int64)
        if self.axes["context_len"] == [None]:
            cols["context_len"] = cols["prompt_len"]
        nan = np.full(n, np.nan)
        for name in NUMERIC_COLUMNS:
            cols[name] = nan
        cols["prefill_bound"] = cols["decode_bound"] = _text(n, "")
        cols["fits"] = cols["valid"] = np.zeros(n, dtype=bool)
        cols["critical_batch_size"] = np.zeros(n, dtype=np.int64)
        if self.price is not None:
            cols["cost_per_million_tokens"] = nan
        cols["reason"] = _text(n, error)
        return _ordered(cols, self.critical, self.price is not None)


NUMERIC_COLUMNS = (
    *(
        f"{phase}_{what}"
        for phase in ("prefill", "decode")
        for what in ("flops", "bytes", "time_s", "expected_time_s")
    ),
    "ttft_s",
    "tpot_s",
    "tokens_per_s",
    "tokens_per_s_per_device",
    "memory_bytes_per_device",
)
PHASE_COLUMNS = tuple(
    f"{phase}_{what}"
    for phase in ("prefill", "decode")
    for what in ("flops", "bytes", "bound", "time_s", "expected_time_s")
)
RESULT_COLUMNS = (
    *PHASE_COLUMNS,
    "ttft_s",
    "tpot_s",
    "tokens_per_s",
    "tokens_per_s_per_device",
    "memory_bytes_per_device",
    "fits",
    "critical_batch_size",
    "cost_per_million_tokens",
    "valid",
    "reason",
)
COLUMNS = (*GROUP_AXES, "devices", *ROW_AXES, *RESULT_COLUMNS)


def _text(n: int, value: str) -> np.ndarray:
    """A constant text column: a read-only view of one string (no per-row copy)."""
    return np.broadcast_to(np.array(value, dtype=object), (n,))


def _constant(n: int, value: Any) -> np.ndarray:
    """A constant column: a read-only view of one value (no per-row copy)."""
    if isinstance(value, str):
        return _text(n, value)
    return np.broadcast_to(np.asarray(value), (n,))


def _ordered(cols: Arrays, critical: bool, priced: bool) -> Arrays:
    skip = {"critical_batch_size"} - ({"critical_batch_size"} if critical else set())
    skip |= set() if priced else {"cost_per_million_tokens"}
    return {name: cols[name] for name in COLUMNS if name not in skip}


def cost_per_million_tokens(price_per_device_hour: float, devices: Any, tokens_per_s: Any) -> Any:
    """price × devices / 3600 / tokens per second × 10^6: the cost of a million tokens."""
    return price_per_device_hour * devices / 3600 / tokens_per_s * 1e6


# Rows per chunk of a sweep held whole: its columns are kept anyway, so larger chunks (no
# joining of many small ones) cost only their temporaries, about the columns' own size.
# A 2^20-row grid ran in 0.29 s first run against 0.69 s in 2^16-row chunks (here).
HELD_CHUNK = 1 << 20


def sweep_chunks(
    model: Any, hardware: Any, workload: Workload | None = None, **axes: Any
) -> SweepRun:
    """The sweep as an iterable of column chunks (``len()`` is the row count): bounded memory."""
    return SweepRun(model, hardware, workload, **axes)


def sweep(
    model: Any,
    hardware: Any,
    workload: Workload | None = None,
    *,
    price_per_device_hour: float | None = None,
    critical: bool = True,
    progress: Callable[[int], None] | None = None,
    **axes: Any,
) -> Sweep:
    """Every combination of ``axes`` (one value or a sequence each; see AXES) for ``model``
    and ``hardware`` (a Model/Hardware or preset name, or a list of them). ``workload``
    gives the fields that are not axes (attention, logits, weight group size, ...) and the
    defaults of those that are; ``progress(rows)`` is called after each chunk."""
    run = SweepRun(
        model,
        hardware,
        workload,
        price_per_device_hour=price_per_device_hour,
        critical=critical,
        row_chunk=HELD_CHUNK,
        **axes,
    )
    parts = []
    for chunk in run:
        parts.append(chunk)
        if progress is not None:
            progress(len(chunk["valid"]))
    return Sweep.concat(parts, COLUMNS)


__all__ = [
    "AXES",
    "COLUMNS",
    "Sweep",
    "SweepRun",
    "cost_per_million_tokens",
    "sweep",
    "sweep_chunks",
]
