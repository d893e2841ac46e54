"""The request-level serving view: latency, throughput, memory and cost across batch sizes.

For each batch size B (a static batch of B requests of ``prompt_len`` in, ``output_len``
out), from ``analyze`` (with the parallel layout, if any):
- TTFT: the batch's prefill (chunked, when a chunk size is given); TPOT: one decode step at
  the prompt's context; end-to-end latency: TTFT + every decode step (context growing);
- throughput: B·output_len / end-to-end latency (whole system, and per device), and the
  decode-only rate B / TPOT;
- memory per device under continuous batching (weights + every sequence's KV cache for
  prompt + output + one scheduled step's activations: one prompt, or one chunk, or the
  decode batch; engine/memory.py), checked against (1 − reserve_fraction) of the capacity;
  the largest batch that fits (the same rule as the findings' "largest batch");
- the batch at which a decode step turns compute-bound (on each device);
- cost: price per device-hour × devices / 3600 / (output tokens per second) × 10^6 per
  million output tokens;
- optionally speculative decoding (time per token and speedup at each batch).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ..engine.analyze import analyze, check_layout
from ..engine.memory import DEFAULT_RESERVE_FRACTION, max_batch_size, serving_memory_bytes
from ..engine.report import Report
from ..engine.sharding import ONE_DEVICE
from ..inputs import bounds, checks
from ..inputs.hardware import Hardware
from ..inputs.layout import Layout
from ..inputs.model import Model
from ..inputs.workload import Workload
from .scheduling import chunked_prefill
from .speculative import check_alpha, speculative_decode

DEFAULT_BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
MAX_PRICE_PER_HOUR = 1e6  # per device-hour: anything above is a typo
CHUNK = bounds.Bound(1, bounds.TOKENS.high)


@dataclass(frozen=True)
class SpeculativeConfig:
    draft: Model
    k: int
    alpha: float

    def __post_init__(self) -> None:
        bounds.count("spec_k", self.k, bounds.SPEC_K)
        check_alpha(self.alpha)


@dataclass(frozen=True)
class ServingPoint:
    batch_size: int
    ttft_s: float
    tpot_s: float
    e2e_latency_s: float
    output_tokens_per_s: float  # whole system: B·output_len / e2e latency
    output_tokens_per_s_per_device: float
    decode_tokens_per_s: float  # B / TPOT
    memory_bytes_per_device: float
    fits: bool  # within (1 − reserve_fraction) of the capacity
    decode_bound: str  # of one device's decode step
    cost_per_million_tokens: float | None  # None without a price
    spec_time_per_token_s: float | None = None
    spec_speedup: float | None = None
    tpot_range_s: tuple[float, float] | None = None  # likely (p10, p90), as the report's


@dataclass(frozen=True)
class ServingCurve:
    model: str
    hardware: str
    devices: int
    parallelism: dict[str, int]
    prompt_len: int
    output_len: int
    reserve_fraction: float
    usable_memory_bytes_per_device: float
    max_batch_size: int | None  # the largest batch that fits (None: not even 1)
    compute_bound_batch_size: int | None  # decode turns compute-bound (None: never)
    price_per_device_hour: float | None
    chunk_size: int | None
    speculative: dict[str, Any] | None  # draft, k, alpha
    points: tuple[ServingPoint, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"schema": "llm-roofline/serving/v1", **asdict(self)}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServingCurve:
        body = {k: v for k, v in data.items() if k != "schema"}
        names = {f.name for f in fields(cls)}
        if set(body) != names:
            raise ValueError(f"serving curve keys: expected {sorted(names)}, got {sorted(body)}")
        points = tuple(ServingPoint(**_tuples(p)) for p in body.pop("points"))
        return cls(**body, points=points)


def _tuples(point: dict[str, Any]) -> dict[str, Any]:
    """A point read from JSON, its ranges back to tuples (JSON has lists)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in point.items()}


