"""The seed exercise: exact parity with the published answers, properties, bad inputs."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_roofline import (
    classify_llm_phases,
    classify_prefill_vs_decode,
    critical_seq_len,
    decode_intensity_limit,
    prefill_intensity_limit,
)
from llm_roofline.engine.seed import seed_phase_intensity


def reference(d: int, L: int, s: int, P: float, W: float, b: float = 2) -> dict[str, Any]:
    """An independent transcription of the exercise's reference solution."""
    R = P / W
    pf = 2 * s * 12 * d * d * L
    pb = (12 * d * d * b + 2 * s * d * b) * L
    df = 2 * 1 * 12 * d * d * L
    db = (12 * d * d * b + 2 * 1 * d * b) * L
    ai_p, ai_d = pf / pb, df / db
    label = lambda ai: "compute-bound" if ai >= R else "memory-bound"  # noqa: E731
    return {
        "prefill": {"arithmetic_intensity": round(ai_p, 4), "classification": label(ai_p)},
        "decode": {"arithmetic_intensity": round(ai_d, 4), "classification": label(ai_d)},
        "ridge_point": round(R, 4),
    }


@pytest.mark.parametrize(
    ("args", "prefill", "decode", "ridge"),
    [
        (
            (4096, 32, 512, 312e12, 2.039e12),
            (501.551, "compute-bound"),
            (1.0, "memory-bound"),
            153.0162,
        ),
        (
            (8192, 80, 2048, 989.4e12, 3.35e12),
            (1966.08, "compute-bound"),
            (1.0, "memory-bound"),
            295.3433,
        ),
        (
            (768, 12, 128, 65e12, 320e9, 4),
            (62.2703, "memory-bound"),
            (0.4999, "memory-bound"),
            203.125,
        ),
        ((1, 1, 6, 3, 1), (3.0, "compute-bound"), (0.8571, "memory-bound"), 3.0),
    ],
)
def test_published_answers(
    args: tuple[Any, ...], prefill: tuple[float, str], decode: tuple[float, str], ridge: float
) -> None:
    result = classify_prefill_vs_decode(*args)
    assert result == {
        "prefill": {"arithmetic_intensity": prefill[0], "classification": prefill[1]},
        "decode": {"arithmetic_intensity": decode[0], "classification": decode[1]},
        "ridge_point": ridge,
    }
    assert list(result) == ["prefill", "decode", "ridge_point"]
    assert list(result["prefill"]) == ["arithmetic_intensity", "classification"]


def test_empty_prompt_is_valid_and_memory_bound() -> None:
    result = classify_prefill_vs_decode(4096, 32, 0, 312e12, 2.039e12)
    assert result["prefill"] == {"arithmetic_intensity": 0.0, "classification": "memory-bound"}


def test_tie_is_compute_bound() -> None:
    # d=1, s=6, b=2: prefill FLOPs 144, bytes 24 + 24 = 48, AI exactly 3 = P/W.
    assert classify_prefill_vs_decode(1, 1, 6, 3, 1)["prefill"]["classification"] == "compute-bound"


def test_four_bit_weights_bit_identical() -> None:
    args = (4096, 32, 512, 312e12, 2.039e12, 0.5)
    assert classify_prefill_vs_decode(*args) == reference(*args)
    # 4-bit: prefill AI = 12·512·4096 / (0.5·(6·4096 + 512)) = 25165824 / 12544 = 2006.204...
    assert classify_prefill_vs_decode(*args)["prefill"]["arithmetic_intensity"] == 2006.2041


@settings(max_examples=300, deadline=None)
@given(
    d=st.integers(1, 20000),
    L=st.integers(1, 200),
    s=st.integers(0, 200000),
    P=st.floats(1e9, 1e17),
    W=st.floats(1e8, 1e14),
    b=st.sampled_from([0.5, 1, 2, 4, 1.5]),
)
def test_parity_with_independent_reference(
    d: int, L: int, s: int, P: float, W: float, b: float
) -> None:
    assert classify_prefill_vs_decode(d, L, s, P, W, b) == reference(d, L, s, P, W, b)


@settings(max_examples=200, deadline=None)
@given(d=st.integers(1, 16384), s=st.integers(1, 100000), b=st.sampled_from([0.5, 1, 2, 4]))
def test_prefill_rises_with_length_towards_12d_over_b(d: int, s: int, b: float) -> None:
    ai, ai_next = seed_phase_intensity(d, 1, s, b), seed_phase_intensity(d, 1, s + 1, b)
    assert ai < ai_next < prefill_intensity_limit(d, b)
    assert seed_phase_intensity(d, 1, 1, b) < decode_intensity_limit(b)


@settings(max_examples=100, deadline=None)
@given(d=st.integers(1, 8192), s=st.integers(0, 5000), L=st.integers(1, 120))
def test_layers_cancel(d: int, s: int, L: int) -> None:
    one = classify_prefill_vs_decode(d, 1, s, 312e12, 2.039e12)
    assert classify_prefill_vs_decode(d, L, s, 312e12, 2.039e12) == one


def test_decode_limit_is_two_over_b() -> None:
    assert decode_intensity_limit(2) == 1.0
    assert decode_intensity_limit(0.5) == 4.0
    # decode AI = 24·d² / (12·d²·b + 2·d·b) < 2 / b for any d
    assert seed_phase_intensity(4096, 32, 1, 2) == 24 * 4096**2 / (12 * 4096**2 * 2 + 2 * 4096 * 2)


