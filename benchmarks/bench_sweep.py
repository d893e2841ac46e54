"""Speed of `sweep` (configurations per second) beside llm-analysis 0.2.2, and of `plan`.

Run from the repository root:
    PYTHONPATH=src .venv/bin/python benchmarks/bench_sweep.py [--repeats 3] [--skip-peer]

Sweeps (Llama-3.1-8B on one H100 SXM; every row gets phase FLOPs, bytes, bound and times,
TTFT, TPOT, throughput and memory per device; the critical batch is left out except where
said), materialized as columns in memory; the first run, best and median of ``--repeats`` runs:
- grid: batch 1..1024 every integer × 64 prompts × 16 output lengths (1,048,576 rows; a
  prefill and a decode step per (batch, prompt) pair, 65,536 of each, reused by the rows);
- distinct: batch 1..1000 × 1000 prompts, one output length (1,000,000 rows, every
  prefill and decode step different: the raw rate of the array formulas);
- grid with the critical batch (64 contexts, each solved once).
The peer (benchmarks/peer.py) analyzes 1,000 fresh configurations of the same model and
device back to back, one call each (it has no batch mode); skipped, saying so, when
benchmarks/.peer-venv is absent (``bash benchmarks/peer_venv.sh`` makes it).
`plan`: the aiconfigurator-sized search (one model, one device type, 8, 16, 32 and 64
devices, every layout, batch 1-512, KV in bf16 and fp8) for a dense and a MoE model.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llm_roofline.catalog.hardware_catalog import get_hardware
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.studies.plan import plan
from llm_roofline.studies.sweep import sweep

HERE = Path(__file__).resolve().parent
MODEL, HARDWARE = "llama-3.1-8b", "h100-sxm"
GRID = {
    "batch_size": range(1, 1025),
    "prompt_len": range(128, 128 + 64 * 64, 64),
    "output_len": range(16, 16 + 16 * 16, 16),
}
DISTINCT = {"batch_size": range(1, 1001), "prompt_len": range(100, 100 + 1000 * 7, 7)}
PLAN_MODELS = ("llama-3.1-70b", "qwen3-30b-a3b")
PLAN_DEVICES = (8, 16, 32, 64)


def timed(run: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    """Seconds of each of ``repeats`` runs, the previous result dropped before each (the
    first runs of a process are slower: the allocator maps fresh memory until its
    thresholds adapt; a long sweep runs at the later runs' speed)."""
    seconds: list[float] = []
    result = None
    for _ in range(repeats):
        result = None
        start = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - start)
    return seconds, result


def bench_sweeps(repeats: int) -> tuple[float, float]:
    """Print each case's rows/s; return the grid's first-run and best rates over both runs."""
    m, hw = get_model(MODEL), get_hardware(HARDWARE)
    sweep(m, hw, batch_size=[1, 2], critical=False)  # imports and caches
    cases: list[tuple[str, dict[str, Any], bool]] = [
        ("grid", GRID, False),
        ("distinct", DISTINCT, False),
        ("grid + critical batch", GRID, True),
        ("grid again", GRID, False),  # the allocator has adapted: a long sweep's speed
    ]
    first_rate = best_rate = 0.0
    for name, axes, critical in cases:
        seconds, result = timed(lambda a=axes, c=critical: sweep(m, hw, critical=c, **a), repeats)
        rows = len(result)
        first, best = rows / seconds[0], rows / min(seconds)
        median = rows / statistics.median(seconds)
        print(
            f"sweep {name:22s} {rows:>9,} rows: first run {first:>10,.0f} rows/s, best "
            f"{best:>10,.0f}, median {median:>10,.0f} ({len(seconds)} runs)"
        )
        if name == "grid":
            first_rate = first
        if name.startswith("grid") and not critical:
            best_rate = max(best_rate, best)
    return first_rate, best_rate


def bench_peer(ours: tuple[float, float]) -> None:
    if not (HERE / ".peer-venv" / "bin" / "python").exists():
        print(
            "peer: skipped: no benchmarks/.peer-venv (make it with `bash benchmarks/peer_venv.sh`)"
        )
        return
    sys.path.insert(0, str(HERE))
    from peer import PeerError, peer_configs_per_s

    try:
        rate = peer_configs_per_s(get_model(MODEL), get_hardware(HARDWARE), count=1000)
    except PeerError as exc:
        print(f"peer: skipped: {exc}")
        return
    print(f"peer llm-analysis 0.2.2: {rate:,.0f} configurations/s (1,000 fresh, one call each)")
    first, best = ours
    print(f"sweep grid / peer: {first / rate:,.0f}× (first run), {best / rate:,.0f}× (best)")


def bench_plan(repeats: int) -> None:
    for name in PLAN_MODELS:
        for label, batches in (
            ("1..512 powers of 2", tuple(2**k for k in range(10))),
            ("1..512 every integer", tuple(range(1, 513))),
        ):
            seconds, result = timed(
                lambda b=batches, n=name: plan(
                    n,
                    "h200",
                    PLAN_DEVICES,
                    kv_dtypes=("bf16", "fp8"),
                    batch_sizes=b,
                    ttft_s=2.0,
                    tpot_s=0.05,
                ),
                repeats,
            )
            print(
                f"plan {name} on 8/16/32/64 H200, batch {label}: {result.searched:,} deployments; "
                f"first run {seconds[0]:.2f} s (cold caches), best {min(seconds):.2f} s, median "
                f"{statistics.median(seconds):.2f} s; best: {result.best.label()}"
            )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_sweep", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per case (5)")
    parser.add_argument("--skip-peer", action="store_true", help="do not time llm-analysis")
    args = parser.parse_args(argv)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load} (shared: other work runs beside this)"
    )
    ours = bench_sweeps(args.repeats)
    if not args.skip_peer:
        bench_peer(ours)
    bench_plan(args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
