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
from pathlib import Path
from typing import Any

from ..inputs.dtypes import bytes_per_element
from ..inputs.model import Model
from ..measure.allocator import keep_freed_memory
from ..measure.timer import summarize, timed_call
from .hf_backend import hf_steps
from .points import PHASES, Point, Step, Timed, TimingOptions, grid

__all__ = ["PHASES", "Point", "Step", "Timed", "TimingOptions", "grid"]


def _our_steps(
    m: Model, dtype: str, points: Sequence[Point], opts: TimingOptions
) -> Iterable[tuple[Point, Step]]:
    import torch

    from ..measure.reference_model import build_decoder
    from ..measure.torch_backend import TORCH_DTYPES

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


def time_models(
    groups: Sequence[tuple[Model, Sequence[Point]]],
    opts: TimingOptions,
    tick: Callable[[Model, Point, Timed], None] | None = None,
    memory_bytes: float | None = None,
    probe: Callable[[], Any] | None = None,
) -> list[list[Timed]]:
    """The points of each model, timed in rounds over as many models and dtypes at once as
    fit in memory; one list of results per model, in its points' order.

    A round runs every point once (after a warm-up of each), so the runs of one point are
    spread over the whole measurement: on a host whose speed drifts with other tenants'
    load for minutes at a time, no point (and no model) is measured only in a slow (or a
    fast) spell. The (model, dtype) builds that share rounds are packed into
    ``MEMORY_SHARE`` of the free memory (``memory_bytes``, read from the OS when None).
    ``probe`` (drift.RoundProbe) runs before every round; each run keeps its round's.
    """
    import torch

    if opts.threads:
        torch.set_num_threads(opts.threads)
    if opts.device == "cpu":
        keep_freed_memory()  # as measure does: no page faults on re-allocated activations
    sync: Callable[[], None] = (
        (lambda: torch.cuda.synchronize()) if opts.device == "cuda" else (lambda: None)
    )
    builds = [
        (k, m, [p for p in points if p.dtype == dtype])
        for k, (m, points) in enumerate(groups)
        for dtype in dict.fromkeys(p.dtype for p in points)
    ]
    free = memory_bytes if memory_bytes is not None else free_memory_bytes(opts.device)
    timed: dict[tuple[int, Point], Timed] = {}
    budget = MEMORY_SHARE * free if free else None
    for pack in pack_builds(builds, budget, per_point_caches=opts.backend == "transformers"):
        with torch.inference_mode():
            steps = [
                (k, point, step)
                for k, m, chosen in pack
                for point, step in _steps(m, chosen[0].dtype, chosen, opts)
            ]
            results = _rounds([(p, step) for _, p, step in steps], sync, opts, probe)
        for (k, point, _), t in zip(steps, results, strict=True):
            timed[(k, point)] = t
            if tick is not None:
                tick(groups[k][0], point, t)
        del steps
        gc.collect()
        if opts.device == "cuda":
            torch.cuda.empty_cache()
    return [[timed[(k, p)] for p in points] for k, (_, points) in enumerate(groups)]


MEMORY_SHARE = 0.6  # of the free memory, for the builds timed side by side


def build_bytes(m: Model, points: Sequence[Point], per_point_caches: bool = False) -> float:
    """What one (model, dtype) build holds: weights, the KV cache at the largest batch and
    length (transformers: one per decode point, each counted at that size), and the
    largest prefill's activations (a few (T, I) fp32-sized tensors)."""
    dtype_bytes = bytes_per_element(points[0].dtype)
    weights = m.parameter_count * dtype_bytes
    max_batch = max(p.batch for p in points)
    max_len = max(p.tokens + 1 for p in points)
    kv = m.num_layers * 2 * m.kv_dim * dtype_bytes * max_batch * max_len
    prefill = max((p.batch * p.tokens for p in points if p.phase == "prefill"), default=0)
    activations = prefill * (4 * m.intermediate_size + 8 * m.hidden_size) * 4
    caches = sum(1 for p in points if p.phase == "decode") if per_point_caches else 1
    return weights + kv * max(1, caches) + activations


def pack_builds(
    builds: Sequence[tuple[int, Model, list[Point]]],
    budget_bytes: float | None,
    per_point_caches: bool = False,
) -> list[list[tuple[int, Model, list[Point]]]]:
    """Consecutive builds grouped while their ``build_bytes`` fit the budget (a build
    larger than the budget goes alone); one build per pack when the budget is unknown."""
    packs: list[list[tuple[int, Model, list[Point]]]] = []
    used = 0.0
    for build in builds:
        size = build_bytes(build[1], build[2], per_point_caches)
        if packs and budget_bytes is not None and used + size <= budget_bytes:
            packs[-1].append(build)
            used += size
        else:
            packs.append([build])
            used = size
    return packs


def free_memory_bytes(device: str) -> float | None:
    """Free memory of the device: CUDA's free bytes, or Linux's MemAvailable; None if unknown."""
    if device == "cuda":
        import torch

        return float(torch.cuda.mem_get_info()[0])
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _rounds(
    steps: Sequence[tuple[Point, Step]],
    sync: Callable[[], None],
    opts: TimingOptions,
    probe: Callable[[], Any] | None = None,
) -> list[Timed]:
    """Warm every point up, then time each once per round; a point whose runs exceed the
    budget drops out of later rounds once it has ``min_repeats`` runs."""
    for _, step in steps:
        for i in range(opts.warmup):
            step(i)
    sync()
    times: list[list[float]] = [[] for _ in steps]
    quiet: list[list[float]] = [[] for _ in steps]
    speeds: list[list[Any]] = [[] for _ in steps]
    for r in range(opts.repeats):
        speed = probe() if probe is not None else None
        for k, (_, step) in enumerate(steps):
            if len(times[k]) >= opts.min_repeats and sum(times[k]) > opts.budget_s:
                continue
            wall, is_quiet = timed_call(step, sync, opts.warmup + r)
            times[k].append(wall)
            speeds[k].append(speed)
            if is_quiet:
                quiet[k].append(wall)
    out = []
    for (p, _), ts, qs, sp in zip(steps, times, quiet, speeds, strict=True):
        t = summarize(ts, qs, opts.min_repeats)
        kept = tuple(sp) if probe is not None and len(t.times_s) == len(sp) else ()
        out.append(Timed(p, t.seconds(opts.statistic), t.times_s, t.quiet, kept))
    return out


def _steps(
    m: Model, dtype: str, points: Sequence[Point], opts: TimingOptions
) -> Iterable[tuple[Point, Step]]:
    if opts.backend == "ours":
        return _our_steps(m, dtype, points, opts)
    if opts.backend == "transformers":
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
