"""In-process speed of the engine for configurations never seen before, beside llm-analysis.

Run: .venv/bin/python benchmarks/bench_engine.py [--rounds 5] [--calls 40]
(llm-analysis 0.2.2 is timed in its own venv, benchmarks/.peer-venv, made by
benchmarks/peer_venv.sh; without it only our figures are printed.)

Every call analyzes a workload no earlier call used (a new batch and prompt length), so
nothing memoized helps. Printed per call, median and best of the rounds:
- full ``analyze()``: both phases with operator rows, critical batch and prompt, the
  request sum, memory (what llm-analysis's ``inference`` computes, and more);
- the phase totals alone (FLOPs, bytes and times of both passes, no rows), and their
  FLOPs and bytes alone (the operator formulas, no pricing), both through the compiled
  operators (engine/compiled.py) an analysis uses;
- multi-device: the same on ``--tp 4`` (one engine for any layout);
- first, a process's first analyses on a device nothing was compiled for (on numbers,
  then compiling, then compiled).
Rounds of ours and of llm-analysis alternate on the same workloads, both processes on one
CPU (``--cpu``, default 0).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from peer import PeerError, fresh_workloads, interleaved_per_call_s

from llm_roofline import Layout, Workload, analyze
from llm_roofline.catalog.hardware_catalog import get_hardware
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.engine.compiled import stage_times, stage_totals
from llm_roofline.engine.ops import decode_pass, prefill_pass
from llm_roofline.engine.sharding import ONE_DEVICE
from llm_roofline.engine.timing import Roofs
from llm_roofline.inputs.hardware import Hardware
from llm_roofline.inputs.model import Model

H100 = get_hardware("h100-sxm")
MODELS = {"Llama-3.1-8B": get_model("llama-3.1-8b"), "Mixtral-8x7B": get_model("mixtral-8x7b")}


def per_call_s(
    fn: Callable[[Workload], object], rounds: int, calls: int, offset: int
) -> tuple[float, float]:
    """Median and best per-call seconds, each call on a fresh workload."""
    samples = []
    for r in range(rounds):
        workloads = fresh_workloads(calls)[offset + r * calls : offset + (r + 1) * calls]
        workloads = workloads or fresh_workloads((r + 1) * calls + offset)[-calls:]
        start = time.perf_counter()
        for w in workloads:
            fn(w)
        samples.append((time.perf_counter() - start) / len(workloads))
    return statistics.median(samples), min(samples)


def phase_totals_only(m: Model, hw: Hardware) -> Callable[[Workload], object]:
    """FLOPs, bytes, expected and ideal seconds of both passes (the compiled operators)."""

    def run(w: Workload) -> object:
        roofs = Roofs.of(hw, w.activation_dtype)
        return [
            (stage_totals(m, ONE_DEVICE, p, 0, roofs), stage_times(m, ONE_DEVICE, p, 0, roofs))
            for p in (prefill_pass(w), decode_pass(w))
        ]

    return run


def flops_and_bytes_only(m: Model, hw: Hardware) -> Callable[[Workload], object]:
    def run(w: Workload) -> object:
        roofs = Roofs.of(hw, w.activation_dtype)
        return [stage_totals(m, ONE_DEVICE, p, 0, roofs) for p in (prefill_pass(w), decode_pass(w))]

    return run


def pin(cpu: int) -> None:
    """Run on one CPU, and so does the llm-analysis worker started after this (a child
    inherits its parent's CPUs): both tools timed on the same core. On a shared 2-core VM the
    two cores' speeds drift apart: on the same code, unpinned runs gave medians of 1.3x and
    2.4x for Llama, four pinned runs 1.95-2.03x."""
    if cpu < 0 or not hasattr(os, "sched_setaffinity"):
        return
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError as error:
        print(f"(not pinned to CPU {cpu}: {error})")
        return
    print(f"(both tools pinned to CPU {cpu})")


def first_analyses_ms(m: Model, count: int = 6) -> list[float]:
    """Milliseconds of a process's first analyses on a device nothing was compiled for (a
    renamed copy of the H100: roofs of its own): on numbers, then compiling, then compiled."""
    fresh = dataclasses.replace(H100, name="H100 (first analyses)")
    times = []
    for w in fresh_workloads(count):
        start = time.perf_counter()
        analyze(m, fresh, w)
        times.append((time.perf_counter() - start) * 1e3)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument(
        "--cpu",
        type=int,
        default=0,
        help="the one CPU both tools run on (llm-analysis's worker inherits it); -1: any",
    )
    args = parser.parse_args()
    pin(args.cpu)
    for name, m in MODELS.items():
        first = ", ".join(f"{t:.1f}" for t in first_analyses_ms(m))
        print(f"first analyses on a new device ({name}): {first} ms")
    print(f"{'per call, fresh configurations':48s} {'median':>10s} {'best':>10s}")
    for offset, (name, m) in enumerate(MODELS.items()):
        cases: dict[str, Callable[[Workload], object]] = {
            f"analyze({name}, H100)": lambda w, m=m: analyze(m, H100, w),
            f"  phase totals only ({name})": phase_totals_only(m, H100),
            f"  FLOPs and bytes only ({name})": flops_and_bytes_only(m, H100),
            f"analyze({name}, 4x H100, tp 4)": lambda w, m=m: analyze(m, H100, w, Layout(tensor=4)),
        }
        for label, fn in cases.items():
            median, best = per_call_s(fn, args.rounds, args.calls, 5000 * offset)
            print(f"{label:48s} {median * 1e3:8.3f} ms {best * 1e3:8.3f} ms")
        try:
            ours, theirs = interleaved_per_call_s(
                lambda w, m=m: analyze(m, H100, w), m, H100, rounds=args.rounds, calls=args.calls
            )
        except PeerError as exc:
            print(f"  llm-analysis not timed: {exc}")
            continue
        print(
            f"  interleaved: ours {statistics.median(ours) * 1e3:.3f} ms, llm-analysis "
            f"{statistics.median(theirs) * 1e3:.3f} ms per call: ours is "
            f"{statistics.median(theirs) / statistics.median(ours):.2f}x as fast"
        )
        # Paired by round (the same workloads, back to back): robust to the host's drift.
        c = args.calls
        paired = [
            statistics.median(theirs[r * c : (r + 1) * c])
            / statistics.median(ours[r * c : (r + 1) * c])
            for r in range(args.rounds)
        ]
        print(
            f"  per round, llm-analysis / ours: median {statistics.median(paired):.2f}x, "
            f"range {min(paired):.2f}-{max(paired):.2f}x over {args.rounds} rounds"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
