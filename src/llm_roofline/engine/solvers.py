"""Critical points: the batch at which decode, and the prompt length at which prefill,
turn compute-bound (on the bottleneck device of the layout). Solved from the cost
structure, then verified, never scanned.

Decode FLOPs and bytes are affine in the batch for dense models (weights are read once
whatever the batch; each sequence adds its FLOPs, activations and KV cache), so two
evaluations give the exact crossing. Prefill FLOPs are quadratic in the prompt (causal
attention) and its bytes affine, so three evaluations give it. MoE weight traffic and
sliding windows bend these curves: the guess is then corrected by a galloping search
on the (monotone) predicate, O(log error) evaluations.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from ..inputs.layout import Layout
from ..inputs.model import Model
from ..inputs.workload import Workload
from .ops import Pass, decode_pass, prefill_pass
from .phase import phase_times, phase_totals
from .sharding import micro_batch_sizes, stage_operators
from .timing import Roofs

SEARCH_LIMIT = 1 << 24  # batch sizes and prompt lengths are searched up to this
MOE_AFFINE_BATCH = 4096  # by here a batch touches every expert of any catalog MoE


def device_totals(m: Model, layout: Layout, p: Pass, roofs: Roofs) -> tuple[float, float]:
    """(FLOPs, bytes) of the bottleneck device (the stage with the longest expected time)
    over all its micro-batches: what decides whether the layout is compute-bound."""
    sizes = micro_batch_sizes(p.batch, layout.micro_batches)
    if layout.pipeline == 1 and sizes == [(p.batch, 1)]:
        return phase_totals(stage_operators(m, layout, p, 0))
    stage = 0
    if layout.pipeline > 1:
        first = _with_batch(p, sizes[0][0])
        times = [
            phase_times(stage_operators(m, layout, first, s), roofs)[0]
            for s in range(layout.pipeline)
        ]
        stage = max(range(layout.pipeline), key=times.__getitem__)
    flops = bytes_ = 0.0
    for size, n in sizes:
        f, b = phase_totals(stage_operators(m, layout, _with_batch(p, size), stage))
        flops, bytes_ = flops + n * f, bytes_ + n * b
    return flops, bytes_


def _with_batch(p: Pass, batch: int) -> Pass:
    return p if batch == p.batch else replace(p, batch=batch)


def smallest_integer(
    predicate: Callable[[int], bool], guess: int = 1, limit: int = SEARCH_LIMIT
) -> int | None:
    """Smallest n in [1, limit] with ``predicate(n)`` (monotone: false, then true), or None.

    Starts at ``guess``: an exact guess costs two calls; otherwise gallops away from it
    (steps 1, 2, 4, …) to bracket the answer and bisects inside the bracket.
    """
    n = min(max(1, guess), limit)
    if predicate(n):
        hi, step = n, 1  # true at hi; find a false below
        lo = hi - step
        while lo >= 1 and predicate(lo):
            hi, step = lo, step * 2
            lo = hi - step
        lo = max(lo, 0)  # predicate(0) is false by convention
    else:
        lo, step = n, 1  # false at lo; find a true above
        hi = min(lo + step, limit)
        while not predicate(hi):
            if hi >= limit:
                return None
            lo, step = hi, step * 2
            hi = min(lo + step, limit)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if predicate(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _ceil_positive(x: float) -> int:
    return max(1, min(SEARCH_LIMIT, math.ceil(x))) if math.isfinite(x) else SEARCH_LIMIT


def critical_batch_size(
    m: Model, w: Workload, roofs: Roofs, layout: Layout
) -> tuple[int | None, str]:
    """Smallest batch at which the decode step (at the workload's context) is compute-bound."""
    ridge = roofs.ridge_point
    where = "" if layout.replica_devices == 1 else " on each device"

    def totals(batch: int) -> tuple[float, float]:
        return device_totals(m, layout, decode_pass(w, batch=batch), roofs)

    (f1, b1), (f2, b2) = totals(1), totals(2)
    df, db = f2 - f1, b2 - b1  # per added sequence
    slope = df - ridge * db

    def compute_bound(batch: int) -> bool:
        return bool(_ai(*totals(batch)) >= ridge)

    if slope > 0:
        guess = _ceil_positive((ridge * (b1 - db) - (f1 - df)) / slope)
        found = smallest_integer(compute_bound, guess)
    elif compute_bound(SEARCH_LIMIT):
        # MoE: the marginal sequence gets cheaper once every expert is touched; from there
        # the step is affine again, so two large batches give the guess.
        (fa, ba), (fb, bb) = totals(MOE_AFFINE_BATCH), totals(2 * MOE_AFFINE_BATCH)
        dfa, dba = (fb - fa) / MOE_AFFINE_BATCH, (bb - ba) / MOE_AFFINE_BATCH
        far = dfa - ridge * dba
        intercept = (fa - dfa * MOE_AFFINE_BATCH) - ridge * (ba - dba * MOE_AFFINE_BATCH)
        guess = _ceil_positive(-intercept / far) if far > 0 else 1
        found = smallest_integer(compute_bound, guess)
    else:
        found = None
    if found is not None:
        return found, f"decode turns compute-bound{where} at batch {found}"
    return None, (
        f"decode stays memory-bound{where} at any batch: each added sequence brings {df / db:.1f} "
        f"FLOP/byte (it reads its own KV cache for a single query), below the ridge point "
        f"{ridge:.1f}"
    )


def critical_prompt_len(
    m: Model, w: Workload, roofs: Roofs, layout: Layout
) -> tuple[int | None, str]:
    """Smallest prompt length at which prefill (at the workload's batch) is compute-bound."""
    ridge = roofs.ridge_point
    where = "" if layout.replica_devices == 1 else " on each device"

    def totals(prompt: int) -> tuple[float, float]:
        return device_totals(m, layout, prefill_pass(w, prompt=prompt), roofs)

    (f1, b1), (f2, b2), (f3, _b3) = totals(1), totals(2), totals(3)
    # FLOPs = a + b·s + c·s², bytes = u + v·s, through s = 1, 2, 3.
    c = (f3 - 2 * f2 + f1) / 2
    b = f2 - f1 - 3 * c
    a = f1 - b - c
    v = b2 - b1
    u = b1 - v
    guess = _quadratic_root(c, b - ridge * v, a - ridge * u)
    found = smallest_integer(lambda s: _ai(*totals(s)) >= ridge, guess)
    if found is None:
        return None, f"prefill stays memory-bound{where} up to {SEARCH_LIMIT} prompt tokens"
    return found, f"prefill turns compute-bound{where} from {found} prompt tokens"


def _quadratic_root(c: float, b: float, a: float) -> int:
    """Smallest s > 0 with c·s² + b·s + a >= 0 (the guess; verified by the caller)."""
    if a >= 0:
        return 1
    if abs(c) < 1e-30 * max(abs(a), abs(b), 1.0):
        return _ceil_positive(-a / b) if b > 0 else SEARCH_LIMIT
    disc = b * b - 4 * c * a
    if disc < 0:
        return SEARCH_LIMIT
    return _ceil_positive((-b + math.sqrt(disc)) / (2 * c))


def _ai(flops: float, bytes_: float) -> float:
    return flops / bytes_
