"""Our predictions against published measured runs (shared/data/calibration_measurements.json).

Each run that a preset model, a device and a ``Workload`` (with the run's engine, and a
``Layout`` for tensor-parallel runs) can express is analyzed. ideal / measured is the
achieved fraction of our roofline (for decode about MBU, for prefill about MFU); the
expected time is what a user would be told: the operators' expected times plus the engine
profile's fixed cost per pass and, for a time-to-first-token, per request. Left out: the
13B GPT of kipply's blog (no preset, its shape is not in the entry) and the Databricks
MBU sentence (no workload). Pure; the measured figures are copied here with the id of
their entry. ``engine_fit.py`` fits the engine profiles on these runs.
"""

from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass
from typing import Any

from ..catalog.hardware_catalog import get_hardware
from ..catalog.model_catalog import get_model
from ..engine.analysis import analyze
from ..engine.timing import Roofs
from ..inputs.hardware import Hardware
from ..inputs.layout import Layout
from ..inputs.workload import Workload

MI250X_GCD = "mi250x-gcd"  # one of the two dies of an MI250X, as the gpt-fast run used it


@dataclass(frozen=True)
class Run:
    id: str  # the entry's id in calibration_measurements.json
    model: str
    hardware: str
    phase: str  # "prefill" | "decode"
    measured_s: float
    workload: dict[str, Any]
    note: str = ""
    engine: str = "generic"
    tensor: int = 1  # tensor-parallel degree
    first_token: bool = False  # a time to first token (the request overhead counts)


def _decode(context: int, weight: str = "fp16", act: str = "fp16", **extra: Any) -> dict[str, Any]:
    return (
        dict(
            batch_size=1,
            prompt_len=max(context, 1),
            context_len=context,
            output_len=0,
            weight_dtype=weight,
            activation_dtype=act,
            kv_dtype=act,
        )
        | extra
    )


def _prefill(prompt: int) -> dict[str, Any]:
    return dict(
        batch_size=1,
        prompt_len=prompt,
        output_len=0,
        weight_dtype="fp16",
        activation_dtype="fp16",
        kv_dtype="fp16",
    )


