"""Speculative decoding: the expected-tokens formula against brute force, and the timing."""

from __future__ import annotations

import itertools
import random

import pytest

from conftest import a100, llama3_8b, tiny
from llm_roofline import Model, Workload, analyze
from llm_roofline.engine.ops import Pass
from llm_roofline.engine.phase import build_phase
from llm_roofline.engine.sharding import forward_operators
from llm_roofline.engine.timing import Roofs
from llm_roofline.inputs.layout import Parallelism
from llm_roofline.studies.speculative import (
    expected_tokens_per_step,
    speculative_decode,
    verify_pass,
)


def brute_force(alpha: float, k: int) -> float:
    """Enumerate all 2^k accept/reject patterns: tokens = leading accepts + 1."""
    expected = 0.0
    for pattern in itertools.product((True, False), repeat=k):
        probability = 1.0
        for accepted in pattern:
            probability *= alpha if accepted else 1 - alpha
        leading = next((i for i, accepted in enumerate(pattern) if not accepted), k)
        expected += probability * (leading + 1)
    return expected


@pytest.mark.parametrize("k", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.5, 0.8, 0.95, 1.0])
def test_formula_matches_brute_force(alpha: float, k: int) -> None:
    assert expected_tokens_per_step(alpha, k) == pytest.approx(brute_force(alpha, k), rel=1e-12)


def test_formula_matches_a_simulation() -> None:
    rng = random.Random(7)
    alpha, k, n = 0.7, 4, 20_000
    produced = 0
    for _ in range(n):
        accepted = 0
        while accepted < k and rng.random() < alpha:
            accepted += 1
        produced += accepted + 1
    assert produced / n == pytest.approx(expected_tokens_per_step(alpha, k), rel=0.02)


def test_limits() -> None:
    assert expected_tokens_per_step(1, 4) == 5
    assert expected_tokens_per_step(0, 4) == 1
    assert expected_tokens_per_step(0.5, 1) == 1.5


@pytest.mark.parametrize(
    ("alpha", "k", "field"),
    [(-0.1, 2, "alpha"), (1.5, 2, "alpha"), (0.5, 0, "k"), (float("nan"), 2, "alpha")],
)
def test_bad_inputs_name_the_field(alpha: float, k: int, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        expected_tokens_per_step(alpha, k)


def test_verify_pass_scores_k_plus_one_positions_per_sequence() -> None:
    """Llama-3.1-8B, batch 256, k = 5: the lm_head runs over 256 × 6 = 1,536 rows, so its
    FLOPs are 2 × 1,536 × 4,096 × 128,256 (not 2 × 256 × ...), and it reads its (4,096,
    128,256) bf16 weights once and 1,536 × (4,096 + 128,256) activations."""
    w = Workload(batch_size=256, prompt_len=512)
    (head,) = [
        op for op in forward_operators(llama3_8b(), verify_pass(w, 5)) if op.name == "lm_head"
    ]
    rows = 256 * 6
    assert head.flops == 2 * rows * 4096 * 128_256
    assert head.weight_bytes == 4096 * 128_256 * 2
    assert head.activation_bytes == rows * (4096 + 128_256) * 2
    attention = [
        op for op in forward_operators(llama3_8b(), verify_pass(w, 5)) if op.kind == "attention"
    ]
    assert attention[0].shape[:2] == (6, 512 + 6)  # 6 new queries over 512 cached keys + 6


def test_step_is_k_draft_steps_plus_one_verify_pass() -> None:
    target, draft, hw = llama3_8b(), tiny(), a100()
    w = Workload(batch_size=4, prompt_len=512)
    spec = speculative_decode(target, draft, hw, w, k=3, alpha=0.8)
    roofs = Roofs.of(hw, "bf16")
    drafts = [
        build_phase(forward_operators(draft, Pass.of(w, new=1, past=512 + i)), roofs)
        for i in range(3)
    ]
    assert spec.draft_s == pytest.approx(sum(d.expected_time_s for d in drafts))
    assert spec.plain_tpot_s == analyze(target, hw, w).metrics.tpot_s
    assert spec.time_per_token_s == pytest.approx(
        (spec.draft_s + spec.verify_s) / expected_tokens_per_step(0.8, 3)
    )
    assert spec.speedup == pytest.approx(spec.plain_tpot_s / spec.time_per_token_s)
    assert spec.pays and "pays" in spec.verdict
    assert spec.to_dict()["speedup"] == spec.speedup


def test_a_draft_as_slow_as_the_target_does_not_pay() -> None:
    m: Model = llama3_8b()
    spec = speculative_decode(m, m, a100(), Workload(prompt_len=256), k=4, alpha=0.5)
    assert spec.speedup < 1 and not spec.pays
    assert "does not pay" in spec.verdict


def test_speculation_on_a_parallel_layout() -> None:
    w = Workload(batch_size=2, prompt_len=256)
    spec = speculative_decode(llama3_8b(), llama3_8b(), a100(), w, 2, 0.9, Parallelism(tensor=2))
    assert (
        spec.plain_tpot_s == analyze(llama3_8b(), a100(), w, Parallelism(tensor=2)).metrics.tpot_s
    )
