"""Efficiency tables: curves, the v1 tables of measured CPU profiles read as v2, and the
calibrated prediction, on a synthetic profile.

Every number is checkable by hand: peak 100 GFLOP/s (fp32), bandwidth 10 GB/s, curves
with two points, interpolation linear in log(x).
"""

from __future__ import annotations

import copy
import json
import math

import pytest

from llm_roofline import Hardware, Model, Workload, analyze
from llm_roofline.engine.calibration_table import parse_table
from llm_roofline.engine.calibration_v1 import read_table, upgrade_v1
from llm_roofline.engine.curves import Curve, make_curve
from llm_roofline.engine.ops import OpCost, Pass
from llm_roofline.engine.request import (
    STEP_BY_STEP_LIMIT,
    decode_steps_s,
    interpolant_weights,
    sum_sampled,
)
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
    c = make_curve(("bytes",), ((1.0, 4.0),), (0.2, 0.6))
    assert c.at(2.0) == pytest.approx(0.4)  # log 2 is half way from log 1 to log 4
    assert c.at(0.5) == 0.2 and c.at(100.0) == 0.6
    assert make_curve(("bytes",), ((10.0,),), (0.3,)).at(7.0) == 0.3
    assert Curve.constant(0.7).at(123.0) == 0.7


def test_grid_is_bilinear_in_log_axes() -> None:
    # values[i][j] at x = (1, 100)[i], y = (10, 1000)[j]
    g = make_curve(
        ("tokens", "weight_bytes"), ((1.0, 100.0), (10.0, 1000.0)), ((0.1, 0.3), (0.5, 0.9))
    )
    assert g.at(1.0, 10.0) == pytest.approx(0.1) and g.at(100.0, 1000.0) == pytest.approx(0.9)
    assert g.at(10.0, 10.0) == pytest.approx(0.3)  # half way along x at the first y
    assert g.at(10.0, 100.0) == pytest.approx((0.2 + 0.7) / 2)  # the centre: mean of the corners
    assert g.at(1e6, 1e-3) == pytest.approx(0.5)  # held beyond both ends


def test_arrays_give_the_numbers_element_wise() -> None:
    np = pytest.importorskip("numpy")
    c = make_curve(("bytes",), ((1.0, 4.0, 64.0),), (0.2, 0.6, 0.1))
    g = make_curve(
        ("tokens", "weight_bytes"), ((1.0, 100.0), (10.0, 1000.0)), ((0.1, 0.3), (0.5, 0.9))
    )
    xs = [0.5, 1.0, 2.0, 3.0, 8.0, 64.0, 500.0]
    assert np.allclose(c.at(np.array(xs)), [c.at(x) for x in xs])
    ys = [3.0, 10.0, 55.0, 1000.0, 5000.0, 20.0, 400.0]
    assert np.allclose(
        g.at(np.array(xs), np.array(ys)), [g.at(x, y) for x, y in zip(xs, ys, strict=True)]
    )
    # One axis a number (a matmul's weights): the same values along the other axis.
    assert np.allclose(g.at(np.array(xs), 100.0), [g.at(x, 100.0) for x in xs])
    assert np.allclose(g.at(10.0, np.array(ys)), [g.at(10.0, y) for y in ys])
    assert g.at(np.array([10.0]), 100.0)[0] == pytest.approx((0.2 + 0.7) / 2)  # the centre


# ---- version 1 tables ----------------------------------------------------------------------


def test_v1_matmul_becomes_a_grid_over_tokens_and_weight_size() -> None:
    mm = read_table(table()).dtypes["fp32"].matmul
    assert mm.compute == mm.memory  # a v1 efficiency divided the whole ideal time
    assert mm.compute.at(1, 1e6) == pytest.approx(0.5)
    assert mm.compute.at(2, 1e6) == pytest.approx(0.375)  # half way from 0.5 to 0.25
    assert mm.compute.at(1, 1e7) == pytest.approx(0.7)  # log 1e7 half way between 1e6 and 1e8
    assert mm.compute.at(2, 1e7) == pytest.approx((0.375 + 0.7) / 2)  # both steps
    assert mm.fixed_s == 10e-6


def test_v1_shapes_of_equal_weight_size_are_averaged() -> None:
    t = table()
    t["dtypes"]["fp32"]["matmul"].append(
        {"d_in": 100, "d_out": 2500, "weight_bytes": 1e6, "tokens": [1], "efficiency": [0.1]}
    )
    mm = read_table(t).dtypes["fp32"].matmul
    assert mm.compute.at(1, 1e6) == pytest.approx((0.5 + 0.1) / 2)
    assert mm.compute.at(4, 1e6) == pytest.approx((0.25 + 0.1) / 2)  # held beyond its one token


def test_v1_upgrade_is_what_the_engine_reads() -> None:
    v2 = upgrade_v1(table())
    assert v2["format"] == "llm-roofline/efficiency-table/v2" and v2["status"] == "measured"
    assert parse_table(v2) == read_table(table())
    entry = v2["dtypes"]["fp32"]
    assert entry["elementwise"]["default"] == entry["elementwise"]["residual"]
    assert entry["gather"]["fixed_s"] == 1e-6


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
    assert roofs.calibration_status == "measured"


