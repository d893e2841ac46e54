"""Efficiency-table lookup and the calibrated prediction, on a synthetic profile.

Every number is checkable by hand: peak 100 GFLOP/s (fp32), bandwidth 10 GB/s, curves
with two points, interpolation linear in log(x).
"""

from __future__ import annotations

import copy
import math

import pytest

from llm_roofline import Hardware, Model, Workload, analyze
from llm_roofline.engine.calibration import (
    Curve,
    MatmulCurves,
    attention_efficiency,
    calibration_from_table,
    elementwise_family,
)
from llm_roofline.engine.ops import OpCost, Pass
from llm_roofline.engine.request import STEP_BY_STEP_LIMIT, decode_steps_s, sum_sampled
from llm_roofline.engine.sharding import forward_operators
from llm_roofline.engine.timing import Roofs
from llm_roofline.inputs.layout import Layout

PEAK, BW = 100e9, 10e9


def table() -> dict:
    """fp32 only. matmul: 1 MB and 100 MB shapes; attention and element-wise curves."""
    return {
        "format": "llm-roofline/efficiency-table/v1",
        "overhead_mode": "sum",
        "dtypes": {
            "fp32": {
                "overhead_s": {
                    "matmul": 10e-6,
                    "attention": 20e-6,
                    "elementwise": 5e-6,
                    "gather": 1e-6,
                },
                "matmul": [
                    {
                        "d_in": 500,
                        "d_out": 500,
                        "weight_bytes": 1e6,
                        "tokens": [1, 4],
                        "efficiency": [0.5, 0.25],
                    },
                    {
                        "d_in": 5000,
                        "d_out": 5000,
                        "weight_bytes": 1e8,
                        "tokens": [1, 4],
                        "efficiency": [0.9, 0.5],
                    },
                ],
                "attention": {
                    "decode": {"keys": [100, 10000], "efficiency": [0.2, 0.8]},
                    "prefill": {"keys": [100, 10000], "efficiency": [0.1, 0.6]},
                },
                "elementwise": {
                    "residual": {"bytes": [1e3, 1e6], "efficiency": [2.0, 1.0]},
                    "norm": {"bytes": [1e3, 1e6], "efficiency": [0.5, 0.5]},
                },
            }
        },
    }


def device(with_table: bool = True) -> Hardware:
    return Hardware(
        name="synthetic",
        peak_flops_per_s={"fp32": PEAK},
        bandwidth_bytes_per_s=BW,
        memory_bytes=1e12,
        efficiency_table=table() if with_table else None,
    )


def tiny_model() -> Model:
    return Model("tiny", 1000, 256, 2, 4, 2, 64, 512, max_position_embeddings=100000)


FP32 = Workload(weight_dtype="fp32", activation_dtype="fp32", kv_dtype="fp32")


# ---- interpolation ---------------------------------------------------------------------


def test_curve_is_linear_in_log_x_and_flat_outside() -> None:
    c = Curve((1.0, 4.0), (0.2, 0.6))
    assert c.at(2.0) == pytest.approx(0.4)  # log 2 is half way from log 1 to log 4
    assert c.at(0.5) == 0.2 and c.at(100.0) == 0.6
    assert Curve((10.0,), (0.3,)).at(7.0) == 0.3


def test_matmul_interpolates_tokens_then_weight_size() -> None:
    mm = calibration_from_table(table(), "fp32").matmul  # type: ignore[union-attr]
    assert mm.at(1, 1e6) == pytest.approx(0.5)
    assert mm.at(2, 1e6) == pytest.approx(0.375)  # half way from 0.5 to 0.25
    assert mm.at(1, 1e7) == pytest.approx(0.7)  # log 1e7 half way between 1e6 and 1e8
    assert mm.at(2, 1e7) == pytest.approx((0.375 + 0.7) / 2)  # both steps
    assert mm.at(1, 1e3) == pytest.approx(0.5) and mm.at(1, 1e10) == pytest.approx(0.9)


def test_shapes_of_equal_weight_size_are_averaged() -> None:
    a, b = Curve((1.0,), (0.2,)), Curve((1.0,), (0.6,))
    assert MatmulCurves((1e6,), ((a, b),)).at(1, 5e5) == pytest.approx(0.4)