GPT_FAST = "A100 power-limited to 330 W; context ~105 (5-token prompt, ~200 generated)"
RUNS = (
    Run(
        "gptfast-Llama-2-7B-bf16_(base)",
        "llama-2-7b",
        "a100-sxm-80gb",
        "decode",
        9.53e-3,
        _decode(105, "bf16", "bf16"),
        GPT_FAST,
        engine="gpt-fast",
    ),
    Run(
        "gptfast-Llama-2-7B-int8_weight-only",
        "llama-2-7b",
        "a100-sxm-80gb",
        "decode",
        6.43e-3,
        _decode(105, "int8", "bf16"),
        GPT_FAST,
        engine="gpt-fast",
    ),
    Run(
        "gptfast-Llama-2-7B-int4_weight-only_(G=32)",
        "llama-2-7b",
        "a100-sxm-80gb",
        "decode",
        5.08e-3,
        _decode(105, "int4", "bf16", weight_group_size=32),
        GPT_FAST,
        engine="gpt-fast",
    ),
    Run(
        "gptfast-Llama-2-70B-int8_weight-only",
        "llama-2-70b",
        "a100-sxm-80gb",
        "decode",
        52.27e-3,
        _decode(105, "int8", "bf16"),
        GPT_FAST,
        engine="gpt-fast",
    ),
    Run(
        "gptfast-Llama-2-70B-int4_weight-only_(G=32)",
        "llama-2-70b",
        "a100-sxm-80gb",
        "decode",
        39.6e-3,
        _decode(105, "int4", "bf16", weight_group_size=32),
        GPT_FAST,
        engine="gpt-fast",
    ),
    Run(
        "llamacpp-xd-RTX_4090_24GB-Llama-2-7B-F16",
        "llama-2-7b",
        "rtx-4090",
        "decode",
        16.41e-3,
        _decode(64),
        "tg128: context ~64",
        engine="llama.cpp",
    ),
    Run(
        "llamacpp-xd-RTX_3090_24GB-Llama-2-7B-F16",
        "llama-2-7b",
        "rtx-3090",
        "decode",
        19.3e-3,
        _decode(64),
        "tg128: context ~64",
        engine="llama.cpp",
    ),
    Run(
        "llamacpp-xd-A100_80GB_(RunPod;_SXM_vs_PCIe_not_stated)-Llama-2-7B-F16",
        "llama-2-7b",
        "a100-sxm-80gb",
        "decode",
        13.54e-3,
        _decode(64),
        "SXM assumed",
        engine="llama.cpp",
    ),
    Run(
        "llamacpp-xd-H100_PCIe_80GB-Llama-2-7B-F16",
        "llama-2-7b",
        "h100-pcie",
        "decode",
        12.0e-3,
        _decode(64),
        engine="llama.cpp",
    ),
    Run(
        "llamacpp-xd-M2_Ultra_76-core_192GB-Llama-2-7B-F16",
        "llama-2-7b",
        "m2-ultra",
        "decode",
        24.58e-3,
        _decode(64),
        engine="llama.cpp",
    ),
    Run(
        "llamacpp-xd-M3_Max_40-core_48GB-Llama-2-7B-F16",
        "llama-2-7b",
        "m3-max",
        "decode",
        40.39e-3,
        _decode(64),
        engine="llama.cpp",
    ),
    Run(
        "llamacpp-xd-PP-M2_Ultra_76-core",
        "llama-2-7b",
        "m2-ultra",
        "prefill",
        512 / 1379.54,
        _prefill(512),
        engine="llama.cpp",
    ),
    Run(
        "llamacpp-xd-PP-M3_Max_40-core",
        "llama-2-7b",
        "m3-max",
        "prefill",
        512 / 761.4,
        _prefill(512),
        engine="llama.cpp",
    ),
    Run(
        "llamacpp-xd-PP-A100_80GB",
        "llama-2-7b",
        "a100-sxm-80gb",
        "prefill",
        512 / 5105.77,
        _prefill(512),
        engine="llama.cpp",
    ),
    Run(
        "llamacpp-xd-PP-H100_PCIe",
        "llama-2-7b",
        "h100-pcie",
        "prefill",
        512 / 7367.0,
        _prefill(512),
        engine="llama.cpp",
    ),
    Run(
        "llamacpp-xd-PP-RTX_4090",
        "llama-2-7b",
        "rtx-4090",
        "prefill",
        512 / 7244.6,
        _prefill(512),
        engine="llama.cpp",
    ),
    Run(
        "lmdeploy-decode-Llama-2-7B-tp1",
        "llama-2-7b",
        "a100-sxm-80gb",
        "decode",
        10.0e-3,
        _decode(64),
        "1-token prompt, 128 generated",
    ),
    Run(
        "lmdeploy-decode-Llama-2-13B-tp1",
        "llama-2-13b",
        "a100-sxm-80gb",
        "decode",
        17.39e-3,
        _decode(64),
        "1-token prompt, 128 generated",
    ),
    Run(
        "lmdeploy-prefill2048-Llama-2-7B-tp1",
        "llama-2-7b",
        "a100-sxm-80gb",
        "prefill",
        139e-3,
        _prefill(2048),
        first_token=True,
    ),
    Run(
        "lmdeploy-prefill2048-Llama-2-13B-tp1",
        "llama-2-13b",
        "a100-sxm-80gb",
        "prefill",
        242e-3,
        _prefill(2048),
        first_token=True,
    ),
    Run(
        "lmdeploy-batch64-Llama-2-7B",
        "llama-2-7b",
        "a100-sxm-80gb",
        "decode",
        15.4e-3,
        _decode(64) | {"batch_size": 64},
        "batch 64, mean context 64",
    ),
    Run(
        "gptfast-Llama-2-70B-bf16,_tensor_parallel_8",
        "llama-2-70b",
        "a100-sxm-80gb",
        "decode",
        16.0e-3,
        _decode(105, "bf16", "bf16"),
        GPT_FAST,
        engine="gpt-fast",
        tensor=8,
    ),
    Run(
        "gptfast-Llama-2-7B-bf16,_tensor_parallel_8",
        "llama-2-7b",
        "a100-sxm-80gb",
        "decode",
        3.04e-3,
        _decode(105, "bf16", "bf16"),
        GPT_FAST,
        engine="gpt-fast",
        tensor=8,
    ),
    Run(
        "gptfast-Llama-2-7B-MI250X-GCD",
        "llama-2-7b",
        MI250X_GCD,
        "decode",
        13.1e-3,
        _decode(105, "bf16", "bf16"),
        "one GCD: half of the mi250x preset's peaks, the entry's 64 GB and 1638.4 GB/s",
        engine="gpt-fast",
    ),
    Run(
        "lmdeploy-decode-Llama-2-70B-tp4",
        "llama-2-70b",
        "a100-sxm-80gb",
        "decode",
        29.46e-3,
        _decode(64),
        "1-token prompt, 128 generated",
        tensor=4,
    ),
    Run(
        "lmdeploy-prefill2048-Llama-2-70B-tp4",
        "llama-2-70b",
        "a100-sxm-80gb",
        "prefill",
        402e-3,
        _prefill(2048),
        first_token=True,
        tensor=4,
    ),
)


