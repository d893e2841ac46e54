"""The published measured runs we can express (shared/data/calibration_measurements.json).

Each ``Run`` copies one entry's measured figure, with its id, as a model preset, a device,
a ``Workload``, the engine and the tensor-parallel degree (``published.py`` prices them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
