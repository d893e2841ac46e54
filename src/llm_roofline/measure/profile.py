"""Measure this machine and write a hardware profile (``llm-roofline/hardware-profile/v1``).

The roofs are empirical: the peak of a dtype is the best FLOP/s any GEMM or linear probe
reached, the bandwidth the best bytes/s of STREAM read/copy/triad and of DRAM-resident
matrix-vector products. So the ideal roofline stays a lower bound on this machine, and
every measured point becomes an efficiency against it (``probes.py``).
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import platform
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..catalog.hardware_catalog import PROFILE_KIND
from ..engine.calibration import TABLE_FORMAT
from . import probes
from .allocator import keep_freed_memory
from .device import select_device, select_dtypes
from .fit import KernelSpec, Sample, fit_kernel
from .hf_overhead import framework_wanted
from .host_probe import host_probe, merge_speeds
from .plan import Plan, full_plan, quick_plan
from .sweeps import (
    TINY,
    Backend,
    DtypeRun,
    Runner,
    merge_runs,
    merge_stream,
    step_count,
)
from .timer import STATISTICS

DEFAULT_LLC_BYTES = 32 << 20


@dataclass(frozen=True)
class MeasureOptions:
    device: str = "auto"
    dtypes: tuple[str, ...] = ("fp32", "bf16")
    threads: int | None = None
    quick: bool = False
    backend: str = "auto"  # torch when importable, else numpy
    models: tuple[str, ...] = ()  # also sweep these models' own matmul shapes
    statistic: str = "median"  # or "min": the fastest call (noisy shared hosts)
    passes: int = 1  # run the whole sweep this many times; merge per point (merge_runs)
    # "auto": measure transformers' engine profile when it is importable (torch backend);
    # "transformers": require it; "none": skip it.
    framework: str = "auto"


@dataclass(frozen=True)
class Roofs:
    peak_flops_per_s: dict[str, float]
    bandwidth_bytes_per_s: float


def llc_bytes() -> int:
    """The largest CPU cache (Linux sysfs), or 32 MiB when it cannot be read."""
    best = 0
    folder = Path("/sys/devices/system/cpu/cpu0/cache")
    for entry in folder.glob("index*") if folder.is_dir() else ():
        try:
            text = (entry / "size").read_text().strip().upper()
        except OSError:
            continue
        scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        digits = text.rstrip("KMG")
        if digits.isdigit():
            best = max(best, int(digits) * scale)
    return best or DEFAULT_LLC_BYTES


def cpu_description() -> dict[str, Any]:
    model, vendor = platform.processor() or platform.machine(), ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                model = value.strip()
            elif key.strip() == "vendor_id" and not vendor:
                vendor = value.strip()
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": model, "vendor": vendor, "cores": cores, "llc_bytes": llc_bytes()}


def system_memory_bytes() -> float:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 16e9


def open_backend(options: MeasureOptions) -> tuple[Backend, str, tuple[str, ...], dict[str, Any]]:
    """(backend, device, dtypes, info) for the options; torch is imported only here."""
    name = options.backend
    if name == "auto":
        try:
            import torch  # noqa: F401  # only probing whether it is installed
        except ImportError:
            name = "numpy"
        else:
            name = "torch"
    if name == "torch":
        from .torch_backend import TorchBackend, cuda_capabilities, torch_info

        cuda, bf16 = cuda_capabilities()
        device = select_device(options.device, backend="torch", cuda_available=cuda)
        dtypes = select_dtypes(options.dtypes, backend="torch", device=device, bf16_supported=bf16)
        backend: Backend = TorchBackend(device, options.threads)
        return backend, device, dtypes, torch_info(device)
    from .numpy_backend import NumpyBackend, numpy_info

    device = select_device(options.device, backend="numpy", cuda_available=False)
    dtypes = select_dtypes(options.dtypes, backend="numpy", device=device, bf16_supported=False)
    return NumpyBackend(device, options.threads), device, dtypes, numpy_info()


def empirical_roofs(runs: list[DtypeRun], stream: dict[str, float]) -> Roofs:
    """Best FLOP/s per dtype (GEMM and linear probes); best bytes/s (STREAM, 1-2-token GEMV)."""
    bandwidth = max(stream.values())
    peaks = {}
    for run in runs:
        rates = [2.0 * n**3 / t for n, t in run.gemm]
        for (d_in, d_out), series in run.linear.items():
            for tokens, t in zip(series.xs, series.times_s, strict=True):
                op = probes.matmul_cost(run.dtype, tokens, d_in, d_out)
                rates.append(op.flops / t)
                if tokens <= 2:
                    bandwidth = max(bandwidth, op.bytes / t)
        peaks[run.dtype] = max(rates)
    return Roofs(peaks, bandwidth)


# Memory efficiency over rows as well as weight size: on a CPU a 1-row matmul is a GEMV
# kernel and 2-16 rows a skinny GEMM, which stream the same weights at different rates
# (AMD EPYC, fp32: 0.8 of the roof at 1 row, 0.3-0.4 at 4-16); one curve over weight
# bytes alone split the difference, over-predicting batch-1 decode and under-predicting
# batch 4 (docs/VALIDATION.md). The shipped GPU tables keep their own spec (kernel_set).
MATMUL_SPEC = KernelSpec(
    compute=("tokens", "weight_bytes"),
    memory=("tokens", "weight_bytes"),
    knots=(("tokens", "distinct"), ("weight_bytes", "distinct")),
)
ATTENTION_SPEC = KernelSpec(compute=("keys",), memory=("keys",), knots=(("keys", "distinct"),))
ELEMENTWISE_SPEC = KernelSpec(compute=(), memory=("bytes",), knots=(("bytes", "distinct"),))


def _samples(costs: list[Any], times: list[float]) -> list[Sample]:
    return [Sample(op, t) for op, t in zip(costs, times, strict=True)]


def dtype_table(run: DtypeRun, plan: Plan, roofs: Roofs) -> dict[str, Any]:
    """One dtype's entry of the efficiency table (format v2, ``engine/calibration.py``),
    fitted by ``fit.fit_kernel``, the fitter of the shipped generation tables, with this
    machine's measured per-call overheads as the fixed times."""
    peak, bw = roofs.peak_flops_per_s[run.dtype], roofs.bandwidth_bytes_per_s
    over = _overheads(run)
    linear = [
        Sample(probes.matmul_cost(run.dtype, t, d_in, d_out), time)
        for (d_in, d_out), s in run.linear.items()
        for t, time in zip(s.xs, s.times_s, strict=True)
    ]
    a = plan.attention
    decode = _samples(
        [
            probes.attention_cost(run.dtype, a, a.decode_batch, 1, k)
            for k in run.attention_decode.xs
        ],
        run.attention_decode.times_s,
    )
    prefill = _samples(
        [probes.attention_cost(run.dtype, a, 1, k, k) for k in run.attention_prefill.xs],
        run.attention_prefill.times_s,
    )
    elementwise = {}
    for family, s in run.elementwise.items():
        costs = [probes.elementwise_cost(family, run.dtype, t, plan.elementwise_dims) for t in s.xs]
        # efficiencies against the kernel's own dispatch cost; in a model each element-wise
        # operator also carries its share of the glue between operators (the fixed time)
        fitted = fit_kernel(
            _samples(costs, s.times_s), ELEMENTWISE_SPEC, peak, bw, run.tiny.get(family, 0.0)
        )
        elementwise[family] = fitted | {"fixed_s": over.elementwise}
    elementwise["default"] = elementwise["residual"]
    return {
        "overhead_method": over.method,
        "per_layer_overhead_s": over.per_layer_s,
        "matmul": fit_kernel(linear, MATMUL_SPEC, peak, bw, over.matmul),
        "attention": {
            "decode": fit_kernel(decode, ATTENTION_SPEC, peak, bw, over.attention),
            "prefill": fit_kernel(prefill, ATTENTION_SPEC, peak, bw, over.attention),
        },
        "elementwise": elementwise,
        "gather": elementwise["residual"] | {"fixed_s": over.gather},
    }


