"""Compiled passes (engine/compiled.py, engine/symbolic.py): the formulas traced once and
run as generated Python must give exactly what the formulas give on numbers.

The equalities here are exact (==), not approximate: the generated code performs the
formulas' own operations in their own order on the same number types.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from llm_roofline import Layout, Workload, analyze
from llm_roofline.catalog.hardware_catalog import get_hardware, load_hardware_file
from llm_roofline.catalog.model_catalog import get_model, list_models
from llm_roofline.engine import compiled, ops
from llm_roofline.engine.analyze import roofs_for
from llm_roofline.engine.codegen import BATCH, NEW, PAST, source
from llm_roofline.engine.compiled import (
    priced_operators,
    priced_phase,
    stage_times,
    stage_totals,
)
from llm_roofline.engine.curves import _where, axis_of
from llm_roofline.engine.memory import live_bytes, weight_bytes
from llm_roofline.engine.ops import Pass, decode_pass, prefill_pass
from llm_roofline.engine.phase import build_phase, phase_times, phase_totals
from llm_roofline.engine.sharding import ONE_DEVICE, stage_operators
from llm_roofline.engine.symbolic import Sym, Untraceable, tracing
from llm_roofline.engine.timing import Roofs
from llm_roofline.inputs import xp

H100 = get_hardware("h100-sxm")
# A measured CPU profile with the transformers engines (framework operators, cache copy).
CPU = load_hardware_file(Path(__file__).parents[1] / "docs/profiles/dev-cpu-transformers.json")


@pytest.fixture
def compile_now(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every pass class compiled on its first use (not after COMPILE_AFTER uses)."""
    monkeypatch.setattr(compiled, "COMPILE_AFTER", 0)
    yield


def _passes(w: Workload) -> list[Pass]:
    """Prefill, a prefill chunk over a cache, and decode past every sliding window."""
    chunk = Pass.of(w, new=64, past=200, batch=1)
    return [prefill_pass(w), chunk, decode_pass(w), decode_pass(w, context=9000)]


def _layouts(m: object, k: int) -> list[Layout]:
    """One device, and one of tensor 2, pipeline 2 or expert 2 (by turns) where it fits."""
    out = [ONE_DEVICE]
    others = (Layout(tensor=2), Layout(pipeline=2), Layout(expert=2))
    for layout in others[k % 3 :] + others[: k % 3]:
        try:
            layout.check(m)  # type: ignore[arg-type]
        except ValueError:
            continue
        return [*out, layout]
    return out


def _interpreted(m, layout, p, stage, roofs):  # type: ignore[no-untyped-def]
    ops_ = stage_operators(m, layout, p, stage)
    return ops_, [roofs.ideal_s(op) for op in ops_], [roofs.expected_s(op) for op in ops_]


PRESETS = [e.repo_id for e in list_models()]
WORKLOADS = (
    Workload(batch_size=3, prompt_len=37),
    Workload(batch_size=5, prompt_len=1000, weight_dtype="int4", kv_dtype="fp8"),
)


@pytest.mark.parametrize("repo_id", PRESETS)
def test_every_preset_compiles_and_equals_the_formulas(repo_id: str, compile_now: None) -> None:
    k = PRESETS.index(repo_id)
    m, w = get_model(repo_id), WORKLOADS[k % 2]
    roofs = roofs_for(H100, w)
    for layout in _layouts(m, k):
        for p in _passes(w) if layout == ONE_DEVICE else _passes(w)[::3]:
            for stage in range(layout.pipeline):
                pr = compiled.program(m, layout, p, stage, roofs)
                assert pr is not None, f"{repo_id} {layout} {p} stage {stage} not compiled"
                want = _interpreted(m, layout, p, stage, roofs)
                got = priced_operators(m, layout, p, stage, roofs)
                assert got[0] == want[0]
                assert list(got[1]) == want[1]
                assert list(got[2]) == want[2]
                assert stage_totals(m, layout, p, stage, roofs) == phase_totals(want[0])
                assert stage_times(m, layout, p, stage, roofs) == phase_times(want[0], roofs)
                phase, memory = priced_phase(m, layout, p, stage, roofs)
                assert phase == build_phase(want[0], roofs)
                assert memory == (weight_bytes(want[0]), live_bytes(want[0]))


FP32 = {"weight_dtype": "fp32", "activation_dtype": "fp32", "kv_dtype": "fp32"}


