"""In-process speed of the engine: one full analysis, and its parts.

Run: .venv/bin/python benchmarks/bench_engine.py
Prints the median and best time per call over several rounds (no file I/O is timed: the
model and device are built first). Operator lists are memoized per (model, pass), so a
repeated call reuses them; the "new prompt each call" case defeats that and shows the cost
of a configuration never seen before.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable

from llm_roofline import Workload, analyze
from llm_roofline.catalog.hardware_catalog import get_hardware
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.engine.phase import build_phase, prefill_pass
from llm_roofline.engine.sharding import forward_operators
from llm_roofline.engine.timing import Roofs

LLAMA3_8B = get_model("llama-3.1-8b")  # presets are read here, before any timing
MIXTRAL = get_model("mixtral-8x7b")
H100 = get_hardware("h100-sxm")
WORKLOAD = Workload(batch_size=1, prompt_len=2048, output_len=256)


def per_call_s(fn: Callable[[], object], rounds: int = 7, calls: int = 200) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls)
    return statistics.median(samples), min(samples)


def main() -> None:
    roofs = Roofs.of(H100, "bf16")
    prompts = itertools.count(1000)  # a new prompt length per call: nothing is memoized

    def cold() -> object:
        return analyze(LLAMA3_8B, H100, Workload(prompt_len=next(prompts), output_len=256))

    cases = {
        "analyze(Llama-3.1-8B, H100, b1 p2048 o256)": lambda: analyze(LLAMA3_8B, H100, WORKLOAD),
        "analyze(Llama-3.1-8B, H100), a new prompt each call": cold,
        "analyze(Mixtral-8x7B, H100, b32)": lambda: analyze(MIXTRAL, H100, Workload(batch_size=32)),
        "  one pass's operator list (not memoized)": lambda: forward_operators.__wrapped__(
            LLAMA3_8B, prefill_pass(WORKLOAD)
        ),
        "  one phase (operators + rows)": lambda: build_phase(
            forward_operators(LLAMA3_8B, prefill_pass(WORKLOAD)), roofs
        ),
    }
    for name, fn in cases.items():
        median, best = per_call_s(fn)
        print(f"{name:48s} median {median * 1e3:7.3f} ms   best {best * 1e3:7.3f} ms")


if __name__ == "__main__":
    main()