def _overheads(run: DtypeRun) -> probes.Overheads:
    """Per-kind overheads: the tiny-decoder fit (torch), else the kernels' small-call times."""
    tiny = run.tiny
    if run.decoder_steps_s is not None:
        m = probes.probe_model(**TINY)
        counts = probes.layer_kind_counts(m)
        return probes.fit_overheads(
            run.decoder_steps_s, run.decoder_layers, counts, tiny["linear"], tiny["attention"]
        )
    own = statistics.mean(tiny[f] for f in ("norm", "rotary", "act_fn", "residual"))
    return probes.Overheads(tiny["linear"], tiny["attention"], own, own, None, "small-call times")


def flat_efficiencies(table: dict[str, Any]) -> tuple[float, float]:
    """(compute, bandwidth) fractions summarizing the table, for operators it does not cover.

    Compute: the median matmul compute efficiency at the largest token count; bandwidth:
    the median matmul memory efficiency. Both over every dtype, clipped to (0, 1].
    """
    big, small = [], []
    for entry in table["dtypes"].values():
        matmul = entry["matmul"]
        big += list(matmul["compute"]["efficiency"][-1])
        memory = matmul["memory"]["efficiency"]  # over weight bytes, or rows × weight bytes
        small += [x for row in memory for x in (row if isinstance(row, list) else [row])]

    def clip(values: list[float]) -> float:
        return round(min(1.0, max(0.01, statistics.median(values))), 3)

    return clip(big), clip(small)


