"""The analysis result: one serializable ``Report`` (JSON schema ``llm-roofline/report/v2``).

Every presentation (table, JSON, CSV, plot, web page) reads a Report and computes nothing
of its own. ``Report.from_dict(report.to_dict()) == report`` holds (tested); the JSON is a
public contract, documented in docs/REPORT_SCHEMA.md.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, dataclass, fields, is_dataclass
from typing import Any, NamedTuple

from ..inputs import checks
from ..inputs.documents import load_json

SCHEMA = "llm-roofline/report/v2"


class OperatorRow(NamedTuple):
    """One operator summed over its instances (``count``, e.g. the layers that have it).

    A NamedTuple, not a dataclass like the other records: an analysis builds dozens, and a
    tuple is built several times faster (its JSON is still an object of these fields)."""

    name: str
    kind: str
    count: int  # type: ignore[assignment]  # (shadows tuple.count, as the field must)
    flops: float
    bytes: float
    weight_bytes: float
    activation_bytes: float
    kv_bytes: float
    comm_bytes: float
    arithmetic_intensity: float | None
    bound: str
    time_s: float
    expected_time_s: float


@dataclass(slots=True)
class Phase:
    flops: float
    bytes: float
    arithmetic_intensity: float | None
    bound: str
    time_s: float  # ideal roofline: Σ over operators of max(FLOPs/peak, bytes/bandwidth)
    expected_time_s: float  # with achievable fractions of peak (or a measured profile)
    compute_time_s: float  # FLOPs / peak, the phase's compute floor
    memory_time_s: float  # bytes / bandwidth, the phase's memory floor
    memory_bound_time_fraction: float
    operators: tuple[OperatorRow, ...]

    def operator(self, name: str) -> OperatorRow:
        for row in self.operators:
            if row.name == name:
                return row
        raise KeyError(name)


@dataclass(slots=True)
class Memory:
    weight_bytes: float
    kv_cache_bytes: float
    activation_bytes: float
    total_bytes: float
    capacity_bytes: float
    fits: bool


@dataclass(slots=True)
class Request:
    """One request per sequence of the batch: prefill (the first token), then output_len − 1
    decode steps; total_s = TTFT + Σ TPOT as serving benchmarks count latency."""

    prefill_s: float
    decode_steps: int  # output_len − 1: the prefill yields the first token
    decode_s: float
    total_s: float
    ideal_total_s: float
    output_tokens_per_s: float  # the whole batch's generated tokens / total time


@dataclass(slots=True)
class Metrics:
    ttft_s: float
    tpot_s: float
    tokens_per_s: float  # decode throughput of the batch: batch / TPOT
    prefill_tokens_per_s: float
    mfu: dict[str, float]  # per phase: FLOPs / expected time / peak
    mbu: dict[str, float]  # per phase: bytes / expected time / bandwidth
    memory: Memory
    critical_batch_size: int | None
    critical_batch_size_reason: str
    critical_prompt_len: int | None
    critical_prompt_len_reason: str
    request: Request
    # The engine's fixed time per request before its first token (part of ttft_s), and the
    # likely ranges (10th-90th percentile of measured / expected in the calibration data)
    # of TTFT, TPOT and decode throughput; None where the device has no such residuals.
    request_overhead_s: float = 0.0
    ttft_range_s: tuple[float, float] | None = None
    tpot_range_s: tuple[float, float] | None = None
    tokens_per_s_range: tuple[float, float] | None = None


@dataclass(slots=True)
class ParallelismSummary:
    """Present when the analysis ran on several devices (``analyze(..., parallelism=)``).

    Scope: ``phases`` and ``metrics.memory`` describe ONE device, the one of the slowest
    pipeline stage (its operators over all micro-batches); ``metrics`` times, throughput,
    MFU (model FLOPs over all devices' peak) and ``request`` describe the whole system.
    Per-phase dicts are keyed "prefill" and "decode".
    """

    tensor: int
    pipeline: int
    expert: int
    data: int  # model replicas, each with its own batch (throughput and cost scale)
    micro_batches: int
    devices: int  # every device: tensor/expert × pipeline × data
    attention_replicas: int  # data-parallel attention replicas per stage (expert / tensor)
    stage_layers: tuple[int, ...]  # layers per pipeline stage
    bottleneck_stage: dict[str, int]  # the stage whose device ``phases`` describes
    per_device_flops: dict[str, float]  # that device's FLOPs (= phases[...].flops)
    system_flops: dict[str, float]  # executed by all devices (replicated work counted)
    model_flops: dict[str, float]  # the unsharded model's FLOPs (the MFU numerator)
    comm_bytes: dict[str, float]  # sent over the interconnect by that device
    busy_time_s: dict[str, float]  # that device's expected busy time (= phases' expected)
    latency_s: dict[str, float]  # expected: prefill fill-drain, decode steady-state step
    ideal_latency_s: dict[str, float]
    bubble_fraction: dict[str, float]  # idle share of the latency (pipeline bubbles)
    system_weight_bytes: float  # weights over one replica's devices (replicated parts counted)


@dataclass(slots=True)
class Report:
    model: dict[str, Any]
    hardware: dict[str, Any]
    workload: dict[str, Any]
    compute_dtype: str
    peak_flops_per_s: float
    bandwidth_bytes_per_s: float
    ridge_point: float
    phases: dict[str, Phase]
    metrics: Metrics
    warnings: tuple[str, ...] = ()
    schema: str = SCHEMA
    parallelism: ParallelismSummary | None = None  # present when a layout was given
    findings: tuple[str, ...] = ()  # plain-English lines (studies/findings.py), when asked

    @property
    def prefill(self) -> Phase:
        return self.phases["prefill"]

    @property
    def decode(self) -> Phase:
        return self.phases["decode"]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = _plain(self)
        for phase in data["phases"].values():  # the rows a list, as ever
            phase["operators"] = list(phase["operators"])
        if data["parallelism"] is None:  # a single-device report's JSON is unchanged
            del data["parallelism"]
        return {"schema": data.pop("schema"), **data}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        checks.instance("data", data, dict, "a dict (a report's JSON object)")
        if data.get("schema") != SCHEMA:
            raise ValueError(f"schema must be {SCHEMA!r}, got {data.get('schema')!r}")
        _expect_keys("report", data, cls)
        metrics = dict(data["metrics"])
        _expect_keys("metrics", metrics, Metrics)
        metrics["memory"] = _build(Memory, metrics["memory"], "metrics.memory")
        metrics["request"] = _build(Request, metrics["request"], "metrics.request")
        for key in ("ttft_range_s", "tpot_range_s", "tokens_per_s_range"):
            if isinstance(metrics.get(key), list):  # JSON has no tuples
                metrics[key] = tuple(metrics[key])
        phases = {name: _phase(name, phase) for name, phase in data["phases"].items()}
        nested = ("phases", "metrics", "warnings", "parallelism", "findings")
        return cls(
            **{k: v for k, v in data.items() if k not in nested},
            phases=phases,
            metrics=Metrics(**metrics),
            warnings=tuple(data.get("warnings", ())),
            parallelism=_parallelism(data.get("parallelism")),
            findings=tuple(data.get("findings", ())),
        )

    @classmethod
    def from_json(cls, text: str) -> Report:
        """A report from its JSON text (nesting limited before parsing)."""
        return cls.from_dict(load_json(text, "report JSON"))


def _phase(name: str, data: dict[str, Any]) -> Phase:
    rows = tuple(
        _build(OperatorRow, row, f"phases.{name}.operators[{i}]")
        for i, row in enumerate(data["operators"])
    )
    phase: Phase = _build(Phase, {**data, "operators": rows}, f"phases.{name}")
    return phase


def _parallelism(data: dict[str, Any] | None) -> ParallelismSummary | None:
    if data is None:
        return None
    fixed = dict(data)
    if isinstance(fixed.get("stage_layers"), list):  # JSON has no tuples
        fixed["stage_layers"] = tuple(fixed["stage_layers"])
    summary: ParallelismSummary = _build(ParallelismSummary, fixed, "parallelism")
    return summary


_ROW_FIELDS = OperatorRow._fields
_FIELDS: dict[type, tuple[str, ...]] = {}  # each record class's field names


def _plain(x: Any) -> Any:
    """``dataclasses.asdict`` for a report's values, ten times faster: records (dataclasses
    and operator rows) become dicts of their fields; dicts, lists and tuples are copied
    with their own type; numbers, strings and None stay (all are immutable)."""
    kind = type(x)
    if kind is dict:
        return {k: _plain(v) for k, v in x.items()}
    if kind is tuple or kind is list:
        return kind(_plain(v) for v in x)
    if kind is OperatorRow:
        return dict(zip(_ROW_FIELDS, x, strict=True))  # its fields are all plain values
    names = _FIELDS.get(kind)
    if names is None:
        if not is_dataclass(x):
            return x
        names = _FIELDS[kind] = tuple(f.name for f in fields(x))
    return {name: _plain(getattr(x, name)) for name in names}


def _expect_keys(where: str, data: dict[str, Any], cls: type) -> None:
    if cls is OperatorRow:
        names, required = set(_ROW_FIELDS), set(_ROW_FIELDS)
    else:
        names = {f.name for f in fields(cls)}
        required = {
            f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
        }
    unknown = set(data) - names
    missing = required - set(data)
    if unknown or missing:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    _expect_keys(where, data, cls)
    return cls(**data)
