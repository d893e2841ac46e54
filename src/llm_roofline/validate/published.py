"""Our predictions against published measured runs (shared/data/calibration_measurements.json).

Each run that a preset model, a preset device and a ``Workload`` can express is analyzed;
the ratio ideal / measured is the achieved fraction of our roofline (for decode, about
MBU; for prefill, about MFU), the evidence behind the flat default efficiencies. Runs on
several GPUs (tensor parallel) and on models without a preset are left out. Pure; the
measured figures are copied here with the id of their entry.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from ..catalog.hardware_catalog import get_hardware
from ..catalog.model_catalog import get_model
from ..engine.analyze import analyze
from ..inputs.workload import Workload


@dataclass(frozen=True)
class Run:
    id: str  # the entry's id in calibration_measurements.json
    model: str
    hardware: str
    phase: str
    measured_s: float
    workload: dict[str, Any]
    note: str = ""


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
    ),
    Run(
        "gptfast-Llama-2-7B-int8_weight-only",
        "llama-2-7b",
        "a100-sxm-80gb",
        "decode",
        6.43e-3,
        _decode(105, "int8", "bf16"),
        GPT_FAST,
    ),
    Run(
        "gptfast-Llama-2-7B-int4_weight-only_(G=32)",
        "llama-2-7b",
        "a100-sxm-80gb",
        "decode",
        5.08e-3,
        _decode(105, "int4", "bf16", weight_group_size=32),
        GPT_FAST,
    ),
    Run(
        "gptfast-Llama-2-70B-int8_weight-only",
        "llama-2-70b",
        "a100-sxm-80gb",
        "decode",
        52.27e-3,
        _decode(105, "int8", "bf16"),
        GPT_FAST,
    ),
    Run(
        "gptfast-Llama-2-70B-int4_weight-only_(G=32)",
        "llama-2-70b",
        "a100-sxm-80gb",
        "decode",
        39.6e-3,
        _decode(105, "int4", "bf16", weight_group_size=32),
        GPT_FAST,
    ),
    Run(
        "llamacpp-xd-RTX_4090_24GB-Llama-2-7B-F16",
        "llama-2-7b",
        "rtx-4090",
        "decode",
        16.41e-3,
        _decode(64),
        "tg128: context ~64",
    ),
    Run(
        "llamacpp-xd-RTX_3090_24GB-Llama-2-7B-F16",
        "llama-2-7b",
        "rtx-3090",
        "decode",
        19.3e-3,
        _decode(64),
        "tg128: context ~64",
    ),
    Run(
        "llamacpp-xd-A100_80GB_(RunPod;_SXM_vs_PCIe_not_stated)-Llama-2-7B-F16",
        "llama-2-7b",
        "a100-sxm-80gb",
        "decode",
        13.54e-3,
        _decode(64),
        "SXM assumed",
    ),
    Run(
        "llamacpp-xd-H100_PCIe_80GB-Llama-2-7B-F16",
        "llama-2-7b",
        "h100-pcie",
        "decode",
        12.0e-3,
        _decode(64),
    ),
    Run(
        "llamacpp-xd-M2_Ultra_76-core_192GB-Llama-2-7B-F16",
        "llama-2-7b",
        "m2-ultra",
        "decode",
        24.58e-3,
        _decode(64),
    ),
    Run(
        "llamacpp-xd-M3_Max_40-core_48GB-Llama-2-7B-F16",
        "llama-2-7b",
        "m3-max",
        "decode",
        40.39e-3,
        _decode(64),
    ),
    Run(
        "llamacpp-xd-PP-M2_Ultra_76-core",
        "llama-2-7b",
        "m2-ultra",
        "prefill",
        512 / 1379.54,
        _prefill(512),
    ),
    Run(
        "llamacpp-xd-PP-M3_Max_40-core",
        "llama-2-7b",
        "m3-max",
        "prefill",
        512 / 761.4,
        _prefill(512),
    ),
    Run(
        "llamacpp-xd-PP-A100_80GB",
        "llama-2-7b",
        "a100-sxm-80gb",
        "prefill",
        512 / 5105.77,
        _prefill(512),
    ),
    Run(
        "llamacpp-xd-PP-H100_PCIe",
        "llama-2-7b",
        "h100-pcie",
        "prefill",
        512 / 7367.0,
        _prefill(512),
    ),
    Run(
        "llamacpp-xd-PP-RTX_4090", "llama-2-7b", "rtx-4090", "prefill", 512 / 7244.6, _prefill(512)
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
    ),
    Run(
        "lmdeploy-prefill2048-Llama-2-13B-tp1",
        "llama-2-13b",
        "a100-sxm-80gb",
        "prefill",
        242e-3,
        _prefill(2048),
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
)


@dataclass(frozen=True)
class PublishedRow:
    run: Run
    ideal_s: float
    expected_s: float  # the device preset's flat default efficiencies

    @property
    def achieved(self) -> float:
        """ideal / measured: the fraction of our roofline the published run reached."""
        return self.ideal_s / self.run.measured_s

    @property
    def expected_error(self) -> float:
        return self.expected_s / self.run.measured_s - 1


def published_rows() -> list[PublishedRow]:
    rows = []
    for run in RUNS:
        phase = analyze(
            get_model(run.model), get_hardware(run.hardware), Workload(**run.workload)
        ).phases[run.phase]
        rows.append(PublishedRow(run, phase.time_s, phase.expected_time_s))
    return rows


def achieved_medians(rows: list[PublishedRow]) -> dict[str, float]:
    """Median achieved fraction of our roofline per phase."""
    return {
        phase: statistics.median(r.achieved for r in rows if r.run.phase == phase)
        for phase in ("decode", "prefill")
    }


def render_published(rows: list[PublishedRow]) -> str:
    lines = [
        "| run | model | device | phase | measured ms | ideal ms | achieved | expected ms (flat) | error |",
        "|---|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.run.id} | {r.run.model} | {r.run.hardware} | {r.run.phase} "
            f"| {r.run.measured_s * 1e3:.2f} | {r.ideal_s * 1e3:.2f} | {r.achieved:.2f} "
            f"| {r.expected_s * 1e3:.2f} | {r.expected_error:+.0%} |"
        )
    return "\n".join(lines)