def plan_for(options: MeasureOptions, llc: int) -> Plan:
    """The sweep for the options: full or quick, plus the named models' matmul shapes."""
    plan = quick_plan() if options.quick else full_plan(llc)
    shapes = list(plan.linear_shapes)
    for name in options.models:
        from ..catalog.model_catalog import get_model

        shapes += [s for s in probes.model_matmul_shapes(get_model(name)) if s not in shapes]
    return dataclasses.replace(plan, linear_shapes=tuple(shapes))


def planned_steps(options: MeasureOptions, dtypes: int) -> int:
    """Progress ticks a measurement of ``dtypes`` dtypes makes (for a progress bar)."""
    return options.passes * step_count(plan_for(options, llc_bytes()), dtypes)


def measure_profile(
    options: MeasureOptions, tick: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Run the sweeps and return the profile as a JSON-ready dict."""
    backend, device, dtypes, info = open_backend(options)
    cpu = cpu_description()
    plan = plan_for(options, cpu["llc_bytes"])
    info["heap_only_allocator"] = device == "cpu" and keep_freed_memory()
    if options.statistic not in STATISTICS:
        raise ValueError(
            f"statistic must be one of {', '.join(STATISTICS)}; got {options.statistic!r}"
        )
    runner = Runner(backend, plan, tick or (lambda note: None), options.statistic)
    if options.passes < 1:
        raise ValueError(f"passes must be >= 1, got {options.passes}")
    streams, by_pass, speeds = [], [], []
    probe = host_probe(backend.name, dtypes, cpu["llc_bytes"], device, options.quick)
    hf = framework_wanted(options.framework, backend.name)
    with backend.session():
        for _ in range(options.passes):
            speeds += [probe.measure()] if probe else []
            streams.append(runner.stream())
            by_pass.append([runner.dtype_run(dtype) for dtype in dtypes])
        speeds += [probe.measure()] if probe else []
        hf_runs = [_framework_run(d, device, runner, plan) for d in dtypes] if hf else []
    stream = merge_stream(streams, options.statistic)
    runs = [merge_runs([p[i] for p in by_pass], options.statistic) for i in range(len(dtypes))]
    roofs = empirical_roofs(runs, stream)
    table: dict[str, Any] = {
        "format": TABLE_FORMAT,
        "status": "measured",
        "generation": "measured",
        "note": f"expected time: measured profile ({backend.name} on {device})",
        "backend": backend.name,
        "device": device,
        "overhead_mode": "max" if device == "cuda" else "sum",
        "quick": options.quick,
        "dtypes": {run.dtype: dtype_table(run, plan, roofs) for run in runs},
    }
    profile = _profile(device, info, cpu, stream, runs, roofs, table, options)
    if speeds:  # validate reads it from the table (a Hardware keeps no ``machine``)
        merged = merge_speeds(speeds, options.statistic)
        profile["machine"]["host_probe"] = merged
        table["host_probe"] = {k: v for k, v in merged.items() if k != "probes"}
    if hf_runs:
        from .hf_engine import add_framework

        add_framework(profile, hf_runs)
    return profile


def _framework_run(dtype: str, device: str, runner: Runner, plan: Plan) -> Any:
    from .hf_overhead import framework_run

    run = framework_run(
        dtype, device, lambda call: runner.time(call, warmup=3), plan.rotation_bytes
    )
    runner.tick(f"{dtype} transformers")
    return run


def _threads(n: int) -> str:
    return f"{n} thread{'' if n == 1 else 's'}"


def _profile(
    device: str,
    info: dict[str, Any],
    cpu: dict[str, Any],
    stream: dict[str, float],
    runs: list[DtypeRun],
    roofs: Roofs,
    table: dict[str, Any],
    options: MeasureOptions,
) -> dict[str, Any]:
    compute_eff, bandwidth_eff = flat_efficiencies(table)
    today = datetime.date.today().isoformat()
    on_gpu = device == "cuda"
    name = info["device"] if on_gpu else cpu["cpu"]
    threads = info.get("threads", cpu["cores"])
    machine = (
        cpu
        | info
        | {
            "backend": table["backend"],
            "threads_used": threads,
            "python": platform.python_version(),
            "date": today,
            "quick": options.quick,
            "models_swept": list(options.models),
            "statistic": options.statistic,
            "passes": options.passes,
            "stream_bytes_per_s": stream,
            "gemm_flops_per_s": {
                r.dtype: {str(n): 2.0 * n**3 / t for n, t in r.gemm} for r in runs
            },
        }
    )
    try:
        import numpy

        machine.setdefault("numpy", numpy.__version__)
    except ImportError:
        pass
    return {
        "kind": PROFILE_KIND,
        "id": f"measured-{device}",
        "name": f"{name} ({'GPU' if on_gpu else _threads(threads)}, measured)",
        "vendor": "NVIDIA" if on_gpu else (cpu["vendor"] or "unknown"),
        "peak_flops_per_s": roofs.peak_flops_per_s,
        "bandwidth_bytes_per_s": roofs.bandwidth_bytes_per_s,
        "memory_bytes": float(info.get("device_memory_bytes", system_memory_bytes())),
        "interconnect_bytes_per_s": None,
        "compute_efficiency": compute_eff,
        "bandwidth_efficiency": bandwidth_eff,
        "source": f"llm-roofline measure ({table['backend']} on {device}, {today})",
        "notes": (
            "Measured roofs: each peak is the best FLOP/s any GEMM or linear probe reached, "
            "the bandwidth the best of STREAM read/copy/triad (copy counts 2x bytes, triad 3x) "
            "and DRAM-resident matrix-vector products. efficiency_table holds per-operator "
            "efficiencies against these roofs and per-operator framework overheads."
            + (" QUICK MODE: tiny sizes, not a usable calibration." if options.quick else "")
        ),
        "machine": machine,
        "efficiency_table": table,
    }
