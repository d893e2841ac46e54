"""Measured vs predicted on real (random-weight) models: the project's accuracy targets.

    .venv/bin/python benchmarks/bench_validation.py --profile docs/profiles/dev-cpu.json \
        --threads 1 --out /tmp/validation

For each model (default: qwen2.5-0.5b, smollm2-360m, llama-3.2-1b; weights of 250 MB and
more, so they stream from DRAM), each dtype, prefill at batch 1 over the prompt lengths
and decode over the batches and contexts, it times the reference PyTorch model and
compares with the ideal roofline and the calibrated prediction of the profile. Targets,
per dtype × phase: the ideal time never above the measured time; calibrated median
|error| <= 10% and worst <= 25%. A report, not a test: it prints MISS rather than failing
(unless --strict). Timings on a shared machine are noisy: run it on a quiet one, with
--threads matching the profile's.

Through Hugging Face transformers, on the four architectures of docs/VALIDATION.md, each
model given as NAME@LAYERS to keep its first LAYERS layers (every width unchanged):

    .venv/bin/python benchmarks/bench_validation.py --profile PROFILE --backend transformers \
        --models gpt2,phi-2@4,opt-1.3b@4,smollm2-360m@8 --statistic min --context-lens 256,1024
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from llm_roofline import Hardware, Model
from llm_roofline.catalog.hardware_catalog import resolve_hardware
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.measure.device import parse_ints, parse_list, select_device, select_dtypes
from llm_roofline.validate import run_validations
from llm_roofline.validate.compare import Row, host_meta, summarize, validation
from llm_roofline.validate.harness import Point, TimingOptions, grid
from llm_roofline.validate.render import probe_lines, render_markdown, render_table

MEDIAN_TARGET, WORST_TARGET = 0.10, 0.25
DEFAULT_MODELS = "qwen2.5-0.5b,smollm2-360m,llama-3.2-1b"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--profile", default="docs/profiles/dev-cpu.json")
    p.add_argument("--models", default=DEFAULT_MODELS)
    p.add_argument("--dtypes", default="fp32,bf16")
    p.add_argument("--prompt-lens", default="128,512,2048")
    p.add_argument("--batches", default="1,4,16")
    p.add_argument("--context-lens", default="256,2048")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--min-repeats", type=int, default=2)
    p.add_argument("--budget-s", type=float, default=15.0)
    p.add_argument("--statistic", choices=("median", "min"), help="default: the profile's")
    p.add_argument("--backend", choices=("ours", "transformers"), default="ours")
    p.add_argument("--engine", help="default: transformers with that backend, else generic")
    p.add_argument("--out", help="write OUT.json and OUT.md")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return p.parse_args(argv)


def _profile_statistic(path: str) -> str:
    """The statistic the profile was measured with (median when it does not say)."""
    try:
        machine = json.loads(Path(path).read_text()).get("machine", {})
    except (OSError, ValueError):
        return "median"
    return str(machine.get("statistic", "median"))


def verdicts(rows: list[Row]) -> list[str]:
    lines, missed = [], 0
    for s in summarize(rows):
        ok = (
            s.ideal_never_above
            and s.calibrated_median_abs_error <= MEDIAN_TARGET
            and s.calibrated_worst_abs_error <= WORST_TARGET
        )
        missed += not ok
        lines.append(
            f"{'PASS' if ok else 'MISS'} {s.dtype:5s} {s.phase:7s} n={s.points:<3d} "
            f"median {s.calibrated_median_abs_error:6.1%} (<= {MEDIAN_TARGET:.0%}) "
            f"worst {s.calibrated_worst_abs_error:6.1%} (<= {WORST_TARGET:.0%}) "
            f"ideal<=measured {'yes' if s.ideal_never_above else 'NO'}"
        )
    lines.append(f"{missed} target group(s) missed")
    return lines


def setup(args: argparse.Namespace) -> tuple[Hardware, list[tuple[Model, list[Point]]], str]:
    """The profile, the (model, points) groups and the device; ValueError naming the bad
    option."""
    import torch

    hw = resolve_hardware(args.profile)
    cuda = torch.cuda.is_available()
    device = select_device(args.device, backend="torch", cuda_available=cuda)
    bf16 = device != "cuda" or torch.cuda.is_bf16_supported()
    dtypes = select_dtypes(
        parse_list(args.dtypes), backend="torch", device=device, bf16_supported=bf16
    )
    models = parse_list(args.models)
    if not models:
        raise ValueError("--models needs at least one model")
    points = grid(
        dtypes,
        parse_ints("--prompt-lens", args.prompt_lens),
        parse_ints("--batches", args.batches),
        parse_ints("--context-lens", args.context_lens, minimum=0),
    )
    chosen = [_model(name) for name in models]
    return hw, [(m, within_positions(m, points)) for m in chosen], device


def within_positions(m: Model, points: list[Point]) -> list[Point]:
    """Points past a learned position table (GPT-2: 1,024 positions) moved to its end: a
    prefill of at most that many tokens, a decode step at most at its last position."""
    limit = m.max_position_embeddings if m.position_embeddings else None
    if limit is None:
        return points
    out = []
    for p in points:
        most = limit if p.phase == "prefill" else limit - 1
        q = p if p.tokens <= most else dataclasses.replace(p, tokens=most)
        if q not in out:
            out.append(q)
    return out


def _model(spec: str) -> Model:
    """NAME or NAME@LAYERS (the first LAYERS layers of NAME)."""
    name, _, layers = spec.partition("@")
    m = get_model(name)
    if not layers:
        return m
    n = parse_ints("--models", layers)[0]
    if not 1 <= n <= m.num_layers:
        raise ValueError(f"--models {spec}: {m.name} has {m.num_layers} layers, not {n}")
    return dataclasses.replace(m, num_layers=n)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        hw, groups, device = setup(args)
    except ValueError as exc:
        print(f"bench_validation: error: {exc}", file=sys.stderr)
        return 2
    statistic = args.statistic or _profile_statistic(args.profile)
    opts = TimingOptions(
        device=device,
        repeats=args.repeats,
        min_repeats=args.min_repeats,
        budget_s=args.budget_s,
        threads=args.threads,
        statistic=statistic,
        backend=args.backend,
        engine=args.engine or ("transformers" if args.backend == "transformers" else "generic"),
    )
    rows: list[Row] = []
    started = time.perf_counter()
    probes: list[dict[str, Any] | None] = []
    for v in run_validations(
        groups,
        hw,
        opts,
        lambda m, p, t: print(f"  {m.name} {p} {t.measured_s * 1e3:.1f} ms", file=sys.stderr),
    ):
        print(render_table(v), flush=True)
        rows += v.rows
        probes.append(v.meta.get("host_probe"))
    result = validation(
        rows,
        {
            "profile": args.profile,
            "hardware": hw.name,
            "threads": args.threads,
            "backend": args.backend,
            "engine": opts.engine,
            "layers": {m.name: m.num_layers for m, _ in groups},
            "host_probe": host_meta(
                rows, probes[-1]["reprobes"] if probes[-1:] and probes[-1] else None
            ),
        },
    )
    errors = [abs(r.calibrated_error) for r in rows]
    print(
        f"\nall models: {len(rows)} points, calibrated median |error| {statistics.median(errors):.1%}, "
        f"worst {max(errors):.1%}; {time.perf_counter() - started:.0f} s"
    )
    lines = verdicts(rows)
    print("\n".join(lines))
    print("\n".join(probe_lines(result)))
    if args.out:
        Path(f"{args.out}.json").write_text(json.dumps(result.to_dict(), indent=1))
        Path(f"{args.out}.md").write_text(
            render_markdown(result) + "\n\n" + "\n".join(lines) + "\n"
        )
    return 1 if args.strict and not lines[-1].startswith("0 ") else 0


if __name__ == "__main__":
    sys.exit(main())