def serving_curve(
    model: Model,
    hardware: Hardware,
    workload: Workload,
    batch_sizes: Sequence[int] = DEFAULT_BATCH_SIZES,
    layout: Layout | None = None,
    *,
    reserve_fraction: float = DEFAULT_RESERVE_FRACTION,
    price_per_device_hour: float | None = None,
    chunk_size: int | None = None,
    speculative: SpeculativeConfig | None = None,
) -> ServingCurve:
    """The serving view of ``workload`` (its lengths and dtypes) at each batch size
    (ascending, duplicates dropped; the workload's own batch_size is not used)."""
    sizes, reserve = _check_inputs(batch_sizes, reserve_fraction, price_per_device_hour, chunk_size)
    par = ONE_DEVICE if layout is None else layout
    check_layout(model, hardware, par)
    devices = par.devices
    usable = (1 - reserve) * hardware.memory_bytes
    points = []
    compute_bound: int | None = None
    for i, batch in enumerate(sorted(set(sizes))):
        w = replace(workload, batch_size=batch)
        report = analyze(model, hardware, w, par)
        if i == 0:
            compute_bound = report.metrics.critical_batch_size
        points.append(
            _point(
                model,
                hardware,
                w,
                par,
                report,
                devices,
                usable,
                price_per_device_hour,
                chunk_size,
                speculative,
            )
        )
    return ServingCurve(
        model=model.name,
        hardware=hardware.name,
        devices=devices,
        parallelism={
            k: getattr(par, k) for k in ("tensor", "pipeline", "expert", "data", "micro_batches")
        },
        prompt_len=workload.prompt_len,
        output_len=workload.output_len,
        reserve_fraction=reserve,
        usable_memory_bytes_per_device=usable,
        max_batch_size=max_batch_size(
            model, workload, hardware, par, reserve_fraction=reserve, chunk_size=chunk_size
        ),
        compute_bound_batch_size=compute_bound,
        price_per_device_hour=price_per_device_hour,
        chunk_size=chunk_size,
        speculative=None
        if speculative is None
        else {"draft": speculative.draft.name, "k": speculative.k, "alpha": speculative.alpha},
        points=tuple(points),
    )


def _check_inputs(
    batch_sizes: Sequence[int], reserve: float, price: float | None, chunk_size: int | None
) -> tuple[list[int], float]:
    """Each bad value raises ValueError naming its field."""
    if not batch_sizes:
        raise ValueError("batch_sizes must not be empty")
    sizes = [bounds.count("batch_sizes[]", b, bounds.BATCH) for b in batch_sizes]
    checks.non_negative("reserve_fraction", reserve)
    if reserve >= 1:
        raise ValueError(f"reserve_fraction must be in [0, 1), got {reserve!r}")
    if price is not None:
        checks.non_negative("price_per_device_hour", price)
        if price > MAX_PRICE_PER_HOUR:
            raise ValueError(
                f"price_per_device_hour = {price!r} is outside the plausible range 0 to "
                f"{MAX_PRICE_PER_HOUR:,.0f} per device-hour"
            )
    if chunk_size is not None:
        bounds.count("chunk_size", chunk_size, CHUNK)
    return sizes, float(reserve)


def _point(
    m: Model,
    hw: Hardware,
    w: Workload,
    par: Layout,
    report: Report,
    devices: int,
    usable: float,
    price: float | None,
    chunk_size: int | None,
    spec: SpeculativeConfig | None,
) -> ServingPoint:
    metrics = report.metrics
    ttft = metrics.ttft_s
    if chunk_size is not None:
        ttft = (
            chunked_prefill(m, hw, w, chunk_size, par).expected_time_s + metrics.request_overhead_s
        )
    e2e = ttft + metrics.request.decode_s
    rate = par.data * w.batch_size * w.output_len / e2e
    memory = serving_memory_bytes(m, w, par, w.batch_size, chunk_size)
    spec_result = None
    if spec is not None:
        spec_result = speculative_decode(m, spec.draft, hw, w, spec.k, spec.alpha, par)
    return ServingPoint(
        batch_size=w.batch_size,
        ttft_s=ttft,
        tpot_s=metrics.tpot_s,
        e2e_latency_s=e2e,
        output_tokens_per_s=rate,
        output_tokens_per_s_per_device=rate / devices,
        decode_tokens_per_s=metrics.tokens_per_s,
        memory_bytes_per_device=memory,
        fits=memory <= usable,
        decode_bound=report.decode.bound,
        cost_per_million_tokens=None
        if price is None or rate == 0
        else price * devices / 3600 / rate * 1e6,
        spec_time_per_token_s=None if spec_result is None else spec_result.time_per_token_s,
        spec_speedup=None if spec_result is None else spec_result.speedup,
        tpot_range_s=metrics.tpot_range_s,
    )
