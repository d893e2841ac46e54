"""The Hopper generation table, fitted on measured H100 kernels, and its cross-validation.

Input: ``calibration/gpu_kernels_h100/kernels.json`` (3,247 kernels measured on one H100 SXM
with TensorRT-LLM 1.3.0rc20 and NCCL 2.29.2, from aiconfigurator-core 0.12.0, Apache-2.0;
README and LICENSE beside it). Each kernel becomes a ``fit.Sample``: the operator the
engine would build for it (``ops.linear``, ``ops.attention_ops``, an all-reduce record),
priced on the ``h100-sxm`` preset's datasheet roofs, and its measured time. Output: the
``hopper.json`` table (``fit_table``), and the k-fold cross-validated accuracy of the
same procedure (``cross_validate``: whole shapes, head layouts or message sizes held out
together). Run ``python -m llm_roofline.measure.kernel_set`` to rewrite the table.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..catalog.hardware_catalog import get_hardware
from ..engine import ops
from ..engine.attention import attention_ops
from ..engine.calibration import TABLE_FORMAT
from ..engine.calibration_table import parse_table
from ..engine.ops import OpCost, Pass
from ..engine.timing import Roofs
from ..inputs.hardware import Hardware
from ..inputs.model import Model
from ..inputs.workload import Workload
from .fit import KernelSpec, Sample, fit_kernel, round_sig
from .fit_collectives import COLLECTIVE_KEYS, all_reduce_op, fit_collective

ROOT = Path(__file__).resolve().parents[3]
KERNELS = ROOT / "calibration" / "gpu_kernels_h100" / "kernels.json"
TABLE = ROOT / "src" / "llm_roofline" / "catalog" / "data" / "efficiency" / "hopper.json"
FOLDS = 5
PRESET = "h100-sxm"

# A GEMM's compute curve is shaped by compute-bound GEMMs only: below the ridge a GEMM
# streams its weights, and a compute efficiency fitted there would stand in for memory
# time on a device with a lower ridge (an A100's batched decode).
GEMM = KernelSpec(
    compute=("tokens", "weight_bytes"),
    memory=("weight_bytes",),
    knots=(("tokens", "distinct"), ("weight_bytes", "pow2")),
    relevant=1.0,
)
DECODE = KernelSpec(
    compute=("keys",),
    memory=("bytes", "keys"),
    knots=(("keys", "distinct"), ("bytes", "pow4")),
)
DECODE_KV8 = KernelSpec(
    compute=("keys",),
    memory=("bytes", "intensity"),
    knots=(("keys", "distinct"), ("bytes", "pow4"), ("intensity", "pow2")),
)
PREFILL = KernelSpec(
    compute=("flops", "keys"),
    memory=("bytes",),
    knots=(("flops", "pow4"), ("keys", "distinct"), ("bytes", "pow4")),
)
ALIASES = {"fp16": "bf16", "fp32": "bf16", "tf32": "bf16", "int8": "fp8", "fp4": "fp8"}


@dataclass(frozen=True)
class KernelPoint:
    kind: str  # gemm | decode_attention | prefill_attention | all_reduce
    dtype: str  # the table's dtype key (bf16 | fp8), or the collective's key
    sample: Sample


def _pass(batch: int, new: int, past: int, dtype: str, kv: str) -> Pass:
    w = Workload(batch_size=batch, weight_dtype=dtype, activation_dtype=dtype, kv_dtype=kv)
    return Pass.of(w, new=new, past=past, batch=batch)


def _attention(p: dict[str, Any], decode: bool) -> OpCost:
    heads, kv, hd = p["heads"], p["kv_heads"], p["head_dim"]
    m = Model("probe", 256, heads * hd, 1, heads, kv, hd, 1)
    dtype = "fp8" if p["compute_dtype"] == "fp8" else "bf16"
    kv_dtype = "fp8" if p["kv_dtype"] == "fp8" else "bf16"
    if decode:
        passed = _pass(p["batch"], 1, p["cached_tokens"], dtype, kv_dtype)
    else:
        passed = _pass(p["batch"], p["tokens"], 0, dtype, kv_dtype)
    return attention_ops(m, passed, None)[0]


def load_points(path: Path = KERNELS) -> list[KernelPoint]:
    """Every kernel of the file as a priced sample (see the module docstring)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for p in data["points"]:
        t, kind = p["measured_ms"] * 1e-3, p["kind"]
        if kind == "gemm":
            m, n, k = p["m"], p["n"], p["k"]
            op = ops.linear("gemm", _pass(1, m, 0, p["dtype"], p["dtype"]), m, k, n)
            out.append(KernelPoint(kind, p["dtype"], Sample(op, t, f"{p['dtype']} {n}x{k}")))
        elif kind in ("decode_attention", "prefill_attention"):
            decode = kind == "decode_attention"
            if decode:
                dtype = "kv8" if p["kv_dtype"] == "fp8" else "bf16"
            else:
                dtype = "fp8" if p["compute_dtype"] == "fp8" else "bf16"
            group = f"{p['kv_dtype']} {p['heads']}/{p['kv_heads']}/{p['head_dim']}"
            out.append(KernelPoint(kind, dtype, Sample(_attention(p, decode), t, group)))
        elif kind == "all_reduce":
            key = COLLECTIVE_KEYS[(p["impl"], p["dtype"])]
            op = all_reduce_op(p["devices"], p["message_bytes"])
            out.append(KernelPoint(kind, key, Sample(op, t, f"{key} {p['message_bytes']}")))
        else:
            raise ValueError(f"{path}: unknown kernel kind {kind!r}")
    return out


