"""Critical points: the batch at which decode, and the prompt length at which prefill,
turn compute-bound (on the bottleneck device of the layout). Solved from the cost
structure, then verified, never scanned.

Decode FLOPs and bytes are affine in the batch for dense models (weights are read once
whatever the batch; each sequence adds its FLOPs, activations and KV cache), so two
evaluations give the exact crossing. Prefill FLOPs are quadratic in the prompt (causal
attention) and its bytes affine, so three evaluations give it (a MoE model's too, where
its prompts touch every expert). MoE weight traffic and sliding windows bend these curves
otherwise: the guess is then corrected by a galloping search on the (monotone)
predicate, O(log error) evaluations.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from ..inputs.layout import Layout
from ..inputs.model import Model
from ..inputs.workload import Workload
from .compiled import Program, compiled_function, stage_times, stage_totals
from .moe import distinct_experts
from .ops import Pass, decode_pass, prefill_pass
from .sharding import micro_batch_sizes, replica_pass, shard_model
from .timing import Roofs

SEARCH_LIMIT = 1 << 24  # batch sizes and prompt lengths are searched up to this
MOE_AFFINE_BATCH = 4096  # by here a batch touches every expert of any catalog MoE


def device_totals(m: Model, layout: Layout, p: Pass, roofs: Roofs) -> tuple[float, float]:
    """(FLOPs, bytes) of the bottleneck device (the stage with the longest expected time)
    over all its micro-batches: what decides whether the layout is compute-bound."""
    sizes = micro_batch_sizes(p.batch, layout.micro_batches)
    if layout.pipeline == 1 and sizes == [(p.batch, 1)]:
        return stage_totals(m, layout, p, 0, roofs)
    stage = 0
    if layout.pipeline > 1:
        first = _with_batch(p, sizes[0][0])
        times = [stage_times(m, layout, first, s, roofs)[0] for s in range(layout.pipeline)]
        stage = max(range(layout.pipeline), key=times.__getitem__)
    flops = bytes_ = 0.0
    for size, n in sizes:
        f, b = stage_totals(m, layout, _with_batch(p, size), stage, roofs)
        flops, bytes_ = flops + n * f, bytes_ + n * b
    return flops, bytes_


def _direct_totals(
    m: Model, layout: Layout, roofs: Roofs, known: Program | None, make: Callable[[], Pass]
) -> Callable[..., Any] | None:
    """The compiled ``stage_totals`` of a pass class, as a function of (batch, new, past),
    where ``device_totals`` is that (one stage, one micro-batch); None otherwise. The
    searches call it directly: no pass built, no program looked up, per evaluation.
    ``known``: the class's program when the caller has it (``PassTiming.program``), else
    the class of the pass ``make()`` builds."""
    if layout.pipeline != 1 or layout.micro_batches != 1:
        return None
    if known is not None:
        return known.function("totals")
    return compiled_function(m, layout, make(), 0, roofs, "totals")


def _with_batch(p: Pass, batch: int) -> Pass:
    return p if batch == p.batch else p._replace(batch=batch)


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
    m: Model,
    w: Workload,
    roofs: Roofs,
    layout: Layout,
    own: tuple[float, float] | None = None,
    program: Program | None = None,
) -> tuple[int | None, str]:
    """Smallest batch at which the decode step (at the workload's context) is compute-bound.
    ``own``: the (FLOPs, bytes) of the workload's own decode step, when already known;
    ``program``: its compiled operators (``PassTiming.program``), when there are."""
    ridge = roofs.ridge_point
    where = "" if layout.replica_devices == 1 else " on each device"

    direct = _direct_totals(m, layout, roofs, program, lambda: decode_pass(w))
    context = w.decode_context_len

    def totals(batch: int) -> tuple[float, float]:
        if direct is not None:  # any batch: the same pass class
            return direct(batch, 1, context)  # type: ignore[no-any-return]
        return device_totals(m, layout, decode_pass(w, batch=batch), roofs)

    # Through the workload's own batch (already evaluated) and the next one.
    first = w.batch_size
    (f1, b1), (f2, b2) = own or totals(first), totals(first + 1)
    df, db = f2 - f1, b2 - b1  # per added sequence
    slope = df - ridge * db

    def compute_bound(batch: int) -> bool:
        return bool(_ai(*totals(batch)) >= ridge)

    def affine_bound(batch: int) -> bool:  # exact while the step is affine in the batch
        return bool(f1 + df * (batch - first) >= ridge * (b1 + db * (batch - first)))

    vocab = shard_model(m, layout).vocab_size

    def form(batch: int) -> tuple[bool, ...]:  # (one token each; one attention replica)
        return (batch > vocab, True)

    # Affine through the two batches where both have one form (the embedding's cap).
    fit = form(first)
    exact = _affine_in_batch(m, layout) and form(first + 1) == fit
    if slope > 0:
        guess = _ceil_positive(first + (ridge * b1 - f1) / slope)
        found = smallest_integer(affine_bound if exact else compute_bound, guess)
        if exact and not _same_form(form, fit, found):  # the answer is past a change of form
            found = smallest_integer(compute_bound, found or guess)
    elif (exact and _lasts(fit)) or not compute_bound(SEARCH_LIMIT):
        # Affine to the end, or the largest batch searched is memory-bound too (evaluated
        # once: from the cap on the step is affine again, its intensity monotone).
        found = None
    elif m.moe is not None:
        # MoE: the marginal sequence gets cheaper once every expert is touched; from there
        # the step is affine again, so two large batches give the guess.
        (fa, ba), (fb, bb) = totals(MOE_AFFINE_BATCH), totals(2 * MOE_AFFINE_BATCH)
        dfa, dba = (fb - fa) / MOE_AFFINE_BATCH, (bb - ba) / MOE_AFFINE_BATCH
        far = dfa - ridge * dba
        intercept = (fa - dfa * MOE_AFFINE_BATCH) - ridge * (ba - dba * MOE_AFFINE_BATCH)
        guess = _ceil_positive(-intercept / far) if far > 0 else 1
        found = smallest_integer(compute_bound, guess)
    else:
        found = smallest_integer(compute_bound, 1)
    if found is not None:
        return found, f"decode turns compute-bound{where} at batch {found}"
    return None, (
        f"decode stays memory-bound{where} at any batch: each added sequence brings {df / db:.1f} "
        f"FLOP/byte (it reads its own KV cache for a single query), below the ridge point "
        f"{ridge:.1f}"
    )


def _affine_in_batch(m: Model, layout: Layout) -> bool:
    """Decode FLOPs and bytes are exactly affine in the batch: no routed experts (their
    weight reads bend with the batch), no micro-batch split and no attention replicas
    (both cut the batch into ceilings). Embedding rows cap at the vocabulary (checked)."""
    return m.moe is None and layout.micro_batches == 1 and layout.attention_replicas == 1


def _polynomial_in_prompt(m: Model, layout: Layout) -> bool:
    """Prefill FLOPs and bytes are quadratic (at most) in the prompt between changes of
    form (below: the embedding's cap, every expert touched; of the whole batch's pass, so
    one micro-batch): no sliding window (which caps each query's keys), routed experts
    only on one stage (their tokens the batch's)."""
    if m.windows or layout.micro_batches != 1:
        return False
    return m.moe is None or layout.pipeline == 1


# Where FLOPs and bytes change form along the batch or the prompt: whether one device's
# embedding gather is at its cap (at most its shard's vocabulary rows: ops.embed_tokens),
# and for a MoE model whether its tokens touch every expert. Both last once reached.


def _touched(m: Model, tokens: int) -> bool:
    """Every routed expert touched by ``tokens`` (``moe.distinct_experts`` is E, exactly in
    floating point); True without routed experts."""
    return m.moe is None or tokens >= _all_touched_from(m.moe.num_experts, m.moe.experts_per_token)


@functools.lru_cache(maxsize=64)
def _all_touched_from(experts: int, top_k: int) -> int:
    """The fewest tokens that touch every expert (``distinct_experts`` is monotone in the
    tokens): found once per expert count and top-k, by bisection."""
    if distinct_experts(experts, top_k, SEARCH_LIMIT**2) != experts:
        return SEARCH_LIMIT**2 + 1  # (never, within any batch of prompts searched)
    found = smallest_integer(
        lambda t: distinct_experts(experts, top_k, t) == experts, 1, SEARCH_LIMIT**2
    )
    assert found is not None
    return found


def _lasts(form: tuple[bool, ...]) -> bool:
    """A form that holds for every larger batch or prompt (both changes already passed)."""
    return all(form)


def _same_form(
    form: Callable[[int], tuple[bool, ...]], fit: tuple[bool, ...], found: int | None
) -> bool:
    """The fitted polynomial's answer holds: the answer and the count below it have the fit's
    form (None, nothing up to the limit: the fit's form lasts)."""
    if found is None:
        return _lasts(fit)
    return form(found) == fit and (found == 1 or form(found - 1) == fit)


def critical_prompt_len(
    m: Model,
    w: Workload,
    roofs: Roofs,
    layout: Layout,
    own: tuple[float, float] | None = None,
    program: Program | None = None,
) -> tuple[int | None, str]:
    """Smallest prompt length at which prefill (at the workload's batch) is compute-bound.
    ``own``: the (FLOPs, bytes) of the workload's own prefill, when already known;
    ``program``: its compiled operators (``PassTiming.program``), when there are."""
    ridge = roofs.ridge_point
    where = "" if layout.replica_devices == 1 else " on each device"

    def fill() -> Pass:
        return prefill_pass(w)

    direct = _direct_totals(m, layout, roofs, program, fill) if w.prompt_len >= 2 else None

    def totals(prompt: int) -> tuple[float, float]:
        if direct is not None and prompt >= 2:  # prompts of 2 or more: the same pass class
            return direct(w.batch_size, prompt, 0)  # type: ignore[no-any-return]
        return device_totals(m, layout, prefill_pass(w, prompt=prompt), roofs)

    # FLOPs and bytes = a + b·x + c·x² with x = s − P, through the workload's own prompt P
    # (already evaluated) and the next two.
    first = w.prompt_len
    (f0, y0), (f1, y1), (f2, y2) = own or totals(first), totals(first + 1), totals(first + 2)
    fc, yc = (f2 - 2 * f1 + f0) / 2, (y2 - 2 * y1 + y0) / 2
    fb, yb = f1 - f0 - fc, y1 - y0 - yc

    def quadratic_bound(prompt: int) -> bool:
        x = prompt - first
        return bool(f0 + fb * x + fc * x * x >= ridge * (y0 + yb * x + yc * x * x))

    def compute_bound(prompt: int) -> bool:
        return bool(_ai(*totals(prompt)) >= ridge)

    # Root in x of (fc − r·yc)·x² + (fb − r·yb)·x + (f0 − r·y0) = 0, shifted back by P.
    c, b, a = fc - ridge * yc, fb - ridge * yb, f0 - ridge * y0
    shifted = _quadratic_root_real(c, b, a)
    guess = _ceil_positive(first + shifted) if shifted is not None else SEARCH_LIMIT

    vocab = shard_model(m, layout).vocab_size
    rows = w.batch_size if layout.attention_replicas == 1 else replica_pass(fill(), layout).batch

    def form(prompt: int) -> tuple[bool, ...]:
        return (rows * prompt > vocab, _touched(m, w.batch_size * prompt))

    # Quadratic through the three prompts where all have one form (every expert touched).
    fit = form(first)
    exact = _polynomial_in_prompt(m, layout) and fit[-1] and form(first + 2) == fit
    found = smallest_integer(quadratic_bound if exact else compute_bound, guess)
    if exact and not _same_form(form, fit, found):  # the answer is past a change of form
        found = smallest_integer(compute_bound, found or guess)
    if found is None:
        return None, f"prefill stays memory-bound{where} up to {SEARCH_LIMIT} prompt tokens"
    return found, f"prefill turns compute-bound{where} from {found} prompt tokens"


def _quadratic_root_real(c: float, b: float, a: float) -> float | None:
    """The crossing of c·x² + b·x + a from below to >= 0 nearest the sign change, or None."""
    if abs(c) < 1e-30 * max(abs(a), abs(b), 1.0):
        return -a / b if b != 0 else (0.0 if a >= 0 else None)
    disc = b * b - 4 * c * a
    if disc < 0:
        return 0.0 if a >= 0 else None
    root = math.sqrt(disc)
    low, high = (-b - root) / (2 * c), (-b + root) / (2 * c)
    return max(low, high) if c > 0 else min(low, high)


def _ai(flops: float, bytes_: float) -> float:
    return flops / bytes_
