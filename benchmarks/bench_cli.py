"""End-to-end speed of the command line, and of the in-process calls under it.

Run: .venv/bin/python benchmarks/bench_cli.py [--repeats N]
Times `llm-roofline analyze ... --format json` as a fresh process (interpreter start,
imports, preset loading, analysis, JSON), `--help`, and the default table report (which
adds the findings' what-if analyses); then, in process, `analyze()` alone and
`findings()`. Prints the median and the best of each. Target: well under 0.5 s per run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

ANALYZE_JSON = [
    "analyze", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--batch", "1",
    "--prompt-len", "2048", "--output-len", "256", "--format", "json",
]  # fmt: skip


def wall_s(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), min(samples)


def command(args: list[str]) -> Callable[[], object]:
    def run() -> None:
        subprocess.run(
            [sys.executable, "-m", "llm_roofline", *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs per case (default 7)")
    repeats = parser.parse_args().repeats

    from llm_roofline import Workload, analyze
    from llm_roofline.catalog.hardware_catalog import get_hardware
    from llm_roofline.catalog.model_catalog import get_model
    from llm_roofline.studies.findings import findings

    command(ANALYZE_JSON)()  # warm the file cache and the .pyc files
    model, hardware, workload = get_model("llama-3.1-8b"), get_hardware("h100-sxm"), Workload()
    report = analyze(model, hardware, workload)
    cases: dict[str, tuple[Callable[[], object], int]] = {
        "process: llm-roofline analyze --format json": (command(ANALYZE_JSON), repeats),
        "process: llm-roofline --help": (command(["--help"]), repeats),
        "process: llm-roofline (table + findings)": (command([]), repeats),
        "process: python -c pass (interpreter floor)": (
            lambda: subprocess.run([sys.executable, "-c", "pass"], check=True),
            repeats,
        ),
        "in process: analyze()": (lambda: analyze(model, hardware, workload), repeats * 30),
        "in process: findings()": (
            lambda: findings(model, hardware, workload, report),
            repeats * 10,
        ),
        "in process: report.to_json()": (report.to_json, repeats * 30),
    }
    print(f"python {sys.version.split()[0]}, {repeats} repeats per process case")
    for name, (fn, n) in cases.items():
        median, best = wall_s(fn, n)
        print(f"{name:46s} median {median * 1e3:8.1f} ms   min {best * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