def test_critical_seq_len_by_hand() -> None:
    # d=4096, b=2, R = 312e12 / 2.039e12 = 153.016...: s* = 12·2·4096·R / (24·4096 − 4R)
    R = 312e12 / 2.039e12
    s_star = 12 * 2 * 4096 * R / (24 * 4096 - 4 * R)
    assert critical_seq_len(4096, 312e12, 2.039e12) == math.ceil(s_star) == 154  # s* = 153.97
    s = 154
    assert (
        classify_prefill_vs_decode(4096, 32, s, 312e12, 2.039e12)["prefill"]["classification"]
        == "compute-bound"
    )
    assert (
        classify_prefill_vs_decode(4096, 32, s - 1, 312e12, 2.039e12)["prefill"]["classification"]
        == "memory-bound"
    )


def test_critical_seq_len_tie_and_never() -> None:
    assert critical_seq_len(1, 3, 1) == 6  # the tie case above: AI(6) == R exactly
    # R = 12·d/b exactly: prefill never reaches it.
    assert critical_seq_len(10, 60, 1) is None
    assert critical_seq_len(10, 1000, 1) is None


@settings(max_examples=200, deadline=None)
@given(
    d=st.integers(1, 16384),
    P=st.floats(1e10, 1e16),
    W=st.floats(1e9, 1e13),
    b=st.sampled_from([0.5, 1, 2, 4]),
)
def test_critical_seq_len_is_first_compute_bound_integer(
    d: int, P: float, W: float, b: float
) -> None:
    s = critical_seq_len(d, P, W, b)
    R = P / W
    if s is None:
        assert 12 * d / b <= R
        return
    assert seed_phase_intensity(d, 1, s, b) >= R
    assert s == 0 or seed_phase_intensity(d, 1, s - 1, b) < R


@pytest.mark.parametrize(
    ("kwargs", "error", "needle"),
    [
        ({"d_model": 0}, ValueError, "d_model"),
        ({"d_model": -4}, ValueError, "d_model"),
        ({"d_model": 4096.5}, ValueError, "d_model"),
        ({"d_model": True}, TypeError, "d_model"),
        ({"d_model": "4096"}, TypeError, "d_model"),
        ({"n_layers": 0}, ValueError, "n_layers"),
        ({"seq_len": -1}, ValueError, "seq_len"),
        ({"peak_flops": 0}, ValueError, "peak_flops"),
        ({"peak_flops": float("inf")}, ValueError, "peak_flops"),
        ({"peak_flops": float("nan")}, ValueError, "peak_flops"),
        ({"peak_bandwidth": -1.0}, ValueError, "peak_bandwidth"),
        ({"peak_bandwidth": None}, TypeError, "peak_bandwidth"),
        ({"dtype_bytes": 0}, ValueError, "dtype_bytes"),
        ({"dtype_bytes": False}, TypeError, "dtype_bytes"),
    ],
)
def test_bad_inputs_name_the_parameter(
    kwargs: dict[str, Any], error: type[Exception], needle: str
) -> None:
    args = {
        "d_model": 4096,
        "n_layers": 32,
        "seq_len": 512,
        "peak_flops": 312e12,
        "peak_bandwidth": 2.039e12,
    }
    with pytest.raises(error, match=needle) as info:
        classify_prefill_vs_decode(**(args | kwargs))
    assert repr(kwargs[needle])[:6] in str(info.value)


def test_llm_phases_by_hand() -> None:
    # 7e9 params, bf16, A100: prefill 2·7e9·512 FLOPs over 14e9 bytes → AI 512, compute-bound.
    result = classify_llm_phases(7e9, 512, 1, 2, 312e12, 2.039e12)
    assert result["ridge_point"] == 153.0162
    assert result["prefill"] == {
        "total_flops": 7.168e12,
        "memory_bytes": 1.4e10,
        "arithmetic_intensity": 512.0,
        "bottleneck": "compute-bound",
        "achieved_flops": 312e12,
        "utilization_percent": 100.0,
    }
    decode = result["decode"]
    assert decode["arithmetic_intensity"] == 1.0
    assert decode["bottleneck"] == "memory-bound"
    assert decode["achieved_flops"] == 2.039e12  # AI · bandwidth
    assert decode["utilization_percent"] == round(2.039e12 / 312e12 * 100, 4) == 0.6535


def test_llm_phases_integer_counts_stay_exact() -> None:
    result = classify_llm_phases(6_738_415_616, 2048, 8, 2, 989.4e12, 3.35e12)
    assert result["prefill"]["total_flops"] == 2 * 6_738_415_616 * 2048
    assert result["decode"]["total_flops"] == 2 * 6_738_415_616 * 8
    assert result["decode"]["arithmetic_intensity"] == 8.0


@pytest.mark.parametrize(
    ("index", "value", "needle"),
    [
        (0, 0, "num_params"),
        (1, -1, "sequence_length"),
        (2, 0, "batch_size"),
        (3, 0, "bytes_per_param"),
        (4, float("nan"), "peak_flops"),
        (5, "fast", "peak_bandwidth"),
        (2, True, "batch_size"),
    ],
)
def test_llm_phases_bad_inputs(index: int, value: Any, needle: str) -> None:
    args: list[Any] = [7e9, 512, 1, 2, 312e12, 2.039e12]
    args[index] = value
    with pytest.raises((ValueError, TypeError), match=needle):
        classify_llm_phases(*args)


def test_package_exports_resolve_lazily() -> None:
    import llm_roofline

    assert sorted(llm_roofline.__all__) == sorted(llm_roofline._EXPORTS)
    for name in llm_roofline.__all__:
        assert getattr(llm_roofline, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = llm_roofline.nope  # type: ignore[attr-defined]
