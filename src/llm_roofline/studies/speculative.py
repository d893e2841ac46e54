"""Speculative decoding: a draft model proposes k tokens, the target verifies them at once.

One step = k draft decode steps (contexts C … C+k−1) + one target pass over k + 1 new
tokens per sequence at context C (the k proposals and the position after them), which
computes logits at all k + 1 positions of every sequence (each is scored). Each
proposal is accepted with probability α, independently, until the first rejection; the
target always contributes one token (the correction, or the bonus token after k accepted),
so the expected tokens per step are

    E = Σ_{i=0}^{k} α^i = (1 − α^(k+1)) / (1 − α)      (α = 1: k + 1)

(Leviathan et al. 2023, "Fast Inference from Transformers via Speculative Decoding", eq. 1).
Time per token = step time / E; speedup = plain TPOT / time per token. It does not pay
(speedup < 1) when the draft is too slow or α too low: decode is memory-bound, so the
verify pass costs about one plain step, and the k draft steps must be repaid by E − 1
extra tokens. Ignored: the draft's own KV and weights in memory, its re-processing of
accepted tokens, the rejection-sampling arithmetic, and any tree of candidates.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..engine.analyze import check_layout, roofs_for
from ..engine.ops import Pass, decode_pass
from ..engine.pipeline import time_pass
from ..engine.request import decode_steps_s
from ..engine.sharding import ONE_DEVICE
from ..inputs import bounds, checks
from ..inputs.hardware import Hardware
from ..inputs.layout import Layout
from ..inputs.model import Model
from ..inputs.workload import Workload


def expected_tokens_per_step(alpha: float, k: int) -> float:
    """(1 − α^(k+1)) / (1 − α): tokens one verify step yields (k + 1 when α = 1)."""
    k = bounds.count("k", k, bounds.SPEC_K)
    alpha = check_alpha(alpha)
    if alpha == 1:
        return float(k + 1)
    return (1 - alpha ** (k + 1)) / (1 - alpha)


def check_alpha(alpha: Any) -> float:
    value = checks.non_negative("alpha", alpha)
    if value > 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    return float(value)


@dataclass(frozen=True)
class Speculation:
    k: int
    alpha: float
    tokens_per_step: float  # expected tokens per target verification
    draft_s: float  # the k draft steps, expected
    verify_s: float  # the target pass over k + 1 tokens, expected
    plain_tpot_s: float  # one plain target decode step, expected
    context_len: int
    batch_size: int

    @property
    def step_s(self) -> float:
        return self.draft_s + self.verify_s

    @property
    def time_per_token_s(self) -> float:
        return self.step_s / self.tokens_per_step

    @property
    def speedup(self) -> float:
        return self.plain_tpot_s / self.time_per_token_s

    @property
    def pays(self) -> bool:
        return self.speedup >= 1

    @property
    def verdict(self) -> str:
        if self.pays:
            return f"speculation pays: {self.speedup:.2f}x faster per token"
        return (
            f"speculation does not pay: {self.speedup:.2f}x (k={self.k}, alpha={self.alpha}): "
            f"the draft's {self.draft_s * 1e3:.3g} ms and the verify pass outweigh "
            f"{self.tokens_per_step:.2f} tokens per step"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {
            "step_s": self.step_s,
            "time_per_token_s": self.time_per_token_s,
            "speedup": self.speedup,
            "pays": self.pays,
            "verdict": self.verdict,
        }


def verify_pass(workload: Workload, k: int) -> Pass:
    """The target's verification: k + 1 new tokens per sequence at the decode context, each
    position scored (logits for all B·(k+1) of them)."""
    p = Pass.of(workload, new=k + 1, past=workload.decode_context_len)
    return p._replace(logits_all=True)


def speculative_decode(
    target: Model,
    draft: Model,
    hardware: Hardware,
    workload: Workload,
    k: int,
    alpha: float,
    layout: Layout | None = None,
) -> Speculation:
    """Speculative decoding of the workload's batch at its decode context.

    Both models run on the same devices and layout (decode timing: steady state). The k
    draft steps are summed as a request's decode steps are (engine/request.py: closed form
    or sampled), so the work does not grow with k.
    """
    tokens = expected_tokens_per_step(alpha, k)
    par = ONE_DEVICE if layout is None else layout
    check_layout(target, hardware, par)
    check_layout(draft, hardware, par)
    roofs = roofs_for(hardware, workload)
    context = workload.decode_context_len
    draft_s = decode_steps_s(draft, workload, roofs, par, context, context + k - 1)[0]
    verify = verify_pass(workload, k)
    return Speculation(
        k=k,
        alpha=float(alpha),
        tokens_per_step=tokens,
        draft_s=draft_s,
        verify_s=time_pass(target, par, verify, roofs).steady_s,
        plain_tpot_s=time_pass(target, par, decode_pass(workload), roofs).steady_s,
        context_len=context,
        batch_size=workload.batch_size,
    )