def test_attention_blends_decode_and_prefill_by_log_queries() -> None:
    cal = calibration_from_table(table(), "fp32")
    assert cal is not None
    assert attention_efficiency(cal, 1, 1000) == pytest.approx(0.5)  # decode curve at 1000
    assert attention_efficiency(cal, 1000, 1000) == pytest.approx(0.35)  # prefill curve
    assert attention_efficiency(cal, 100, 10000) == pytest.approx((0.8 + 0.6) / 2)


def test_elementwise_families_follow_operator_names() -> None:
    assert elementwise_family("input_layernorm") == "norm"
    assert elementwise_family("final_norm") == "norm"
    assert elementwise_family("qk_norm") == "norm"
    assert elementwise_family("rotary_emb") == "rotary"
    assert elementwise_family("act_fn") == "act_fn"
    assert elementwise_family("mlp_residual") == "residual"
    assert elementwise_family("attn_softmax") == "default"


# ---- the calibrated time of one operator -------------------------------------------------


def test_calibrated_matmul_time_by_hand() -> None:
    roofs = Roofs.of(device(), "fp32")
    # (1, 500) @ (500, 500) fp32: 1e6 weight bytes + 4 kB activations; memory-bound.
    op = OpCost(
        "q_proj",
        "matmul",
        flops=5e5,
        weight_bytes=1e6,
        activation_bytes=4000.0,
        shape=(1, 500, 500),
    )
    ideal = 1.004e6 / BW
    assert roofs.ideal_s(op) == pytest.approx(ideal)
    assert roofs.expected_s(op) == pytest.approx(10e-6 + ideal / 0.5)


def test_calibrated_elementwise_and_attention_by_hand() -> None:
    roofs = Roofs.of(device(), "fp32")
    add = OpCost("attn_residual", "elementwise", flops=1.0, activation_bytes=1e3)
    assert roofs.expected_s(add) == pytest.approx(5e-6 + (1e3 / BW) / 2.0)  # beats DRAM
    softmax = OpCost("attn_softmax", "elementwise", flops=1.0, activation_bytes=1e6)
    assert roofs.expected_s(softmax) == pytest.approx(5e-6 + 1e6 / BW / 1.0)  # residual stands in
    attn = OpCost(
        "attention", "attention", flops=1e6, activation_bytes=1e3, kv_bytes=1e5, shape=(1, 1000, 4)
    )
    assert roofs.expected_s(attn) == pytest.approx(20e-6 + 1.01e5 / BW / 0.5)


def test_max_mode_overlaps_overhead_and_work() -> None:
    t = table()
    t["overhead_mode"] = "max"
    hw = Hardware("gpu-ish", {"fp32": PEAK}, BW, 1e12, efficiency_table=t)
    op = OpCost("q_proj", "matmul", flops=5e5, weight_bytes=1e6, shape=(1, 500, 500))
    assert Roofs.of(hw, "fp32").expected_s(op) == pytest.approx(max(10e-6, 1e6 / BW / 0.5))


def test_no_table_keeps_the_flat_path_and_ideal_is_unchanged() -> None:
    op = OpCost("up_proj", "matmul", flops=2e9, weight_bytes=1e8, shape=(10, 5000, 5000))
    flat, calibrated = Roofs.of(device(False), "fp32"), Roofs.of(device(), "fp32")
    assert flat.calibration is None
    assert flat.expected_s(op) == pytest.approx(max(2e9 / (PEAK * 0.7), 1e8 / (BW * 0.7)))
    assert calibrated.ideal_s(op) == flat.ideal_s(op)


def test_uncovered_dtype_and_interconnect_fall_back_to_flat() -> None:
    hw = Hardware("two", {"fp32": PEAK, "bf16": 4 * PEAK}, BW, 1e12, efficiency_table=table())
    assert Roofs.of(hw, "bf16").calibration is None
    comm = OpCost("all_reduce", "communication", flops=0.0, comm_bytes=1e6)
    roofs = Roofs(
        "fp32", PEAK, BW, 1e9, 0.7, 0.5, calibration=calibration_from_table(table(), "fp32")
    )
    assert roofs.expected_s(comm) == pytest.approx(1e6 / (1e9 * 0.5))


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("format",), "v0", "format"),
        (("overhead_mode",), "both", "overhead_mode"),
        (("dtypes", "fp32", "matmul", 0, "tokens"), [4, 1], "ascending"),
        (("dtypes", "fp32", "matmul", 0, "efficiency"), [0.5], "values"),
        (("dtypes", "fp32", "matmul", 0, "efficiency"), [0.5, -1], "positive"),
        (("dtypes", "fp32", "overhead_s", "matmul"), -1, "overhead_s.matmul"),
        (("dtypes", "fp32", "elementwise"), {}, "residual"),
    ],
)
def test_malformed_tables_name_the_field(path: tuple, value: object, message: str) -> None:
    t = copy.deepcopy(table())
    node = t
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ValueError, match=message):
        calibration_from_table(t, "fp32")


