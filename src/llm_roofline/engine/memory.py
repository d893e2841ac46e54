"""Memory one device holds: weights + its KV cache + the activations live at once.

Weights: every operator's parameters on that device (replicated parts counted on each).
KV cache: its replica's sequences × its layers × its KV heads × (prompt + output) tokens,
sliding layers keeping only their window. Activations: the largest single operator's live
bytes (``OpCost.live_bytes``: its inputs and outputs, an expert chain's widest step) over
the steps considered; an estimate, not an allocator trace.

Two views of the same formula:
- ``device_memory``: the workload as analyzed (its prefill of ``batch_size`` prompts at
  once and its decode step), the fullest device of the layout;
- ``serving_memory_bytes`` / ``max_batch_size``: continuous batching, as serving engines
  run: every sequence's KV cache plus one scheduled step's activations, that step being
  one prefill chunk (``chunk_size`` tokens of one sequence; no chunking: one whole prompt)
  or the decode step of the whole batch. ``max_batch_size`` keeps ``reserve_fraction`` of
  each device's memory free (allocator slack, CUDA graphs; DEFAULT_RESERVE_FRACTION).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..inputs import xp
from ..inputs.hardware import Hardware
from ..inputs.layout import Layout
from ..inputs.model import Model
from ..inputs.workload import Workload
from ..inputs.xp import Number
from .ops import OpCost, Pass, decode_pass, stack_passes
from .report import Memory
from .sharding import micro_batch_split, stage_key, stage_kv_cache_bytes, stage_operators

DEFAULT_RESERVE_FRACTION = 0.1  # of each device's memory kept free by serving engines
MAX_BATCH_LIMIT = 1 << 24  # the largest batch searched for


def weight_bytes(ops: Sequence[OpCost]) -> Number:
    """Bytes of the parameters the operators own (a number: weights do not vary with the
    batch or the lengths, even when the operators' token counts are arrays)."""
    total = sum(op.param_bytes * op.instances for op in ops)
    return float(total) if xp.is_scalar(total) else total


def live_bytes(ops: Sequence[OpCost]) -> Number:
    """The largest operator's live activation bytes (element-wise for arrays)."""
    largest = xp.largest(op.live_bytes for op in ops)
    return float(largest) if xp.is_scalar(largest) else largest


def stage_total_bytes(weights: Number, kv: Number, activations: Number) -> Number:
    """One device's memory: its weights + its KV cache + the activations live at once."""
    return weights + kv + activations


def device_memory(
    m: Model,
    w: Workload,
    hw: Hardware,
    layout: Layout,
    stage_terms: Sequence[tuple[float, Sequence[float]]],
) -> tuple[Memory, float]:
    """The fullest device's memory, and the weights summed over one replica's devices.

    ``stage_terms[s]``: stage s's weight bytes (``weight_bytes`` of its operators) and the
    live bytes (``live_bytes``) of every operator list whose activations it holds at some
    point (its prefill and decode operators of the first micro-batch).
    """
    worst: Memory | None = None
    replica_weights = 0.0
    tokens = w.prompt_len + w.output_len
    for s, (weights, lives) in enumerate(stage_terms):
        kv = stage_kv_cache_bytes(m, layout, s, w.batch_size, tokens, w.kv_bytes_per_element)
        activations = max(lives)
        total = stage_total_bytes(weights, kv, activations)
        memory = Memory(weights, kv, activations, total, hw.memory_bytes, total <= hw.memory_bytes)
        if worst is None or total > worst.total_bytes:
            worst = memory
        replica_weights += weights * layout.stage_devices
    assert worst is not None
    return worst, replica_weights


def first_micro_batch(p: Pass, layout: Layout) -> Pass:
    """The largest of a pass's pipeline micro-batches (the one whose activations peak)."""
    if layout.micro_batches == 1:
        return p
    (big, count), (small, _) = micro_batch_split(p.batch, layout.micro_batches)
    return p._replace(batch=xp.where(count > 0, big, small))


def _scheduled_steps(w: Workload, batch: Number, chunk_size: int | None) -> list[Pass]:
    """One prefill step (a chunk, or one whole prompt) and the decode step of ``batch``."""
    prompt = w.prompt_len if chunk_size is None else min(chunk_size, w.prompt_len)
    past = 0 if chunk_size is None else w.prompt_len - prompt  # the last chunk sees the most
    prefill = Pass.of(w, new=prompt, past=past, batch=1)
    return [prefill, decode_pass(w, batch=batch)]


def serving_memory_bytes(
    m: Model,
    w: Workload,
    layout: Layout,
    batch: Number,
    chunk_size: int | None = None,
    *,
    kv_bytes: Number | None = None,
) -> Number:
    """Bytes the fullest device needs to serve ``batch`` sequences of prompt + output
    tokens under continuous batching (see the module docstring). ``batch`` and ``kv_bytes``
    (per KV element, default the workload's) may be arrays: one value per configuration."""
    kv = w.kv_bytes_per_element if kv_bytes is None else kv_bytes
    steps = [first_micro_batch(p, layout) for p in _scheduled_steps(w, batch, chunk_size)]
    if kv_bytes is not None:
        steps = [p._replace(kv_bytes=kv) for p in steps]
    # Arrays: both steps in one evaluation (not MLA's absorbed form: its two forms differ).
    stack = not all(p.is_scalar for p in steps) and (m.mla is None or w.mla_decode != "absorbed")
    together, parts = stack_passes(steps) if stack else (None, [])
    stage_weights: dict[int, Number] = {}
    stage_live: dict[int, Number] = {}
    seen = set()  # stages with identical operators hold identical memory
    for s in range(layout.pipeline):
        key = stage_key(m, layout, s)
        if key in seen:
            continue
        seen.add(key)
        if together is not None:
            ops = stage_operators(m, layout, together, s)
            live, weights = live_bytes(ops), weight_bytes(ops)
            activations = xp.largest(xp.part(live, sl, len(parts)) for sl in parts)
            weights = xp.part(weights, parts[0], len(parts))
        else:
            first = [stage_operators(m, layout, p, s) for p in steps]
            activations = xp.largest(live_bytes(ops) for ops in first)
            weights = weight_bytes(first[0])
        stage_weights[s], stage_live[s] = weights, activations
    return serving_total_bytes(m, w, layout, batch, kv, stage_weights, stage_live)


def serving_total_bytes(
    m: Model,
    w: Workload,
    layout: Layout,
    batch: Number,
    kv_bytes: Number,
    stage_weights: dict[int, Number],
    stage_live: dict[int, Number],
) -> Number:
    """The fullest of the stages given: its weights + the KV cache of ``batch`` sequences
    of prompt + output tokens + the live bytes of its scheduled steps (the largest of one
    prefill step and the decode step; ``serving_memory_bytes`` finds them, ``plan`` takes
    them from the passes it already priced)."""
    tokens = w.prompt_len + w.output_len
    worst: Number = 0.0
    for s, weights in stage_weights.items():
        cache = stage_kv_cache_bytes(m, layout, s, batch, tokens, kv_bytes)
        worst = xp.maximum(worst, stage_total_bytes(weights, cache, stage_live[s]))
    return worst


def max_batch_size(
    m: Model,
    w: Workload,
    hw: Hardware,
    layout: Layout,
    *,
    reserve_fraction: float = DEFAULT_RESERVE_FRACTION,
    chunk_size: int | None = None,
) -> int | None:
    """The largest batch whose serving memory fits (1 − reserve) of a device (None: not even
    one sequence). Memory grows with the batch (KV cache, decode activations): bisection."""
    usable = (1 - reserve_fraction) * hw.memory_bytes

    def fits(batch: int) -> bool:
        return bool(serving_memory_bytes(m, w, layout, batch, chunk_size) <= usable)

    if not fits(1):
        return None
    one, two = (serving_memory_bytes(m, w, layout, b, chunk_size) for b in (1, 2))
    slope = two - one
    guess = int((usable - one) / slope) + 1 if slope > 0 else MAX_BATCH_LIMIT
    lo, hi = 1, min(max(guess, 2), MAX_BATCH_LIMIT)  # fits(lo); find the first that does not
    while fits(hi):
        if hi >= MAX_BATCH_LIMIT:
            return MAX_BATCH_LIMIT
        lo, hi = hi, min(2 * hi, MAX_BATCH_LIMIT)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo
