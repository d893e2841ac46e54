"""The Apple M1 / M1 Ultra / M3 Ultra / M4 Pro and NVIDIA A10 presets, and fp4 compute.

Every expected number below is written from its source (the comment beside it), not from
the preset file; each file is read raw and through the catalog and both must equal them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llm_roofline import Workload, analyze
from llm_roofline.catalog import hardware_catalog as hc
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.cli import main
from llm_roofline.engine.timing import Roofs

DATA = (
    Path(__file__).resolve().parents[1] / "src" / "llm_roofline" / "catalog" / "data" / "hardware"
)


def apple(peak: float, bandwidth: float, memory: float) -> dict[str, Any]:
    # Apple GPUs run FP16 at the FP32 rate (no matrix units); no device-to-device link.
    return {
        "peak_flops_per_s": {"fp32": peak, "fp16": peak},
        "bandwidth_bytes_per_s": bandwidth,
        "memory_bytes": memory,
        "interconnect_bytes_per_s": None,
    }


EXPECTED: dict[str, dict[str, Any]] = {
    # 8 cores x 128 ALUs x 2 x 1.278 GHz = 2.617 TFLOPS (Apple: "2.6 teraflops", nanoreview:
    # 1024 shaders at 1278 MHz); LPDDR4X-4266 x 128 bits = 4,266 MT/s x 16 B = 68.26 GB/s;
    # M1 Macs up to 16 GB.
    "m1": apple(8 * 128 * 2 * 1.278e9, 4266e6 * 16, 16e9),
    # 7-core bin: 896 shaders at 1278 MHz, 2.29 TFLOPS (hmc-tech); same memory system.
    "m1-7": apple(2.29e12, 68.26e9, 16e9),
    # 64 cores x 128 x 2 x 1.296 GHz = 21.23 TFLOPS (cpu-monkey: 21.2); Apple: 800GB/s, 128GB.
    "m1-ultra": apple(21.23e12, 800e9, 128e9),
    # 80 cores x 128 x 2 x 1.398 GHz = 28.63 TFLOPS (hmc-tech's 60-core bin: 7680 shaders at
    # 1398 MHz, 21.47 TFLOPS); Apple Mac Studio specs: 819GB/s; up to 512GB.
    "m3-ultra": apple(28.63e12, 819e9, 512e9),
    # hmc-tech: 2560 shaders at 1470 MHz, 7.53 TFLOPS; Apple: 273GB/s, up to 64GB.
    "m4-pro": apple(7.53e12, 273e9, 64e9),
    # hmc-tech: 2048 shaders at 1470 MHz, 6.02 TFLOPS; the binned M4 Pro keeps 273GB/s.
    "m4-pro-16": apple(6.02e12, 273e9, 64e9),
    # NVIDIA A10 datasheet, dense (the sparse column halved): FP32 31.2, TF32 62.5, BF16/FP16
    # 125 TFLOPS, INT8 250 TOPS; 24 GB GDDR6 at 600 GB/s; PCIe Gen4 64 GB/s both ways = 32 each.
    "a10": {
        "peak_flops_per_s": {
            "fp32": 31.2e12, "tf32": 62.5e12, "bf16": 125e12, "fp16": 125e12, "int8": 250e12,
        },
        "bandwidth_bytes_per_s": 600e9,
        "memory_bytes": 24e9,
        "interconnect_bytes_per_s": 32e9,
    },
}  # fmt: skip


@pytest.mark.parametrize("preset_id", sorted(EXPECTED))
def test_file_and_catalog_equal_the_sourced_figures(preset_id: str) -> None:
    want = EXPECTED[preset_id]
    raw = json.loads((DATA / f"{preset_id}.json").read_text(encoding="utf-8"))
    assert set(raw["peak_flops_per_s"]) == set(want["peak_flops_per_s"])
    for dtype, peak in want["peak_flops_per_s"].items():
        assert raw["peak_flops_per_s"][dtype] == pytest.approx(peak, rel=5e-4), dtype
    for field in ("bandwidth_bytes_per_s", "memory_bytes"):
        assert raw[field] == pytest.approx(want[field], rel=5e-4), field
    assert raw["interconnect_bytes_per_s"] == want["interconnect_bytes_per_s"]
    hw = hc.get_hardware(preset_id)
    assert hw.peak_flops_per_s == raw["peak_flops_per_s"]
    assert hw.bandwidth_bytes_per_s == raw["bandwidth_bytes_per_s"]
    assert hw.memory_bytes == raw["memory_bytes"]
    for text in raw["sources"].values():
        assert len(text) > 40


@pytest.mark.parametrize(
    ("spelling", "preset_id"),
    [
        ("Apple M1", "m1"), ("M1 8-core GPU", "m1"), ("m1-7", "m1-7"),
        ("Apple M1 (7-core GPU)", "m1-7"), ("M1 Ultra", "m1-ultra"), ("m3 ultra", "m3-ultra"),
        ("M4 Pro", "m4-pro"), ("m4-pro-20", "m4-pro"), ("M4 Pro 16", "m4-pro-16"),
        ("A10", "a10"), ("NVIDIA A10", "a10"), ("a10-pcie", "a10"), ("A10G", "a10g"),
    ],
)  # fmt: skip
def test_spellings(spelling: str, preset_id: str) -> None:
    assert hc.get_hardware(spelling).id == preset_id


def test_derived_apple_peaks_are_marked_in_their_sources() -> None:
    for preset_id in ("m1", "m1-7", "m1-ultra", "m3-ultra", "m4-pro", "m4-pro-16"):
        record = hc.hardware_record(preset_id)
        assert record["sources"]["peak_flops_per_s"].startswith("derived: "), preset_id
        assert "derived" in record["notes"], preset_id


def test_a10_is_not_an_a10g() -> None:
    a10, a10g = hc.get_hardware("a10"), hc.get_hardware("a10g")
    assert a10.peak_flops_per_s["bf16"] == 125e12 != a10g.peak_flops_per_s["bf16"]  # 70e12
    assert a10.bandwidth_bytes_per_s == a10g.bandwidth_bytes_per_s == 600e9
    assert "fp8" not in a10.peak_flops_per_s  # Ampere


# ---- fp4 (NVFP4 / MXFP4) compute ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("preset_id", "fp4"),
    [
        ("b200", 9e15),  # HGX B200 datasheet: FP4 18 PF with sparsity -> 9 PF dense
        ("gb200", 10e15),  # GB200 NVL72 per GPU: 20 PF with sparsity -> 10 PF dense
        ("rtx-5090", 1676e12),  # RTX Blackwell whitepaper: FP4, FP32 accumulate, 1,676 dense
    ],
)
def test_blackwell_fp4_is_the_dense_block_scaled_rate(preset_id: str, fp4: float) -> None:
    hw = hc.get_hardware(preset_id)
    assert hw.peak_flops_per_s["fp4"] == fp4
    assert "block-scaled" in hc.hardware_record(preset_id)["notes"]
    roofs = Roofs.of(hw, Workload(activation_dtype="nvfp4").activation_dtype)
    assert roofs.dtype == "fp4" and roofs.peak_flops_per_s == fp4


def test_fp4_activations_run_on_the_fp4_roof() -> None:
    m, b200 = get_model("llama-3.1-8b"), hc.get_hardware("b200")
    w4 = Workload(prompt_len=8192, activation_dtype="mxfp4", weight_dtype="fp4")
    assert w4.activation_dtype == "fp4" and w4.activation_bytes_per_element == 0.5
    w8 = Workload(prompt_len=8192, activation_dtype="fp8", weight_dtype="fp4")
    r4, r8 = analyze(m, b200, w4), analyze(m, b200, w8)
    assert (r4.compute_dtype, r4.peak_flops_per_s, r8.peak_flops_per_s) == ("fp4", 9e15, 4.5e15)
    assert r4.prefill.flops == r8.prefill.flops  # the same work ...
    # ... compute-bound prefill on twice the roof: faster, at most 2x
    assert r4.prefill.time_s < r8.prefill.time_s <= 2 * r4.prefill.time_s


def test_fp4_findings_do_not_offer_fp8_as_faster(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["analyze", "--model", "llama-3.1-8b", "--hardware", "b200", "--act-dtype", "fp4"]
    assert main([*argv, "--prompt-len", "8192", "--batch", "8"]) == 0
    out = capsys.readouterr().out
    assert "prefill is compute-bound" in out and "fp8 compute would cut" not in out


def test_fp4_activations_on_a_device_without_fp4_are_refused() -> None:
    with pytest.raises(ValueError, match=r"lists no fp4 peak .* choose another activation dtype"):
        analyze(
            get_model("llama-3.1-8b"), hc.get_hardware("h100"), Workload(activation_dtype="fp4")
        )


def test_cli_fp4_on_h100_is_one_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--hardware", "h100", "--act-dtype", "fp4"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert "lists no fp4 peak" in captured.err