@pytest.mark.parametrize(
    "fields",
    [
        {"attention": "eager", "batch_size": 2, "prompt_len": 300},
        {"engine": "transformers", "batch_size": 4, "prompt_len": 128, **FP32},
        {"engine": "transformers-static", "prompt_len": 512, **FP32},
        {"mla_decode": "naive", "prompt_len": 700},
        {"logits": "all", "prompt_len": 90, "quantize_head": True, "weight_dtype": "int8"},
    ],
)
def test_flags_compile_and_equal_the_formulas(fields: dict[str, object], compile_now: None) -> None:
    for repo_id in ("meta-llama/Llama-3.1-8B", "deepseek-ai/DeepSeek-V3", "openai-community/gpt2"):
        m = get_model(repo_id)
        w = Workload(**fields)  # type: ignore[arg-type]
        hw = CPU if w.engine.startswith("transformers") else H100
        roofs = roofs_for(hw, w)
        for p in _passes(w):
            assert compiled.program(m, ONE_DEVICE, p, 0, roofs) is not None
            want = _interpreted(m, ONE_DEVICE, p, 0, roofs)
            got = priced_operators(m, ONE_DEVICE, p, 0, roofs)
            assert (got[0], list(got[1]), list(got[2])) == want


@pytest.mark.parametrize(
    "repo_id", ["mistralai/Mixtral-8x7B-v0.1", "mistralai/Mistral-7B-v0.1", "google/gemma-2-9b"]
)
def test_an_analysis_compiled_equals_it_interpreted(repo_id: str, compile_now: None) -> None:
    m = get_model(repo_id)  # MoE; a sliding window; alternating windows
    for w in (
        Workload(batch_size=8, prompt_len=900, output_len=300),
        Workload(context_len=6000),
        Workload(prompt_len=1, output_len=5000),  # a one-token prompt: another pass class
    ):
        compiled_report = analyze(m, H100, w)
        compiled_report = analyze(m, H100, w)  # the second: every pass class compiled
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(compiled, "COMPILE_AFTER", 10**9)
            roofs_for(H100, w).programs.clear()  # the roofs analyze uses: nothing compiled
            interpreted = analyze(m, H100, w)
            assert compiled.program(m, ONE_DEVICE, decode_pass(w), 0, roofs_for(H100, w)) is None
        assert compiled_report == interpreted  # exactly: the request sum's too


@pytest.mark.parametrize("repo_id", PRESETS)
def test_every_presets_analysis_is_the_same_compiled_or_not(repo_id: str) -> None:
    # A short request (every context evaluated) on a device of its own, on numbers first,
    # then once its passes are compiled: the same report, to the last digit.
    m, w = get_model(repo_id), Workload(batch_size=3, prompt_len=37, output_len=40)
    hw = dataclasses.replace(H100, name=f"exactness check {repo_id}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(compiled, "COMPILE_AFTER", 10**9)
        interpreted = analyze(m, hw, w)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(compiled, "COMPILE_AFTER", 0)
        roofs_for(hw, w).programs.clear()
        compiled_report = analyze(m, hw, w)
        assert compiled.program(m, ONE_DEVICE, decode_pass(w), 0, roofs_for(hw, w)) is not None
    assert compiled_report == interpreted


def test_a_pass_outside_the_compiled_classes_is_evaluated_on_numbers(compile_now: None) -> None:
    m, w = get_model("meta-llama/Llama-3.1-8B"), Workload()
    roofs = roofs_for(H100, w)
    odd = decode_pass(w)._replace(batch=2.5)  # not an integer count
    assert compiled.program(m, ONE_DEVICE, odd, 0, roofs) is None
    assert priced_operators(m, ONE_DEVICE, odd, 0, roofs)[0] == stage_operators(m, ONE_DEVICE, odd)


def test_a_formula_that_branches_on_a_number_falls_back(
    compile_now: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def branching_residual(name, m, p):  # type: ignore[no-untyped-def]
        if p.tokens > 1000:  # decided only at run time: cannot be traced
            return original(name, m, p)
        return original(name, m, p)

    original = ops.residual
    monkeypatch.setattr(ops, "residual", branching_residual)
    m, w = get_model("meta-llama/Llama-3.1-8B"), Workload(batch_size=7)
    roofs = Roofs.of(dataclasses.replace(H100, bandwidth_bytes_per_s=3.0e12), "bf16")
    assert compiled.program(m, ONE_DEVICE, decode_pass(w), 0, roofs) is None
    got = priced_operators(m, ONE_DEVICE, decode_pass(w), 0, roofs)
    assert got[0] == stage_operators(m, ONE_DEVICE, decode_pass(w))


def test_a_pass_class_compiles_on_its_nth_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiled, "COMPILE_AFTER", 2)
    m, w = get_model("Qwen/Qwen3-8B"), Workload()
    roofs = Roofs.of(dataclasses.replace(H100, name="tiering check"), "bf16")
    got = [compiled.program(m, ONE_DEVICE, decode_pass(w), 0, roofs) for _ in range(4)]
    assert got[0] is None and got[1] is None
    assert got[2] is not None and got[3] is got[2]


def test_equal_devices_share_roofs_and_their_programs() -> None:
    a, b = get_hardware("h100-sxm"), get_hardware("h100-sxm")
    assert a is not b  # the catalog hands out copies
    assert Roofs.of(a, "bf16") is Roofs.of(b, "bf16")
    slower = dataclasses.replace(a, bandwidth_bytes_per_s=1.0e12)
    assert Roofs.of(slower, "bf16") is not Roofs.of(a, "bf16")
    assert Roofs.of(slower, "bf16").bandwidth_bytes_per_s == 1.0e12


# ---- the tracer, on expressions small enough to check by hand ----------------------------


def _compile(value: object) -> object:
    return source(value, "test")


def test_generated_code_computes_the_expression() -> None:
    with tracing():
        b = Sym.symbol("b", 1, BATCH)
        value = xp.minimum(2 * b + 1, 10) / 4  # min(2b + 1, 10) / 4
        fn = _compile(value)
    assert fn(1, 0, 0) == 0.75  # type: ignore[operator]  # min(3, 10) / 4
    assert fn(7, 0, 0) == 2.5  # type: ignore[operator]  # min(15, 10) / 4


def test_bounds_decide_branches_and_the_rest_cannot_be_traced() -> None:
    with tracing():
        n = Sym.symbol("n", 2, NEW)  # at least 2 new tokens
        c = Sym.symbol("c", 1, PAST)
        assert bool(n <= 1) is False
        assert xp.where(n <= 1, "decode", "prefill") == "prefill"
        assert bool(n * c >= 2) is True  # n >= 2, c >= 1
        with pytest.raises(Untraceable):
            bool(c > 5)  # c may be either side of 5
        with pytest.raises(Untraceable):
            float(c)
        undecided = xp.where(c > 5, 1.0, 2.0)
        fn = _compile(undecided)
    assert fn(1, 2, 9) == 1.0 and fn(1, 2, 3) == 2.0  # type: ignore[operator]


def test_repeated_operations_are_one_node_and_identities_are_not_operations() -> None:
    with tracing():
        b = Sym.symbol("b", 1, BATCH)
        assert (b * 3) is (b * 3)
        assert b * 1 is b and 1 * b is b and b + 0 is b
        half = b / 2
        assert half + 0.0 is half and half * 1.0 is half  # a float stays itself
        widened = b + 0.0  # an int b becomes a float: an operation, kept
        assert widened is not b
        fn = _compile(widened)
    assert type(fn(3, 0, 0)) is float  # type: ignore[operator]


def test_the_pass_symbols_are_tracked() -> None:
    with tracing():
        b, c = Sym.symbol("b", 1, BATCH), Sym.symbol("c", 1, PAST)
        assert (b * 4096).deps == BATCH
        assert (b * c + 1).deps == BATCH | PAST


def test_the_knot_lookup_clamps_at_both_ends_for_numbers_and_when_compiled() -> None:
    logs = axis_of((0.0, math.log(2.0), math.log(4.0)))  # knots 1, 2, 4
    assert _where(logs, 0.5) == (0, 0.0) and _where(logs, 1.0) == (0, 0.0)
    assert _where(logs, 0.0) == (0, 0.0)  # no logarithm: below every knot
    assert _where(logs, 4.0) == (1, 1.0) and _where(logs, 8.0) == (1, 1.0)
    i, t = _where(logs, math.sqrt(2.0))  # halfway from 1 to 2 in log space
    assert i == 0 and t == pytest.approx(0.5)
    i, t = _where(logs, 2.0 * math.sqrt(2.0))  # halfway from 2 to 4
    assert i == 1 and t == pytest.approx(0.5)
    assert _where(logs, 2.0) == (1, 0.0)  # on an inner knot: the cell it starts
    with tracing():
        fn = _compile(_where(logs, Sym.symbol("b", 1, BATCH)))
    for b in (1, 2, 3, 4, 100):
        assert fn(b, 0, 0) == _where(logs, b)  # type: ignore[operator]


def test_threads_compiling_at_once_get_what_one_thread_gets(compile_now: None) -> None:
    names = ["Qwen/Qwen2.5-7B", "google/gemma-2-9b", "microsoft/phi-2", "tiiuae/falcon-7b"]
    w = Workload(batch_size=6, prompt_len=333, output_len=90)
    hw = dataclasses.replace(H100, name="threads check")  # roofs of its own: nothing compiled
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads switch often: traces would interleave
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            together = list(pool.map(lambda n: analyze(get_model(n), hw, w), names * 2))
    finally:
        sys.setswitchinterval(interval)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(compiled, "COMPILE_AFTER", 10**9)
        roofs_for(hw, w).programs.clear()  # the roofs analyze uses: nothing compiled
        alone = [analyze(get_model(n), hw, w) for n in names * 2]
    assert together == alone