def hardware_of(run: Run) -> Hardware:
    """The run's device: a preset, or one GCD of an MI250X (half the module's peaks)."""
    if run.hardware != MI250X_GCD:
        return get_hardware(run.hardware)
    module = get_hardware("mi250x")
    return dataclasses.replace(
        module,
        name="AMD MI250X, one GCD",
        id=MI250X_GCD,
        peak_flops_per_s={k: v / 2 for k, v in module.peak_flops_per_s.items()},
        bandwidth_bytes_per_s=1638.4e9,  # the entry's figure for one GCD
        memory_bytes=64e9,
    )


def with_engine(hw: Hardware, engine: str, profile: dict[str, Any] | None = None) -> Hardware:
    """``hw`` whose table defaults to ``engine`` (and, when given, uses ``profile`` for it),
    so that any analysis of it prices that engine."""
    table = hw.efficiency_table
    if table is None or "engines" not in table:
        return hw
    engines = table["engines"] if profile is None else table["engines"] | {engine: profile}
    return dataclasses.replace(
        hw, efficiency_table=table | {"engines": engines, "default_engine": engine}
    )


@dataclass(frozen=True)
class PublishedRow:
    run: Run
    ideal_s: float
    expected_s: float  # operators + the engine's fixed costs per pass (and per request)
    low_s: float = 0.0  # the range around expected_s (range factors of the table)
    high_s: float = 0.0

    @property
    def achieved(self) -> float:
        """ideal / measured: the fraction of our roofline the published run reached."""
        return self.ideal_s / self.run.measured_s

    @property
    def expected_error(self) -> float:
        return self.expected_s / self.run.measured_s - 1


def predict(run: Run, hw: Hardware | None = None) -> PublishedRow:
    """The run analyzed on ``hw`` (default: its own device with its engine's profile)."""
    hw = hw or with_engine(hardware_of(run), run.engine)
    w = Workload(**run.workload, engine=run.engine)
    layout = Layout(tensor=run.tensor) if run.tensor > 1 else None
    report = analyze(get_model(run.model), hw, w, layout)
    roofs = Roofs.of(hw, w.activation_dtype, run.engine, w.kv_dtype)
    phase = report.phases[run.phase]
    latency = report.metrics.ttft_s if run.phase == "prefill" else report.metrics.tpot_s
    # The engine's fixed costs, until the Report carries them as rows of its own:
    expected = latency + roofs.step_overhead_s
    if run.first_token:
        expected += roofs.request_overhead_s
    low, high = roofs.range_factors(run.phase) or (1.0, 1.0)
    return PublishedRow(run, phase.time_s, expected, expected * low, expected * high)


def published_rows() -> list[PublishedRow]:
    return [predict(run) for run in RUNS]


def achieved_medians(rows: list[PublishedRow]) -> dict[str, float]:
    """Median achieved fraction of our roofline per phase."""
    return {
        phase: statistics.median(r.achieved for r in rows if r.run.phase == phase)
        for phase in ("decode", "prefill")
    }


def within(rows: list[PublishedRow], factor: float) -> float:
    """Fraction of rows whose expected time is within ×factor of the measured one."""
    return sum(1 / factor <= r.expected_s / r.run.measured_s <= factor for r in rows) / len(rows)


def median_abs_error(rows: list[PublishedRow]) -> float:
    return statistics.median(abs(r.expected_error) for r in rows)


def render_published(rows: list[PublishedRow]) -> str:
    lines = [
        "| run | engine | model | device | TP | phase | measured ms | ideal ms | achieved | expected ms | error |",
        "|---|---|---|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.run.id} | {r.run.engine} | {r.run.model} | {r.run.hardware} | {r.run.tensor} "
            f"| {r.run.phase} | {r.run.measured_s * 1e3:.2f} | {r.ideal_s * 1e3:.2f} "
            f"| {r.achieved:.2f} | {r.expected_s * 1e3:.2f} | {r.expected_error:+.0%} |"
        )
    return "\n".join(lines)