def _select(points: Iterable[KernelPoint], kind: str, dtype: str | None = None) -> list[Sample]:
    return [p.sample for p in points if p.kind == kind and (dtype is None or p.dtype == dtype)]


def _dtype_entry(points: Sequence[KernelPoint], dtype: str, hw: Hardware) -> dict[str, Any]:
    peak, bw = hw.peak_flops_per_s[dtype], hw.bandwidth_bytes_per_s
    matmul = fit_kernel(_select(points, "gemm", dtype), GEMM, peak, bw)
    bf16_peak = hw.peak_flops_per_s["bf16"]
    decode = fit_kernel(_select(points, "decode_attention", "bf16"), DECODE, bf16_peak, bw)
    decode_kv8 = fit_kernel(_select(points, "decode_attention", "kv8"), DECODE_KV8, bf16_peak, bw)
    if dtype != "bf16":  # the decode kernel computes in bf16: same times on the fp8 roof
        decode = _rescaled_compute(decode, bf16_peak / peak)
        decode_kv8 = _rescaled_compute(decode_kv8, bf16_peak / peak)
    prefill = fit_kernel(_select(points, "prefill_attention", dtype), PREFILL, peak, bw)
    streaming = matmul["memory"] | {"over": ["bytes"], "bytes": matmul["memory"]["weight_bytes"]}
    del streaming["weight_bytes"]
    elementwise = {
        "fixed_s": matmul["fixed_s"],
        "compute": {"over": [], "efficiency": 1.0},
        "memory": streaming,
        "note": "no element-wise kernel was measured: a weight-streaming GEMV's memory "
        "efficiency at the same bytes, and the GEMM's fixed time",
    }
    return {
        "matmul": matmul,
        "attention": {"decode": decode, "decode_kv8": decode_kv8, "prefill": prefill},
        "elementwise": {"default": elementwise},
    }


def _rescaled_compute(entry: dict[str, Any], factor: float) -> dict[str, Any]:
    def scale(values: Any) -> Any:
        if isinstance(values, list):
            return [scale(v) for v in values]
        return round_sig(min(1.0, values * factor))

    return entry | {
        "compute": entry["compute"] | {"efficiency": scale(entry["compute"]["efficiency"])}
    }


