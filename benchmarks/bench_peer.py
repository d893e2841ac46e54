"""Speed of the peer tool llm-analysis 0.2.2 beside ours, on configurations never seen before.

Run (after ``bash benchmarks/peer_venv.sh``), from the repository root:
    PYTHONPATH=src .venv/bin/python benchmarks/bench_peer.py [--rounds 5] [--calls 40]

For Llama-3.1-8B and Mixtral-8x7B on one H100 SXM, prints per-call seconds of llm-analysis's
``LLMAnalysis.inference`` (median and best over fresh configurations: prompt length and batch
change every call) and of our ``analyze()``, timed in alternating rounds in one run, then
llm-analysis's configurations per second back to back (the baseline of the sweep benchmark).
Exits 1 with the reason when the peer venv is missing or the peer fails.
"""

from __future__ import annotations

import argparse
import statistics
import sys

from peer import PeerError, PeerWorker, fresh_workloads, interleaved_per_call_s, peer_config

from llm_roofline import analyze
from llm_roofline.catalog.hardware_catalog import get_hardware
from llm_roofline.catalog.model_catalog import get_model

MODELS = {"Llama-3.1-8B": "llama-3.1-8b", "Mixtral-8x7B": "mixtral-8x7b"}
HARDWARE = "h100-sxm"


def positive(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench_peer", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=positive, default=5, help="alternating rounds")
    parser.add_argument("--calls", type=positive, default=40, help="configurations per round")
    parser.add_argument("--rate-configs", type=positive, default=1000, help="for configs/s")
    return parser.parse_args(argv)


def ms(seconds: list[float]) -> str:
    return f"median {statistics.median(seconds) * 1e3:7.3f} ms   best {min(seconds) * 1e3:7.3f} ms"


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    hardware = get_hardware(HARDWARE)
    try:
        with PeerWorker() as worker:
            print(f"llm-analysis {worker.version()} vs llm-roofline analyze(), one {hardware.name}")
            print(f"{args.rounds} alternating rounds × {args.calls} fresh configurations each")
            for label, preset in MODELS.items():
                model = get_model(preset)
                ours, theirs = interleaved_per_call_s(
                    lambda w, m=model: analyze(m, hardware, w),
                    model,
                    hardware,
                    rounds=args.rounds,
                    calls=args.calls,
                    worker=worker,
                )
                configs = [
                    peer_config(model, hardware, w) for w in fresh_workloads(args.rate_configs)
                ]
                rate = worker.configs_per_s(configs)
                ratio = statistics.median(theirs) / statistics.median(ours)
                print(f"{label}:")
                print(f"  llm-analysis inference  {ms(theirs)}   {rate:8.0f} configs/s")
                print(f"  llm-roofline analyze()  {ms(ours)}   ours is {ratio:.2f}× as fast")
    except PeerError as error:
        print(f"bench_peer: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