def test_calibrated_elementwise_and_attention_by_hand() -> None:
    roofs = Roofs.of(device(), "fp32")
    add = OpCost("attn_residual", "elementwise", flops=1.0, activation_bytes=1e3, family="residual")
    # 2.0 in the table (cache-resident) is held at 1: the roofline stays the floor
    assert roofs.expected_s(add) == pytest.approx(5e-6 + 1e3 / BW)
    norm = OpCost("input_layernorm", "elementwise", flops=1.0, activation_bytes=1e6, family="norm")
    assert roofs.expected_s(norm) == pytest.approx(5e-6 + 1e6 / BW / 0.5)
    softmax = OpCost(
        "attn_softmax", "elementwise", flops=1.0, activation_bytes=1e6, family="softmax"
    )
    assert roofs.expected_s(softmax) == pytest.approx(5e-6 + 1e6 / BW / 1.0)  # default: residual
    attn = OpCost(
        "attention", "attention", flops=1e6, activation_bytes=1e3, kv_bytes=1e5, shape=(1, 1000, 4)
    )
    assert roofs.expected_s(attn) == pytest.approx(20e-6 + 1.01e5 / BW / 0.5)  # decode at 1000
    prefill = attn._replace(shape=(1000, 1000, 4), flops=1e9)
    assert roofs.expected_s(prefill) == pytest.approx(20e-6 + 1e9 / PEAK / 0.35)  # prefill curve


def test_max_mode_overlaps_overhead_and_work() -> None:
    t = table()
    t["overhead_mode"] = "max"
    hw = Hardware("gpu-ish", {"fp32": PEAK}, BW, 1e12, efficiency_table=t)
    op = OpCost("q_proj", "matmul", flops=5e5, weight_bytes=1e6, shape=(1, 500, 500))
    assert Roofs.of(hw, "fp32").expected_s(op) == pytest.approx(max(10e-6, 1e6 / BW / 0.5))


def test_no_table_keeps_the_flat_path_and_ideal_is_unchanged() -> None:
    op = OpCost("up_proj", "matmul", flops=2e9, weight_bytes=1e8, shape=(10, 5000, 5000))
    flat, calibrated = Roofs.of(device(False), "fp32"), Roofs.of(device(), "fp32")
    assert flat.calibration is None and flat.calibration_status == "uncalibrated"
    assert flat.expected_s(op) == pytest.approx(max(2e9 / (PEAK * 0.7), 1e8 / (BW * 0.7)))
    assert calibrated.ideal_s(op) == flat.ideal_s(op)
    assert "uncalibrated: flat 0.70" in flat.calibration_note


def test_uncovered_dtype_and_interconnect_fall_back_to_flat() -> None:
    hw = Hardware(
        "two",
        {"fp32": PEAK, "bf16": 4 * PEAK},
        BW,
        1e12,
        1e9,
        bandwidth_efficiency=0.5,
        efficiency_table=table(),
    )
    bf16 = Roofs.of(hw, "bf16")
    assert bf16.calibration is None and "no entry for this dtype" in bf16.calibration_note
    comm = OpCost("all_reduce", "communication", flops=0.0, comm_bytes=1e6)
    # a table without collectives: the link at the flat bandwidth fraction, no latency
    assert Roofs.of(hw, "fp32").expected_s(comm) == pytest.approx(1e6 / (1e9 * 0.5))


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("format",), "v0", "efficiency_table.format"),
        (("overhead_mode",), "both", "efficiency_table.overhead_mode"),
        (("dtypes", "fp32", "matmul", 0, "tokens"), [4, 1], "matmul"),
        (("dtypes", "fp32", "matmul", 0, "efficiency"), "x", "dtypes.fp32"),
        (("dtypes", "fp32", "elementwise"), {}, "dtypes.fp32"),
    ],
)
def test_malformed_v1_tables_name_the_field(path: tuple, value: object, message: str) -> None:
    t = copy.deepcopy(table())
    node = t
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ValueError, match=message):
        read_table(t)


# ---- through the analysis ----------------------------------------------------------------


def test_phase_expected_time_is_the_sum_of_calibrated_operators() -> None:
    m, hw = tiny_model(), device()
    report = analyze(m, hw, FP32)
    roofs = Roofs.of(hw, "fp32")
    decode_ops = forward_operators(m, Pass.of(FP32, new=1, past=FP32.decode_context_len))
    total = sum(roofs.expected_s(op) * op.instances for op in decode_ops)
    assert report.phases["decode"].expected_time_s == pytest.approx(total)
    assert report.phases["decode"].time_s == analyze(m, device(False), FP32).phases["decode"].time_s


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


def test_every_preset_analyzes_on_the_dev_profile() -> None:
    """The shipped measured profile (v2, converted from v1) calibrates every preset model."""
    from pathlib import Path

    from llm_roofline.catalog.hardware_catalog import load_hardware_file
    from llm_roofline.catalog.model_catalog import get_model, list_models

    profile = Path(__file__).parent.parent / "docs" / "profiles" / "dev-cpu.json"
    hw = load_hardware_file(profile)
    assert hw.efficiency_table is not None
    assert hw.efficiency_table["format"] == "llm-roofline/efficiency-table/v2"
    # converted, not refitted: the raw v1 table reads exactly as the converted one
    raw = json.loads(profile.read_text())["machine"]["efficiency_table_v1"]
    assert parse_table(hw.efficiency_table) == read_table(raw)
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
                assert phase.expected_time_s >= phase.time_s
            assert report.metrics.request.total_s > 0


def test_interpolant_weights_by_hand() -> None:
    # Points 0, 2, 5: [0, 2) gives 0 weight 3/2 and 2 weight 1/2; [2, 5) gives 2 weight 2
    # and 5 weight 1; the last point 1 more. Six integers in all.
    assert interpolant_weights([0, 2, 5]) == (1.5, 2.5, 2.0)
    assert sum_sampled([0, 2, 5], [0.0, 2.0, 5.0]) == 15.0  # Σ x for x = 0..5
    assert interpolant_weights([4, 5, 6]) == (1.0, 1.0, 1.0)  # every point: weight 1
