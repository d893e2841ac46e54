"""The expected-time model on shipped data: kernels, collectives, engines, statuses, ranges.

Hand-checkable: each expected time is rebuilt here from the numbers in the shipped files
(read as data, not through the code under test) and the preset's datasheet roofs.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from llm_roofline import Hardware, Workload, analyze
from llm_roofline.catalog.hardware_catalog import get_hardware, list_hardware
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.engine import ops
from llm_roofline.engine.attention import attention_ops
from llm_roofline.engine.calibration_table import parse_table
from llm_roofline.engine.ops import OpCost, Pass
from llm_roofline.engine.timing import Roofs
from llm_roofline.inputs.workload import ENGINES

DATA = Path(__file__).parents[1] / "src" / "llm_roofline" / "catalog" / "data" / "efficiency"
HOPPER = json.loads((DATA / "hopper.json").read_text())
ENGINE_FILE = json.loads((DATA / "engines.json").read_text())
H100_BF16, H100_BW, NVLINK = 989.4e12, 3.35e12, 450e9  # the h100-sxm preset's datasheet roofs


def _pass(tokens: int, dtype: str = "bf16", weights: str | None = None) -> Pass:
    w = Workload(weight_dtype=weights or dtype, activation_dtype=dtype, kv_dtype=dtype)
    return Pass.of(w, new=tokens, past=0, batch=1)


def all_reduce(devices: int, message: int) -> OpCost:
    sent = 2 * (devices - 1) / devices * message
    return OpCost(
        "ar",
        "communication",
        flops=0.0,
        comm_bytes=sent,
        shape=(devices, message),
        family="all_reduce",
    )


# ---- kernels ------------------------------------------------------------------------------


def test_gemm_on_h100_is_fixed_plus_roofline_over_efficiency() -> None:
    # (2048, 4096) @ (4096, 4096) bf16: 2·2048·4096² FLOPs; 32 MiB of weights (a knot),
    # 2048·4096·2 bytes of input and as many of output. Both are knots of the table.
    op = ops.linear("q_proj", _pass(2048), 2048, 4096, 4096)
    mm = HOPPER["dtypes"]["bf16"]["matmul"]
    comp, mem = mm["compute"], mm["memory"]
    i, j = comp["tokens"].index(2048.0), comp["weight_bytes"].index(2.0**25)
    eta_c, eta_m = comp["efficiency"][i][j], mem["efficiency"][mem["weight_bytes"].index(2.0**25)]
    flops, moved = 2 * 2048 * 4096 * 4096, 2**25 + 2 * 2048 * 4096 * 2
    hand = mm["fixed_s"] + max(flops / (H100_BF16 * eta_c), moved / (H100_BW * eta_m))
    roofs = Roofs.of(get_hardware("h100-sxm"), "bf16")
    assert roofs.expected_s(op) == pytest.approx(hand, rel=1e-12)
    assert roofs.ideal_s(op) == pytest.approx(max(flops / H100_BF16, moved / H100_BW), rel=1e-12)
    assert roofs.expected_s(op) > roofs.ideal_s(op)
    assert roofs.calibration_status == "calibrated"


def test_decode_and_prefill_attention_use_their_own_kernels() -> None:
    roofs = Roofs.of(get_hardware("h100-sxm"), "bf16")
    m = get_model("llama-3.1-8b")
    decode = attention_ops(m, Pass.of(Workload(), new=1, past=4095, batch=8), None)[0]
    prefill = attention_ops(m, Pass.of(Workload(), new=4096, past=0, batch=1), None)[0]
    att = HOPPER["dtypes"]["bf16"]["attention"]
    assert roofs.expected_s(decode) >= att["decode"]["fixed_s"] + roofs.ideal_s(decode)
    assert roofs.expected_s(prefill) >= att["prefill"]["fixed_s"] + roofs.ideal_s(prefill)


def test_the_cache_element_size_picks_the_decode_kernel() -> None:
    """No work, so each expected time is its kernel's fixed cost from the table: an 8-bit
    cache (one byte per element, shape[5]) decodes on decode_kv8; prefill is one kernel."""
    roofs = Roofs.of(get_hardware("h100-sxm"), "bf16")
    att = HOPPER["dtypes"]["bf16"]["attention"]

    def idle(queries: int, kv_bytes: float) -> OpCost:
        shape = (queries, 4096, 32, 8, 128, kv_bytes)
        return OpCost("attention", ops.ATTENTION, flops=0.0, shape=shape, family="attention")

    assert roofs.expected_s(idle(1, 1.0)) == att["decode_kv8"]["fixed_s"]
    assert roofs.expected_s(idle(1, 2.0)) == att["decode"]["fixed_s"]
    assert roofs.expected_s(idle(4096, 1.0)) == att["prefill"]["fixed_s"]
    np = pytest.importorskip("numpy")
    both = idle(1, 1.0)._replace(
        shape=(np.array([1, 1, 64]), 4096, 32, 8, 128, np.array([1.0, 2.0, 1.0]))
    )
    expected = [att["decode_kv8"]["fixed_s"], att["decode"]["fixed_s"], att["prefill"]["fixed_s"]]
    assert roofs.expected_s(both).tolist() == expected


def test_arrays_price_as_numbers_element_wise() -> None:
    np = pytest.importorskip("numpy")
    roofs = Roofs.of(get_hardware("h100-sxm"), "bf16", "llama.cpp")
    tokens = [1, 3, 64, 700, 4096]
    scalar = [roofs.expected_s(ops.linear("x", _pass(t), t, 4096, 14336)) for t in tokens]
    op = ops.linear("x", _pass(1), 1, 4096, 14336)
    t = np.array(tokens)
    arr = op._replace(
        flops=2.0 * t * 4096 * 14336,
        activation_bytes=t * (4096 + 14336) * 2.0,
        shape=(t, 4096, 14336),
    )
    assert np.allclose(roofs.expected_s(arr), scalar, rtol=1e-12)
    devices, message = np.array([2, 4, 8]), np.array([1024, 2**20, 2**30])
    ar = all_reduce(2, 1)._replace(
        comm_bytes=2 * (devices - 1) / devices * message, shape=(devices, message)
    )
    single = [
        roofs.expected_s(all_reduce(int(n), int(mb)))
        for n, mb in zip(devices, message, strict=True)
    ]
    assert np.allclose(roofs.expected_s(ar), single, rtol=1e-12)
    assert np.allclose(
        roofs.ideal_s(ar),
        [
            roofs.ideal_s(all_reduce(int(n), int(mb)))
            for n, mb in zip(devices, message, strict=True)
        ],
    )


# ---- collectives ----------------------------------------------------------------------------


def test_a_small_all_reduce_is_latency_bound() -> None:
    for preset in ("h100-sxm", "a100-sxm-80gb"):
        roofs = Roofs.of(get_hardware(preset), "bf16")  # generic engine: custom all-reduce
        op = all_reduce(2, 1024)
        alpha = HOPPER["collectives"]["custom-16bit"]["alpha_s"]["efficiency"][0]  # 2 devices
        assert roofs.expected_s(op) > alpha
        assert roofs.expected_s(op) < 1.1 * alpha  # the bytes add under 10%
        assert roofs.expected_s(op) > 100 * roofs.ideal_s(op)


def test_on_a_reducing_switch_the_ideal_is_message_over_link() -> None:
    message = 2**30
    h100 = Roofs.of(get_hardware("h100-sxm"), "bf16")
    assert h100.in_network_reduction
    assert h100.ideal_s(all_reduce(8, message)) == pytest.approx(message / NVLINK)
    a100 = Roofs.of(get_hardware("a100-sxm-80gb"), "bf16")  # NVSwitch 2: no reduction in it
    assert a100.ideal_s(all_reduce(8, message)) == pytest.approx(2 * 7 / 8 * message / 300e9)
    gather = all_reduce(8, message)._replace(family="all_gather", comm_bytes=7 / 8 * message)
    assert h100.ideal_s(gather) == pytest.approx(7 / 8 * message / NVLINK)  # receive-bound


def test_the_nccl_engine_pays_nccl_latency() -> None:
    hw = get_hardware("h100-sxm")
    nccl, custom = Roofs.of(hw, "bf16", "gpt-fast"), Roofs.of(hw, "bf16", "generic")
    op = all_reduce(8, 4096)
    alphas = HOPPER["collectives"]
    assert nccl.expected_s(op) > alphas["nccl-16bit"]["alpha_s"]["efficiency"][2]
    assert custom.expected_s(op) < alphas["nccl-16bit"]["alpha_s"]["efficiency"][2]


# ---- engines ------------------------------------------------------------------------------


def _resolved(name: str) -> dict[str, Any]:
    entry = ENGINE_FILE["engines"][name]
    parent = entry.get("inherits")
    return (_resolved(parent) if parent else {}) | {
        k: v for k, v in entry.items() if k != "inherits"
    }


def test_engine_fixed_costs_are_exposed_from_the_profiles() -> None:
    hw = get_hardware("h100-sxm")
    for name in ENGINES:
        roofs = Roofs.of(hw, "bf16", name)
        profile = _resolved(name)
        assert roofs.step_overhead_s == profile.get("step_overhead_s", 0.0)
        assert roofs.request_overhead_s == profile.get("request_overhead_s", 0.0)
        assert roofs.engine.name == name
    assert Roofs.of(hw, "bf16").engine.name == ENGINE_FILE["default_engine"] == "generic"


def test_engine_selection_changes_only_what_it_should() -> None:
    hw, m = get_hardware("h100-sxm"), get_model("llama-3.1-8b")
    w = Workload(batch_size=4, prompt_len=1024, output_len=0)
    generic = analyze(m, hw, w)
    trt = analyze(
        m,
        dataclasses.replace(
            hw, efficiency_table=hw.efficiency_table | {"default_engine": "tensorrt-llm"}
        ),
        w,
    )
    assert trt.phases["decode"].expected_time_s == generic.phases["decode"].expected_time_s
    base, llama = Roofs.of(hw, "bf16", "generic"), Roofs.of(hw, "bf16", "llama.cpp")
    big = ops.linear("up", _pass(4096), 4096, 4096, 14336)  # compute-bound: the ceiling binds
    cap = _resolved("llama.cpp")["compute_cap_flops_per_s"]
    assert llama.ideal_s(big) == base.ideal_s(big)  # the roofline never depends on the engine
    fixed = HOPPER["dtypes"]["bf16"]["matmul"]["fixed_s"]
    assert llama.expected_s(big) == pytest.approx(fixed + big.flops / cap, rel=1e-12)
    norm = ops.norm("input_layernorm", m, _pass(16))
    assert llama.expected_s(norm) <= base.expected_s(norm)  # memory_scale > 1 is held at η = 1
    gpt = Roofs.of(hw, "bf16", "gpt-fast")
    bf16 = ops.linear("q", _pass(1), 1, 4096, 4096)
    int8 = ops.linear("q", _pass(1, "bf16", "int8"), 1, 4096, 4096)
    assert gpt.expected_s(bf16) == base.expected_s(bf16)  # its quantized scale only
    assert gpt.expected_s(int8) > base.expected_s(int8)


def test_llama_cpp_quantized_matmuls_run_on_the_int8_roof() -> None:
    hw = get_hardware("rtx-4090")  # fp16 165 TFLOP/s (fp32 accumulate), int8 661 TOPS
    op = ops.linear("up", _pass(512, "fp16", "int4"), 512, 4096, 11008)
    llama, generic = Roofs.of(hw, "fp16", "llama.cpp"), Roofs.of(hw, "fp16")
    assert llama.ideal_s(op) == pytest.approx(max(op.flops / 661e12, op.bytes / 1008e9), rel=0.01)
    assert generic.ideal_s(op) == pytest.approx(max(op.flops / 165e12, op.bytes / 1008e9), rel=0.01)


# ---- statuses and ranges ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "status"),
    [("h100-sxm", "calibrated"), ("a100-sxm-80gb", "transferred"), ("m2-ultra", "uncalibrated")],
)
def test_every_preset_says_how_its_expected_time_was_made(preset: str, status: str) -> None:
    dtype = "fp16" if preset == "m2-ultra" else "bf16"
    roofs = Roofs.of(get_hardware(preset), dtype)
    assert roofs.calibration_status == status
    if status == "uncalibrated":
        assert "expected time uncalibrated: flat 0.70" in roofs.calibration_note
    else:
        assert "Hopper kernel model" in roofs.calibration_note


def test_a_hand_built_device_without_generation_is_flat_and_flagged() -> None:
    hw = Hardware("mine", {"bf16": 1e14}, 1e12, 1e10, compute_efficiency=0.5)
    roofs = Roofs.of(hw, "bf16")
    assert roofs.calibration_status == "uncalibrated" and roofs.range_factors("decode") is None
    assert "flat 0.50 compute / 0.70 bandwidth" in roofs.calibration_note
    op = ops.linear("q", _pass(4096), 4096, 4096, 4096)
    assert roofs.expected_s(op) == pytest.approx(roofs.ideal_s(op) / 0.5)


def test_the_range_brackets_the_point_estimate() -> None:
    roofs = Roofs.of(get_hardware("h100-sxm"), "bf16")
    for phase in ("prefill", "decode"):
        low, high = roofs.range_factors(phase)  # type: ignore[misc]
        assert (low, high) == (
            ENGINE_FILE["ranges"][phase]["low"],
            ENGINE_FILE["ranges"][phase]["high"],
        )
        assert 0 < low <= 1 <= high
    with pytest.raises(ValueError, match="phase"):
        roofs.range_factors("train")


def test_every_preset_and_engine_keeps_the_roofline_as_floor() -> None:
    m = get_model("qwen2.5-0.5b")
    for hw in list_hardware():
        dtype = "bf16" if "bf16" in hw.peak_flops_per_s else "fp16"
        for engine in ENGINES:
            w = Workload(
                batch_size=2,
                prompt_len=128,
                output_len=0,
                weight_dtype=dtype,
                activation_dtype=dtype,
                kv_dtype=dtype,
                engine=engine,
            )
            roofs = Roofs.of(hw, dtype, engine)
            for p in (Pass.of(w, new=128, past=0), Pass.of(w, new=1, past=128)):
                from llm_roofline.engine.sharding import forward_operators

                for op in forward_operators(m, p):
                    assert roofs.expected_s(op) >= roofs.ideal_s(op) > 0, (hw.id, engine, op.name)


# ---- bad input ----------------------------------------------------------------------------------


def _broken(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    t = copy.deepcopy(HOPPER)
    node = t
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return t


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("format",), "llm-roofline/efficiency-table/v9", "efficiency_table.format"),
        (("status",), "guessed", "efficiency_table.status"),
        (
            ("dtypes", "bf16", "matmul", "compute", "tokens", 1),
            0.5,
            "dtypes.bf16.matmul.compute.tokens",
        ),
        (
            ("dtypes", "bf16", "matmul", "memory", "efficiency", 0),
            0.0,
            "dtypes.bf16.matmul.memory.efficiency[0]",
        ),
        (
            ("dtypes", "bf16", "matmul", "memory", "over"),
            ["colour"],
            "dtypes.bf16.matmul.memory.over",
        ),
        (("dtypes", "bf16", "matmul", "fixed_s"), -1e-6, "dtypes.bf16.matmul.fixed_s"),
        (("dtypes", "bf16", "attention", "prefill"), None, "dtypes.bf16.attention.prefill"),
        (("dtypes", "bf16", "elementwise", "glue"), {}, "dtypes.bf16.elementwise"),
        (("aliases", "fp16"), "fp12", "aliases.fp16"),
        (("collectives", "nccl-16bit", "ring", "bytes"), [], "collectives.nccl-16bit.ring.bytes"),
    ],
)
def test_bad_tables_name_the_field(path: tuple[Any, ...], value: Any, field: str) -> None:
    with pytest.raises(ValueError, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_table(_broken(path, value))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"engines": {"generic": {"memory_scale": 0}}, "default_engine": "generic"},
            "engines.generic.memory_scale",
        ),
        (
            {"engines": {"generic": {"collective": "mpi"}}, "default_engine": "generic"},
            "engines.generic.collective",
        ),
        ({"engines": {"generic": {"speed": 2}}, "default_engine": "generic"}, "engines.generic"),
        ({"engines": {"generic": {}}, "default_engine": "vllm"}, "default_engine"),
        ({"ranges": {"decode": {"low": 1.2, "high": 1.5}}}, "ranges.decode"),
    ],
)
def test_bad_engine_profiles_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        parse_table(HOPPER | change)


def test_a_bad_table_on_a_device_names_the_device_and_field() -> None:
    hw = dataclasses.replace(
        get_hardware("h100-sxm"), efficiency_table=_broken(("overhead_mode",), "x")
    )
    with pytest.raises(
        ValueError, match=r"H100.*generation hopper.*efficiency_table.overhead_mode"
    ):
        Roofs.of(hw, "bf16")


def test_unknown_engines_and_generations_are_refused() -> None:
    with pytest.raises(ValueError, match="engine must be one of"):
        Workload(engine="deepspeed")
    assert Workload(engine="TRT-LLM").engine == "tensorrt-llm"
    assert Workload(engine="llamacpp").engine == "llama.cpp"
    with pytest.raises(ValueError, match="generation"):
        Hardware("x", {"bf16": 1e14}, 1e12, 1e10, generation="hopper2")
    with pytest.raises(ValueError, match="engine: unknown 'deepspeed'"):
        Roofs.of(get_hardware("h100-sxm"), "bf16", "deepspeed")


def test_every_preset_names_a_generation_with_a_shipped_table() -> None:
    from llm_roofline.catalog.efficiency import generation_table
    from llm_roofline.catalog.hardware_catalog import hardware_record, preset_ids
    from llm_roofline.inputs.hardware import GENERATIONS

    for preset in preset_ids():
        record = hardware_record(preset)
        assert record["generation"] in GENERATIONS, preset
        assert isinstance(record["in_network_reduction"], bool), preset
        assert (
            len(record["sources"]["generation"]) > 20
            and len(record["sources"]["in_network_reduction"]) > 20
        )
    for generation in GENERATIONS:
        table = generation_table(generation)
        assert table is not None, generation
        parsed = parse_table(table)  # every shipped file parses, engines and ranges merged in
        assert parsed.status in ("calibrated", "transferred", "uncalibrated")
        assert sorted(parsed.engines) == sorted(ENGINES)
    reducing = {p for p in preset_ids() if hardware_record(p)["in_network_reduction"]}
    assert reducing == {"h100-sxm", "h200", "b200", "gb200"}
