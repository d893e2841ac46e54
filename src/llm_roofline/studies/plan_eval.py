"""What `plan` knows about one layout: its prefill, its decode steps over a batch grid, its
memory: the engine's pass_times over an array of batches (the sweep's evaluation) and
engine/memory.py.

The serving model (docs/PLAN.md), continuous batching without queueing:
- a request's first token comes from a prefill of its prompt alone (batch 1; chunked when a
  chunk size is given): TTFT = t_prefill;
- B sequences decode together; a decode step at the middle of a request's output (context
  prompt + (output − 2) // 2) stands for its average step: t_decode(B);
- aggregated serving runs every request's prefill on the same devices, so over the life of
  a request (output − 1 decode steps) the replica also prefills the B − 1 others that take
  turns in the batch: a slot is held S = B·t_prefill + (n − 1)·t_decode, a replica makes
  B·n tokens per S, and the time between a user's tokens is
  TPOT = t_decode + (B − 1)·t_prefill / (n − 1).
Request mixes weigh each class (``RequestClass.weight``): the means of t_prefill, n and
n − 1, and the (n − 1)-weighted mean of t_decode, go into the same formulas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..engine import roofline
from ..engine.analyze import roofs_for
from ..engine.memory import serving_memory_bytes, serving_total_bytes
from ..engine.ops import decode_pass, prefill_pass
from ..engine.pipeline import pass_times_of
from ..engine.sharding import stage_kv_cache_bytes
from ..engine.timing import Roofs
from ..inputs import checks, dtypes, xp
from ..inputs.hardware import Hardware
from ..inputs.layout import Layout
from ..inputs.model import Model
from ..inputs.workload import Workload
from .scheduling import chunked_prefill


@dataclass(frozen=True)
class RequestClass:
    """Requests of one shape: ``weight`` is their share of all requests (any scale)."""

    prompt_len: int
    output_len: int
    weight: float = 1.0

    def __post_init__(self) -> None:
        checks.integer("prompt_len", self.prompt_len, minimum=1)
        checks.integer("output_len", self.output_len, minimum=2)  # a TPOT needs two tokens
        checks.positive("weight", self.weight)

    @property
    def decode_context(self) -> int:
        """Context of the middle decode step (steps run at prompt .. prompt + output − 2)."""
        return self.prompt_len + (self.output_len - 2) // 2


@dataclass(frozen=True)
class Evaluated:
    """One layout with one weight and KV format (and chunk size), over the batch grid."""

    hardware: Hardware
    layout: Layout  # micro_batches = pipeline (decode keeps every stage busy)
    workload: Workload  # its dtypes; lengths come from the request classes
    chunk_size: int | None
    batch: np.ndarray  # the batch grid (int)
    prefill_s: np.ndarray  # per class: one prompt's prefill (TTFT), expected
    decode_s: np.ndarray  # (classes, batches): a decode step at the class's middle context
    memory_bytes: np.ndarray  # per batch: serving memory of the fullest device, worst class
    prefill_memory_bytes: float  # one prompt being prefilled (a disaggregated prefill pool)
    kv_bytes_per_device: np.ndarray  # per class: one request's KV cache on the fullest device
    prefill_bound: str  # of the first class's prefill
    decode_bound: np.ndarray  # per batch, first class

    @property
    def devices(self) -> int:
        return self.layout.replica_devices


def _price_class(
    m: Model,
    hw: Hardware,
    layout: Layout,
    w: Workload,
    kv_dtypes: Sequence[str],
    batch: np.ndarray,
    chunk_size: int | None,
    roofs: Roofs,
) -> dict[str, Any]:
    """One request class (``w``'s lengths) on the layout for every KV format at once: the
    bytes per KV element are an array, the decode and memory arrays are (format × batch)."""
    kvs = np.asarray([dtypes.bytes_per_element(k) for k in kv_dtypes])
    nk, nb = len(kvs), len(batch)
    grid, kv_grid = np.tile(batch.astype(float), nk), np.repeat(kvs, nb)
    peak, bandwidth = roofs.peak_flops_per_s, roofs.bandwidth_bytes_per_s
    first, steps = pass_times_of(  # one prompt's prefill and the decode steps, one array
        m,
        layout,
        [
            prefill_pass(w, batch=np.ones(nk))._replace(kv_bytes=kvs),
            decode_pass(w, batch=grid)._replace(kv_bytes=kv_grid),
        ],
        roofs,
    )
    if chunk_size is None:
        prefill = np.asarray(first.fill_drain_s)
    else:
        chunked = [
            chunked_prefill(m, hw, replace(w, kv_dtype=k), chunk_size, layout) for k in kv_dtypes
        ]
        prefill = np.asarray([ch.expected_time_s for ch in chunked])
    prefill = prefill + roofs.request_overhead_s  # TTFT, as analyze() counts it
    if chunk_size is None:  # the steps memory schedules are the passes just priced
        live = {
            s: np.maximum(np.repeat(np.broadcast_to(pre, (nk,)), nb), dec)
            for s, (pre, dec) in enumerate(
                zip(first.stage_live_bytes, steps.stage_live_bytes, strict=True)
            )
        }
        weights = dict(enumerate(steps.stage_weight_bytes))
        memory = serving_total_bytes(m, w, layout, grid, kv_grid, weights, live)
    else:
        memory = serving_memory_bytes(m, w, layout, grid, chunk_size, kv_bytes=kv_grid)
    kv = xp.largest(
        stage_kv_cache_bytes(m, layout, s, 1, w.prompt_len, kvs) for s in range(layout.pipeline)
    )
    return {
        "prefill": prefill,
        "decode": np.reshape(steps.steady_s, (nk, nb)),
        "memory": np.reshape(memory, (nk, nb)),
        "kv": kv,
        "bounds": (
            roofline.bound(first.flops, first.bytes, peak, bandwidth),
            roofline.bound(steps.flops, steps.bytes, peak, bandwidth),
        ),
    }


def evaluate(
    m: Model,
    hw: Hardware,
    layout: Layout,
    workloads: Sequence[Workload],
    classes: Sequence[RequestClass],
    batch: np.ndarray,
    chunk_size: int | None,
    *,
    prefill_pool: bool = False,
) -> list[Evaluated]:
    """Price the layout for every class and each of ``workloads`` (equal but for their KV
    dtype): one prompt's prefill (analyze()'s TTFT at batch 1, or scheduling.chunked_prefill's),
    the decode step over the batch grid (analyze()'s TPOT) and serving memory (engine/memory.py),
    every KV format and batch in one array evaluation (the bytes per KV element an array)."""
    roofs = roofs_for(hw, workloads[0])
    kvs = np.asarray([w.kv_bytes_per_element for w in workloads])
    nk, nb = len(kvs), len(batch)
    out: dict[str, list[Any]] = {}
    for c in classes:
        w = replace(
            workloads[0],
            batch_size=1,
            prompt_len=c.prompt_len,
            context_len=c.decode_context,
            output_len=c.output_len,
        )
        kv_dtypes = [x.kv_dtype for x in workloads]
        priced = _price_class(m, hw, layout, w, kv_dtypes, batch, chunk_size, roofs)
        if prefill_pool:
            pool = serving_memory_bytes(
                m, replace(w, output_len=0), layout, np.ones(nk), chunk_size, kv_bytes=kvs
            )
            priced["pool"] = np.asarray(pool)
        for key, value in priced.items():
            out.setdefault(key, []).append(value)
    prefill_bound, decode_bound = out["bounds"][0]
    memory = np.maximum.reduce(out["memory"])
    pool = np.maximum.reduce(out["pool"]) if prefill_pool else np.full(nk, np.nan)
    return [
        Evaluated(
            hardware=hw,
            layout=layout,
            workload=w,
            chunk_size=chunk_size,
            batch=batch,
            prefill_s=np.asarray([x[k] for x in out["prefill"]]),
            decode_s=np.vstack([x[k] for x in out["decode"]]),
            memory_bytes=memory[k],
            prefill_memory_bytes=float(pool[k]),
            kv_bytes_per_device=np.asarray([x[k] for x in out["kv"]], dtype=float),
            prefill_bound=str(np.broadcast_to(prefill_bound, (nk,))[k]),
            decode_bound=np.reshape(np.broadcast_to(decode_bound, (nk * nb,)), (nk, nb))[k],
        )
        for k, w in enumerate(workloads)
    ]


@dataclass(frozen=True)
class Mix:
    """The request mix's means (weights normalized)."""

    weights: np.ndarray
    output_len: float  # mean n
    decode_steps: float  # mean n − 1

    @classmethod
    def of(cls, classes: Sequence[RequestClass]) -> Mix:
        w = np.asarray([c.weight for c in classes], dtype=float)
        w = w / w.sum()
        n = np.asarray([c.output_len for c in classes], dtype=float)
        return cls(w, float(w @ n), float(w @ (n - 1)))

    def prefill_s(self, prefill_s: np.ndarray) -> Any:
        """Mean prefill time per request."""
        return self.weights @ prefill_s

    def decode_s(self, decode_s: np.ndarray, output_lens: np.ndarray) -> Any:
        """Mean decode step, weighted by the steps each class takes."""
        steps = self.weights * (output_lens - 1)
        return steps @ decode_s / steps.sum()


def continuous_batching(
    batch: Any, prefill_s: Any, decode_s: Any, output_len: float, decode_steps: float
) -> tuple[Any, Any]:
    """(tokens/s of one replica, TPOT) of aggregated serving at ``batch`` (module docstring):
    B·n / (B·t_prefill + (n − 1)·t_decode) and t_decode + (B − 1)·t_prefill / (n − 1)."""
    slot_s = batch * prefill_s + decode_steps * decode_s
    return batch * output_len / slot_s, decode_s + (batch - 1) * prefill_s / decode_steps


def disaggregated_rate(
    prefill_replicas: Any,
    prefill_s: Any,
    decode_replicas: Any,
    batch: Any,
    decode_s: Any,
    decode_steps: float,
) -> Any:
    """Requests per second of x prefill replicas (one prompt each at a time) feeding y
    decode replicas of B slots: min(x / t_prefill, y·B / ((n − 1)·t_decode))."""
    return np.minimum(
        prefill_replicas / prefill_s, decode_replicas * batch / (decode_steps * decode_s)
    )
