"""What validation times: points (a phase, dtype, batch and length), options, results.

Shared by the timing harness and its backends (ours and transformers), so neither
imports the other's internals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

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
    speeds: tuple[Any, ...] = ()  # per timed run, the host probe of its round (drift.py)


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
    # Host probe before every round (validate/drift.py), when the profile recorded one.
    host_probe: bool = True
    engine: str = "generic"  # whose expected time the prediction is (transformers: its own)


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
