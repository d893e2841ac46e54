"""Time prefill and decode steps of a real model on a grid of batches and lengths.

A point is one forward pass: prefill of ``tokens`` new tokens per sequence into an empty
cache, or one decode step (1 new token per sequence) with ``tokens`` already cached. The
cache contents do not change the cost, so a decode point at context C just starts at
position C of a zeroed cache; no prefill runs first. Each point: warm-up, then the median
of timed repeats (``torch.cuda.synchronize`` before the clock is read on a GPU).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..measure.allocator import keep_freed_memory
from ..measure.timer import summarize, timed_call
from ..model import Model

PHASES = ("prefill", "decode")


@dataclass(frozen=True)
class Point:
    phase: str  # "prefill" | "decode"
    dtype: str
    batch: int
    tokens: int  # prefill: prompt tokens per sequence; decode: tokens already cached


@dataclass(frozen=True)
class Timed:
    point: Point
    measured_s: float  # the chosen statistic of the timed runs (TimingOptions.statistic)
    times_s: tuple[float, ...]
    quiet: int = 0  # timed runs with no other process beside them (measure/timer.py)


@dataclass(frozen=True)
class TimingOptions:
    device: str = "cpu"
    backend: str = "ours"  # "ours" (validate.model) or "transformers"
    warmup: int = 1
    repeats: int = 5
    min_repeats: int = 3
    budget_s: float = 20.0  # per point, once min_repeats are in
    threads: int | None = None
    seed: int = 0
    statistic: str = "median"  # or "min" (measure/timer.py says when)


def grid(
    dtypes: Sequence[str],
    prompt_lens: Sequence[int],
    batches: Sequence[int],
    context_lens: Sequence[int],
    prefill_batches: Sequence[int] = (1,),
) -> list[Point]:
    """Prefill points (prefill_batches × prompt_lens) and decode points (batches × contexts)."""
    points = []
    for dtype in dtypes:
        points += [Point("prefill", dtype, b, t) for b in prefill_batches for t in prompt_lens]
        points += [Point("decode", dtype, b, c) for b in batches for c in context_lens]
    return points


Step = Callable[[int], object]


def _our_steps(
    m: Model, dtype: str, points: Sequence[Point], opts: TimingOptions
) -> Iterable[tuple[Point, Step]]:
    import torch

    from ..measure.torch_backend import TORCH_DTYPES
    from .model import build_decoder

    max_batch = max(p.batch for p in points)
    max_len = max(p.tokens + (1 if p.phase == "decode" else 0) for p in points)
    decoder = build_decoder(
        m,
        batch=max_batch,
        max_len=max_len,
        dtype=TORCH_DTYPES[dtype],
        device=opts.device,
        seed=opts.seed,
    )
    generator = torch.Generator().manual_seed(opts.seed)
    for p in points:
        new = p.tokens if p.phase == "prefill" else 1
        start = 0 if p.phase == "prefill" else p.tokens
        ids = torch.randint(0, m.vocab_size, (p.batch, new), generator=generator).to(opts.device)
        yield p, _bind(decoder, ids, start)


def _bind(decoder: Any, ids: Any, start: int) -> Step:
    """One forward of ``decoder`` on ``ids`` at position ``start`` (the argument is unused)."""

    def step(i: int) -> object:
        return decoder(ids, start)

    return step


def time_points(
    m: Model,
    points: Sequence[Point],
    opts: TimingOptions,
    tick: Callable[[Point, Timed], None] | None = None,
) -> list[Timed]:
    """Every point timed ``opts.repeats`` times, one model build per dtype.

    Repeats run in rounds (every point once per round, after a warm-up of each), so the
    runs of one point are spread over the whole measurement: on a host whose speed drifts
    with other tenants' load, no point is measured only in a slow (or a fast) spell.
    """
    import torch

    if opts.threads:
        torch.set_num_threads(opts.threads)
    if opts.device == "cpu":
        keep_freed_memory()  # as measure does: no page faults on re-allocated activations
    sync: Callable[[], None] = (
        (lambda: torch.cuda.synchronize()) if opts.device == "cuda" else (lambda: None)
    )
    results = []
    for dtype in dict.fromkeys(p.dtype for p in points):
        chosen = [p for p in points if p.dtype == dtype]
        with torch.inference_mode():
            steps = list(_steps(m, dtype, chosen, opts))
            timed = _rounds(steps, sync, opts)
        for t in timed:
            results.append(t)
            if tick is not None:
                tick(t.point, t)
        del steps
        gc.collect()
        if opts.device == "cuda":
            torch.cuda.empty_cache()
    return results


def _rounds(
    steps: Sequence[tuple[Point, Step]], sync: Callable[[], None], opts: TimingOptions
) -> list[Timed]:
    """Warm every point up, then time each once per round; a point whose runs exceed the
    budget drops out of later rounds once it has ``min_repeats`` runs."""
    for _, step in steps:
        for i in range(opts.warmup):
            step(i)
    sync()
    times: list[list[float]] = [[] for _ in steps]
    quiet: list[list[float]] = [[] for _ in steps]
    for r in range(opts.repeats):
        for k, (_, step) in enumerate(steps):
            if len(times[k]) >= opts.min_repeats and sum(times[k]) > opts.budget_s:
                continue
            wall, is_quiet = timed_call(step, sync, opts.warmup + r)
            times[k].append(wall)
            if is_quiet:
                quiet[k].append(wall)
    out = []
    for (p, _), ts, qs in zip(steps, times, quiet, strict=True):
        t = summarize(ts, qs, opts.min_repeats)
        out.append(Timed(p, t.seconds(opts.statistic), t.times_s, t.quiet))
    return out


def _steps(
    m: Model, dtype: str, points: Sequence[Point], opts: TimingOptions
) -> Iterable[tuple[Point, Step]]:
    if opts.backend == "ours":
        return _our_steps(m, dtype, points, opts)
    if opts.backend == "transformers":
        from .hf_backend import hf_steps

        return hf_steps(m, dtype, points, opts)
    raise ValueError(f"backend must be 'ours' or 'transformers', got {opts.backend!r}")


def describe(opts: TimingOptions) -> dict[str, Any]:
    """What the harness ran with, for the JSON output."""
    import torch

    return {
        "backend": opts.backend,
        "device": opts.device,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "warmup": opts.warmup,
        "repeats": opts.repeats,
        "min_repeats": opts.min_repeats,
        "budget_s": opts.budget_s,
        "statistic": opts.statistic,
    }
