"""Median wall time of a callable, with warm-up, device synchronization, a time budget, and
a filter for samples that shared the CPU with another process.

On a shared machine another process running beside a timed call slows it (a sibling
hardware thread, the memory bus, the last-level cache) without taking its CPU away, so
the slowdown is invisible in the call's own CPU time. Where ``/proc/stat`` exists, the
timer reads the whole machine's busy CPU time around each call and subtracts this
process's own: a call during which other processes used more than ``QUIET_FRACTION`` of
its wall time (and at least one clock tick) is *contended*. The median is taken over the
quiet calls when at least ``min_repeats`` of them exist, extra calls being made (within
the budget, up to ``3 × repeats``) to find them; otherwise over all calls.

Contention from outside the machine (other virtual machines on the same physical cores)
leaves no trace in ``/proc/stat``. On such a host the fastest call (``Timing.min_s``,
``--statistic min``) is the reproducible figure: it is the machine when nobody else ran.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

QUIET_FRACTION = 0.05
_STAT = Path("/proc/stat")
_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01


STATISTICS = ("median", "min")


class Timing(NamedTuple):
    median_s: float  # over the quiet calls (all calls when too few were quiet)
    min_s: float  # the fastest call
    times_s: tuple[float, ...]  # every timed call, in order
    quiet: int  # how many of them ran without another process beside them

    def seconds(self, statistic: str = "median") -> float:
        """The median (the default) or the fastest call (``"min"``)."""
        return self.min_s if statistic == "min" else self.median_s


def machine_busy_s() -> float | None:
    """CPU seconds all processes have spent busy since boot (None where unknown)."""
    try:
        fields = _STAT.read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    ticks = [int(v) for v in fields]
    busy = sum(ticks) - ticks[3] - (ticks[4] if len(ticks) > 4 else 0)  # minus idle, iowait
    return busy * _TICK_S


def own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def other_cpu_s(before: tuple[float | None, float], after: tuple[float | None, float]) -> float:
    """CPU seconds other processes used between two (machine busy, own) readings."""
    if before[0] is None or after[0] is None:
        return 0.0
    return (after[0] - before[0]) - (after[1] - before[1])


def contended(others_s: float, wall_s: float) -> bool:
    return others_s > max(QUIET_FRACTION * wall_s, 1.5 * _TICK_S)


def _reading() -> tuple[float | None, float]:
    return machine_busy_s(), own_cpu_s()


def timed_call(
    call: Callable[[int], object], sync: Callable[[], None], i: int
) -> tuple[float, bool]:
    """(wall seconds, quiet) of one call; ``sync`` has already drained the device."""
    before = _reading()
    start = time.perf_counter()
    call(i)
    sync()
    wall = time.perf_counter() - start
    return wall, not contended(other_cpu_s(before, _reading()), wall)


def summarize(times: list[float], quiet: list[float], min_repeats: int) -> Timing:
    """The Timing of a series: median over the quiet calls when enough were quiet."""
    chosen = quiet if len(quiet) >= min(min_repeats, len(times)) else times
    return Timing(statistics.median(chosen), min(times), tuple(times), len(quiet))


def median_time_s(
    call: Callable[[int], object],
    sync: Callable[[], None],
    *,
    warmup: int = 1,
    repeats: int = 5,
    min_repeats: int = 3,
    budget_s: float | None = None,
) -> Timing:
    """Median of timed calls ``call(i)`` (i counts every call, warm-up included).

    ``sync`` runs before the clock starts and before it is read (``torch.cuda.synchronize``
    on a GPU, a no-op on a CPU), so queued device work is counted in the call that queued
    it. Once ``min_repeats`` calls are done, stops early when ``budget_s`` is spent.
    """
    for i in range(warmup):
        call(i)
    sync()
    times: list[float] = []
    quiet: list[float] = []
    i = warmup
    while len(times) < 3 * repeats:
        wall, is_quiet = timed_call(call, sync, i)
        i += 1
        times.append(wall)
        if is_quiet:
            quiet.append(wall)
        enough = len(quiet) >= min(repeats, max(min_repeats, 1))
        spent = budget_s is not None and sum(times) > budget_s
        if len(times) >= repeats and (enough or spent):
            break
        if spent and len(times) >= min_repeats:
            break
    return summarize(times, quiet, min_repeats)
