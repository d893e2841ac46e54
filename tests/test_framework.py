"""The transformers engines: DynamicCache's copy, framework host time, element-wise
families of other architectures, and their fallbacks on tables without them.

Every expected number is worked out here by hand from the tiny shapes and the table's
constants, not read from the code under test.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from llm_roofline import Hardware, Model, Workload, analyze
from llm_roofline.catalog.hardware_catalog import get_hardware
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.engine import framework, ops
from llm_roofline.engine.calibration_table import parse_table
from llm_roofline.engine.ops import OpCost, Pass
from llm_roofline.engine.timing import Roofs
from llm_roofline.inputs.workload import normalize_engine

# d = 64, 4 query heads, 2 KV heads of 16, 3 layers: e = 2·n_kv·hd = 64 KV elements/token/layer
TINY = Model("tiny", 128, 64, 3, 4, 2, 16, 96)
PEAK, BW = 1e12, 1e11


def _constant(fixed_s: float, efficiency: float = 0.5) -> dict[str, Any]:
    eta = {"over": [], "efficiency": efficiency}
    return {"fixed_s": fixed_s, "compute": eta, "memory": eta}


def table(layer_s: float = 1e-3, step_s: float = 2e-3, engines: bool = True) -> dict[str, Any]:
    """A measured table of constant curves (η = 0.5, fixed 1 µs) plus framework times."""
    k = _constant(1e-6)
    elementwise = {"default": k}
    if engines:
        elementwise |= {
            "framework_layer": _constant(layer_s, 1.0),
            "framework_step": _constant(step_s, 1.0),
        }
    out: dict[str, Any] = {
        "format": "llm-roofline/efficiency-table/v2",
        "status": "measured",
        "overhead_mode": "sum",
        "dtypes": {
            "bf16": {
                "matmul": k,
                "attention": {"decode": k, "prefill": k},
                "elementwise": elementwise,
            }
        },
    }
    if engines:
        out["engines"] = {"transformers": {}, "transformers-static": {}}
    return out


def hardware(t: dict[str, Any] | None) -> Hardware:
    return Hardware("cpu", {"bf16": PEAK}, BW, 16e9, efficiency_table=t)


def decode(engine: str, t: dict[str, Any] | None = None, batch: int = 2, context: int = 10) -> Any:
    w = Workload(batch_size=batch, prompt_len=context, output_len=1, engine=engine)
    return analyze(TINY, hardware(t if t is not None else table()), w).phases["decode"]


def rows(phase: Any) -> dict[str, Any]:
    return {r.name: r for r in phase.operators}


def test_dynamic_cache_copies_the_whole_cache_of_every_layer() -> None:
    # batch 2, 10 cached + 1 new: per layer read and write 2·(10+1)·64 bf16 elements,
    # 2 · 2·11·64 · 2 bytes = 5,632; 3 layers: 16,896 bytes of KV traffic.
    copy = rows(decode("transformers"))["kv_cache_copy"]
    assert copy.count == 3
    assert copy.kv_bytes == pytest.approx(3 * 2 * 2 * 11 * 64 * 2)
    # memory-bound: 1 µs fixed + bytes / (0.5 · 100 GB/s), per layer
    assert copy.expected_time_s == pytest.approx(3 * (1e-6 + 5632 / (0.5 * BW)))


def test_static_cache_has_no_copy_but_the_same_framework_time() -> None:
    generic, static = decode("generic"), decode("transformers-static")
    assert "kv_cache_copy" not in rows(static)
    assert rows(static)["framework_layer"].count == 3
    # 3 layers · 1 ms + 2 ms per step, no FLOPs, no bytes, no ideal time
    extra = static.expected_time_s - generic.expected_time_s
    assert extra == pytest.approx(3 * 1e-3 + 2e-3)
    assert static.time_s == pytest.approx(generic.time_s)


def test_dynamic_minus_static_is_the_copy() -> None:
    dynamic, static = decode("transformers"), decode("transformers-static")
    copy = 3 * (1e-6 + 2 * 2 * 11 * 64 * 2 / (0.5 * BW))
    assert dynamic.expected_time_s - static.expected_time_s == pytest.approx(copy)
    assert dynamic.time_s - static.time_s == pytest.approx(3 * 5632 / BW)  # ideal: the bytes


def test_prefill_copies_the_new_tokens_once() -> None:
    w = Workload(batch_size=1, prompt_len=8, output_len=1, engine="transformers")
    copy = rows(analyze(TINY, hardware(table()), w).phases["prefill"])["kv_cache_copy"]
    assert copy.kv_bytes == pytest.approx(3 * 2 * 1 * 8 * 64 * 2)  # empty cache + 8 tokens


def test_other_engines_have_no_framework_operators() -> None:
    names = set(rows(decode("generic")))
    assert not names & {"kv_cache_copy", "framework_layer", "framework_step"}


def test_catalog_gpu_numbers_do_not_change_and_refuse_transformers() -> None:
    h100 = get_hardware("h100-sxm")
    w = Workload(prompt_len=512)
    before = analyze(TINY, h100, w).phases["decode"].expected_time_s
    assert analyze(TINY, h100, dataclasses.replace(w, engine="generic")).phases[
        "decode"
    ].expected_time_s == pytest.approx(before)
    with pytest.raises(ValueError, match="no 'transformers' profile"):
        analyze(TINY, h100, dataclasses.replace(w, engine="transformers"))


def test_profile_without_the_engine_refuses_it_and_prices_others_as_measured() -> None:
    old = table(engines=False)
    with pytest.raises(ValueError, match="no 'transformers-static' profile"):
        decode("transformers-static", old)
    # vllm on a measured table: the table as measured, the same as generic
    w = Workload(batch_size=2, prompt_len=10, engine="vllm")
    vllm = analyze(TINY, hardware(table()), w).phases["decode"].expected_time_s
    assert vllm == pytest.approx(decode("generic").expected_time_s)


def test_uncalibrated_hardware_prices_the_copy_flat_and_no_framework_time() -> None:
    plain = analyze(
        TINY, hardware(None), Workload(batch_size=2, prompt_len=10, engine="transformers")
    ).phases["decode"]
    r = rows(plain)
    assert r["framework_layer"].expected_time_s == 0.0
    assert r["kv_cache_copy"].expected_time_s == pytest.approx(3 * 5632 / (0.7 * BW))


def test_engine_spellings() -> None:
    assert normalize_engine("engine", "HF") == "transformers"
    assert normalize_engine("engine", "transformers-static") == "transformers-static"
    with pytest.raises(ValueError, match="transformers-static"):
        normalize_engine("engine", "pytorch")


# ---- element-wise families ------------------------------------------------------------


def _p() -> Pass:
    return Pass.of(Workload(), new=4, past=0, batch=1)


def test_families_of_gpt2_opt_phi_and_llama() -> None:
    gpt2, opt = get_model("gpt2"), get_model("opt-1.3b")
    llama, phi = get_model("smollm2-360m"), get_model("phi-2")
    assert (gpt2.activation, opt.activation, phi.activation) == ("gelu_new", "relu", "gelu_new")
    assert ops.act_fn(gpt2, _p(), 4, gpt2.intermediate_size).family == "act_gelu_new"
    assert ops.act_fn(opt, _p(), 4, opt.intermediate_size).family == "act_relu"
    assert ops.act_fn(llama, _p(), 4, llama.intermediate_size).family == "act_fn"  # SwiGLU
    assert ops.norm("n", gpt2, _p()).family == "layernorm"
    assert ops.norm("n", llama, _p()).family == "norm"


def test_table_without_a_family_prices_it_as_its_parent() -> None:
    t = table()
    entry = t["dtypes"]["bf16"]["elementwise"]
    entry["norm"], entry["act_fn"] = _constant(5e-6, 0.25), _constant(7e-6, 0.125)
    model = parse_table(t).dtypes["bf16"].elementwise
    assert model["layernorm"] is model["norm"]
    assert model["act_relu"] is model["act_fn"] and model["act_gelu_new"] is model["act_fn"]
    assert model["cache_copy"] is model["default"]
    roofs = Roofs.of(hardware(t), "bf16")
    ln = OpCost("ln", ops.ELEMENTWISE, flops=0.0, activation_bytes=1e6, family="layernorm")
    assert roofs.expected_s(ln) == pytest.approx(5e-6 + 1e6 / (0.25 * BW))


def test_table_with_its_own_family_curve_uses_it() -> None:
    t = table()
    t["dtypes"]["bf16"]["elementwise"]["act_relu"] = _constant(3e-6, 0.8)
    roofs = Roofs.of(hardware(t), "bf16")
    relu = OpCost("a", ops.ELEMENTWISE, flops=0.0, activation_bytes=8e5, family="act_relu")
    assert roofs.expected_s(relu) == pytest.approx(3e-6 + 8e5 / (0.8 * BW))


def test_bad_family_and_bad_activation_are_named() -> None:
    t = table()
    t["dtypes"]["bf16"]["elementwise"]["gelu"] = _constant(0.0)
    with pytest.raises(ValueError, match=r"dtypes\.bf16\.elementwise.*unknown family 'gelu'"):
        parse_table(t)
    with pytest.raises(TypeError, match="activation must be a string, got 3"):
        Model("m", 128, 64, 1, 4, 2, 16, 96, activation=3)  # type: ignore[arg-type]


def test_copy_operator_with_a_window_copies_at_most_the_window() -> None:
    p = Pass.of(Workload(batch_size=1), new=1, past=100, batch=1)
    op = framework.cache_copy(TINY, p, window=16)
    assert op.kv_bytes == pytest.approx(2 * 1 * (16 + 1) * 64 * 2)