def fit_table(points: Sequence[KernelPoint], hw: Hardware | None = None) -> dict[str, Any]:
    """The hopper table from ``points`` (all of them, or a cross-validation fold)."""
    hw = hw or get_hardware(PRESET)
    link = hw.interconnect_bytes_per_s or 0.0
    collectives = {
        key: fit_collective(
            [p.sample for p in points if p.kind == "all_reduce" and p.dtype == key], link
        )
        for key in sorted({p.dtype for p in points if p.kind == "all_reduce"})
    }
    return {
        "format": TABLE_FORMAT,
        "generation": "hopper",
        "status": "calibrated",
        "note": "expected time: Hopper kernel model (H100 SXM kernels, TensorRT-LLM 1.3.0rc20, NCCL 2.29.2)",
        "source": "fitted by llm_roofline.measure.kernel_set on calibration/gpu_kernels_h100/kernels.json "
        "(3,247 kernels from aiconfigurator-core 0.12.0, NVIDIA, Apache-2.0; see NOTICE)",
        "fitted": {
            "kernels": len(points),
            "roofs": f"{PRESET} preset (datasheet): bf16 {hw.peak_flops_per_s['bf16']:.4g} FLOP/s, "
            f"fp8 {hw.peak_flops_per_s['fp8']:.4g} FLOP/s, {hw.bandwidth_bytes_per_s:.4g} B/s, "
            f"link {link:.4g} B/s",
        },
        "overhead_mode": "sum",
        "dtypes": {dtype: _dtype_entry(points, dtype, hw) for dtype in ("bf16", "fp8")},
        "aliases": dict(ALIASES),
        "collectives": collectives,
    }


def folds(points: Sequence[KernelPoint], k: int = FOLDS) -> list[int]:
    """Fold of each point: groups (shape, layout, size) sorted per kind, dealt round-robin."""
    order: dict[tuple[str, str, str], int] = {}
    for p in points:
        order.setdefault((p.kind, p.dtype, p.sample.group), 0)
    index = {g: i for i, g in enumerate(sorted(order))}
    return [index[(p.kind, p.dtype, p.sample.group)] % k for p in points]


@dataclass(frozen=True)
class Prediction:
    point: KernelPoint
    expected_s: float
    ideal_s: float

    @property
    def ratio(self) -> float:
        """expected / measured."""
        return self.expected_s / self.point.sample.time_s


def predict(
    table: dict[str, Any], points: Sequence[KernelPoint], hw: Hardware | None = None
) -> list[Prediction]:
    """Each point priced by the engine (``Roofs``) on ``table``: what a user would get."""
    base = dataclasses.replace(hw or get_hardware(PRESET), efficiency_table=table)
    roofs = {d: Roofs.of(base, d) for d in ("bf16", "fp8")}  # an fp8 cache: its records' own
    parsed = parse_table(table)
    out = []
    for p in points:
        r = roofs["fp8" if p.dtype == "fp8" else "bf16"]
        if p.kind == "all_reduce":
            model = parsed.collectives[p.dtype]
            r = dataclasses.replace(r, all_reduce=model)
        op = p.sample.op
        out.append(Prediction(p, float(r.expected_s(op)), float(r.ideal_s(op))))
    return out


def cross_validate(points: Sequence[KernelPoint], k: int = FOLDS) -> list[Prediction]:
    """Every point predicted by the table fitted on the other k − 1 folds."""
    fold_of = folds(points, k)
    out: list[Prediction | None] = [None] * len(points)
    for f in range(k):
        train = [p for p, g in zip(points, fold_of, strict=True) if g != f]
        test = [i for i, g in enumerate(fold_of) if g == f]
        for i, pred in zip(test, predict(fit_table(train), [points[i] for i in test]), strict=True):
            out[i] = pred
    return [p for p in out if p is not None]


def write_table(path: Path = TABLE, kernels: Path = KERNELS) -> dict[str, Any]:
    table = fit_table(load_points(kernels))
    path.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    return table


def geometric_mean(values: Sequence[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


if __name__ == "__main__":
    write_table()
    print(f"wrote {TABLE}")
