"""The ``transformers`` engine profile of a measured table, from ``hf_overhead``'s probes.

Per dtype, three element-wise entries (engine/framework.py prices them):

- ``cache_copy``: fitted by ``fit.fit_kernel`` (the fitter of every other curve) on the
  torch.cat probe, each sample priced as ``framework.cache_copy`` counts it (2·B·(C+1)·e·b
  bytes);
- ``framework_layer`` and ``framework_step``: fixed times. For each tiny architecture,
  the measured decode steps at depths L1 < L2 give slope = Δt / ΔL and intercept =
  t(L1) − L1·slope; the same model under the ``transformers`` engine, priced by the table
  (kernels, their fixed times and the cache copy; framework times still 0), gives the
  predicted slope and intercept. framework_layer = median over architectures of
  max(0, measured slope − predicted), framework_step likewise for the intercepts: the
  time transformers spends outside what the kernel table already counts. The
  per-architecture figures are kept in ``machine.transformers_framework``.

The engines ``transformers`` (DynamicCache: the copy) and ``transformers-static`` then
share these numbers; every other engine name prices the table as measured.
"""

from __future__ import annotations

import statistics
from typing import Any

from ..catalog.hardware_catalog import hardware_from_dict
from ..catalog.hf_config import model_from_hf_dict
from ..engine import framework
from ..engine.analyze import analyze
from ..engine.ops import OpCost
from ..inputs.workload import Workload
from .fit import KernelSpec, Sample, fit_kernel
from .hf_overhead import CONTEXT, COPY_SHAPE, DEPTHS, TINY, FrameworkRun, catalog_config
from .probes import probe_model, probe_pass

COPY_SPEC = KernelSpec(compute=(), memory=("bytes",), knots=(("bytes", "distinct"),))
ENGINES = {
    "transformers": "Hugging Face transformers with its default DynamicCache: the whole KV "
    "cache is concatenated into a new tensor every step (kv_cache_copy), plus its host "
    "time per layer and per step measured through transformers (framework_layer/step).",
    "transformers-static": "Hugging Face transformers with a StaticCache (new tokens written "
    "in place: no copy), with the same measured host time per layer and per step.",
}


def copy_cost(dtype: str, context: int) -> OpCost:
    """The cache-copy probe's operator: batch B, one new token after ``context``."""
    batch, heads, hd = COPY_SHAPE
    m = probe_model(heads * hd, 1, heads, heads, hd)
    return framework.cache_copy(m, probe_pass(dtype, tokens=1, past=context, batch=batch), None)


def _constant(fixed_s: float) -> dict[str, Any]:
    one = {"over": [], "efficiency": 1.0}
    return {"fixed_s": fixed_s, "compute": one, "memory": one}


def tiny_step_s(profile: dict[str, Any], arch: str, layers: int, dtype: str) -> float:
    """The predicted decode step of the tiny ``arch`` at ``layers`` (batch 1, CONTEXT)."""
    from .hf_models import hf_config

    config = hf_config(catalog_config(arch), layers=layers, **TINY)
    m = model_from_hf_dict(config.to_dict(), name=f"tiny {arch}", origin=f"tiny {arch}")
    w = Workload(
        batch_size=1, prompt_len=CONTEXT, context_len=CONTEXT, output_len=1,
        weight_dtype=dtype, activation_dtype=dtype, kv_dtype=dtype, engine="transformers",
    )  # fmt: skip
    hw = hardware_from_dict(profile, "measured profile")
    return analyze(m, hw, w).phases["decode"].expected_time_s


def add_framework(profile: dict[str, Any], runs: list[FrameworkRun]) -> None:
    """Add the cache-copy curve, the framework times and the two engines to ``profile``'s
    efficiency table (in place); the per-architecture fit goes to its ``machine``."""
    table = profile["efficiency_table"]
    peaks, bw = profile["peak_flops_per_s"], profile["bandwidth_bytes_per_s"]
    for run in runs:
        samples = [
            Sample(copy_cost(run.dtype, c), t)
            for c, t in zip(run.copy_contexts, run.copy_s, strict=True)
        ]
        entry = table["dtypes"][run.dtype]["elementwise"]
        entry["cache_copy"] = fit_kernel(samples, COPY_SPEC, peaks[run.dtype], bw)
    table["engines"] = {name: {"description": text} for name, text in ENGINES.items()}
    table.setdefault("default_engine", "")
    fits: dict[str, Any] = {}
    for run in runs:
        per_arch = {}
        for arch, measured in run.steps_s.items():
            predicted = [tiny_step_s(profile, arch, n, run.dtype) for n in DEPTHS]
            per_arch[arch] = _fit(measured, predicted)
        entry = table["dtypes"][run.dtype]["elementwise"]
        layer = statistics.median(f["framework_layer_s"] for f in per_arch.values())
        step = statistics.median(f["framework_step_s"] for f in per_arch.values())
        entry["framework_layer"], entry["framework_step"] = _constant(layer), _constant(step)
        fits[run.dtype] = per_arch
    profile["machine"]["transformers_framework"] = fits


def _fit(measured: list[float], predicted: list[float]) -> dict[str, float]:
    """Slopes and intercepts over DEPTHS, and their excess over the prediction (≥ 0)."""
    span = DEPTHS[1] - DEPTHS[0]
    slope_m, slope_p = (measured[1] - measured[0]) / span, (predicted[1] - predicted[0]) / span
    icpt_m, icpt_p = measured[0] - DEPTHS[0] * slope_m, predicted[0] - DEPTHS[0] * slope_p
    return {
        "measured_layer_s": slope_m,
        "predicted_layer_s": slope_p,
        "measured_step_s": icpt_m,
        "predicted_step_s": icpt_p,
        "framework_layer_s": max(0.0, slope_m - slope_p),
        "framework_step_s": max(0.0, icpt_m - icpt_p),
    }