# ---- through the analysis ----------------------------------------------------------------


def test_phase_expected_time_is_the_sum_of_calibrated_operators() -> None:
    m, hw = tiny_model(), device()
    report = analyze(m, hw, FP32)
    roofs = Roofs.of(hw, "fp32")
    decode_ops = forward_operators(m, Pass.of(FP32, new=1, past=FP32.decode_context_len))
    total = sum(roofs.expected_s(op) * op.instances for op in decode_ops)
    assert report.phases["decode"].expected_time_s == pytest.approx(total)
    assert report.phases["decode"].time_s == analyze(m, device(False), FP32).phases["decode"].time_s
    assert report.hardware["calibrated"] is True


def _step_sum(m: Model, w: Workload, roofs: Roofs, first: int, last: int) -> float:
    return sum(
        roofs.expected_s(op) * op.instances
        for c in range(first, last + 1)
        for op in forward_operators(m, Pass.of(w, new=1, past=c))
    )


@pytest.mark.parametrize("steps", [1, STEP_BY_STEP_LIMIT, 400])
def test_calibrated_request_sum_matches_step_by_step(steps: int) -> None:
    m, roofs = tiny_model(), Roofs.of(device(), "fp32")
    first = 50
    expected, ideal = decode_steps_s(m, FP32, roofs, Layout(), first, first + steps - 1)
    exact = _step_sum(m, FP32, roofs, first, first + steps - 1)
    assert expected == pytest.approx(exact, rel=1e-3 if steps > STEP_BY_STEP_LIMIT else 1e-12)
    flat = Roofs.of(device(False), "fp32")
    assert ideal == pytest.approx(
        decode_steps_s(m, FP32, flat, Layout(), first, first + steps - 1)[1]
    )


def test_sum_sampled_is_exact_for_piecewise_linear_functions() -> None:
    xs = [0, 10, 25]
    f = [3.0, 13.0, 43.0]  # slope 1 then 2
    exact = sum(3.0 + x for x in range(10)) + sum(13.0 + 2 * (x - 10) for x in range(10, 26))
    assert sum_sampled(xs, f) == pytest.approx(exact)
    assert sum_sampled([7], [2.5]) == 2.5
    assert math.isclose(sum_sampled([0, 1], [1.0, 1.0]), 2.0)


def test_a_measured_shape_uses_its_own_curve() -> None:
    t = table()
    t["dtypes"]["fp32"]["matmul"].append(
        {"d_in": 100, "d_out": 2500, "weight_bytes": 1e6, "tokens": [1], "efficiency": [0.1]}
    )
    cal = calibration_from_table(t, "fp32")
    assert cal is not None
    assert cal.matmul.at(1, 1e6, (100, 2500)) == pytest.approx(0.1)  # its own curve
    assert cal.matmul.at(1, 1e6, (500, 500)) == pytest.approx(0.5)
    assert cal.matmul.at(1, 1e6, (250, 1000)) == pytest.approx(0.3)  # not measured: size average


def test_every_preset_analyzes_on_the_dev_profile() -> None:
    """The shipped measured profile calibrates every preset model without error."""
    from pathlib import Path

    from llm_roofline.catalog.hardware_catalog import load_hardware_file
    from llm_roofline.catalog.model_catalog import get_model, list_models

    profile = Path(__file__).parent.parent / "docs" / "profiles" / "dev-cpu.json"
    hw = load_hardware_file(profile)
    assert hw.efficiency_table is not None
    for entry in list_models():
        m = get_model(entry.repo_id)
        for dtype in ("fp32", "bf16"):
            w = Workload(
                prompt_len=256,
                output_len=80,
                weight_dtype=dtype,
                activation_dtype=dtype,
                kv_dtype=dtype,
            )
            report = analyze(m, hw, w)
            for phase in report.phases.values():
                assert phase.time_s > 0 and math.isfinite(phase.expected_time_s)
                assert phase.expected_time_s > 0
            assert report.metrics.request.total_s > 0
