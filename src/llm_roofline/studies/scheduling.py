"""Chunked prefill and mixed batches: steps that attend to a cache while adding to it.

Chunked prefill (chunk size c): a prompt of P tokens runs as ⌈P/c⌉ passes, chunk j being a
pass with ``past = j·c`` cached tokens and ``new = min(c, P − j·c)``; each chunk attends to
the cache the earlier chunks wrote (ops.attended_pairs: past + causal, window-capped) and
re-reads the weights, which is what chunking costs. Only the last chunk computes logits.
MLA models run chunks in the naive form (kv_b_proj up-projects the cached latent), as vLLM
and SGLang do. Under parallelism each chunk is a fill-drain pipeline pass (chunks are not
overlapped across stages: conservative). Prompts of more than STEP_BY_STEP_LIMIT chunks
are priced from SAMPLED_CHUNKS evenly spaced full chunks (the piecewise-linear sum over
every chunk index: exact where a chunk's time is linear in its position, as it is without
windows) plus the last chunk, so the work does not grow with the prompt.

A mixed step (Sarathi-Serve, vLLM's chunked prefill scheduling) holds d decode tokens (one
per sequence, at the workload's decode context) and one prefill chunk of one sequence: the
projections and MLP run once over d + c tokens, reading each weight once; attention runs
per part. Operators are merged by name (the k-th occurrence of a name in one part with the
k-th in the other): FLOPs, activation, KV and interconnect bytes add; weight bytes are the
larger of the two reads (for MoE experts a lower bound: the union of touched experts may
exceed either part's). Single device.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..engine.analyze import check_layout, roofs_for
from ..engine.ops import OpCost, Pass, prefill_pass
from ..engine.phase import build_phase
from ..engine.pipeline import time_pass
from ..engine.report import Phase
from ..engine.request import STEP_BY_STEP_LIMIT, sum_sampled
from ..engine.sharding import ONE_DEVICE, forward_operators
from ..inputs import bounds, checks, xp
from ..inputs.hardware import Hardware
from ..inputs.layout import Layout
from ..inputs.model import Model
from ..inputs.workload import Workload
from ..inputs.xp import Number


@dataclass(frozen=True)
class ChunkRow:
    index: int
    past: int  # tokens already cached, per sequence
    new: int  # tokens in this chunk, per sequence
    flops: float  # the bottleneck device's (single device: the whole pass)
    bytes: float
    bound: str
    time_s: float  # ideal latency of the chunk
    expected_time_s: float


CHUNK = bounds.Bound(1, bounds.TOKENS.high)
SAMPLED_CHUNKS = 17  # full chunks priced in a long chunked prefill (first and last included)


@dataclass(frozen=True)
class ChunkedPrefill:
    chunk_size: int
    prompt_len: int
    batch_size: int
    chunk_count: int  # ⌈prompt_len / chunk_size⌉
    chunks: tuple[ChunkRow, ...]  # every chunk, or the sampled ones of a long prompt
    time_s: float  # Σ chunk ideal latencies
    expected_time_s: float  # Σ chunk expected latencies: the chunked TTFT
    unchunked_time_s: float
    unchunked_expected_time_s: float

    @property
    def overhead_fraction(self) -> float:
        """Extra expected time over one unchunked prefill pass (weights re-read per chunk)."""
        return self.expected_time_s / self.unchunked_expected_time_s - 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"overhead_fraction": self.overhead_fraction}


def chunk_pass(
    w: Workload,
    chunk_size: int,
    index: Number,
    *,
    prompt: Number | None = None,
    batch: Number | None = None,
) -> Pass:
    """Chunk ``index``: past index·c, new min(c, P − index·c), MLA in naive form (index,
    prompt P (default: the workload's) and batch may be arrays)."""
    past = index * chunk_size
    prompt_len = w.prompt_len if prompt is None else prompt
    p = Pass.of(w, new=xp.minimum(chunk_size, prompt_len - past), past=past, batch=batch)
    return p._replace(mla_decode="naive")


def priced_chunks(count: int) -> list[int]:
    """The chunks a prefill of ``count`` chunks is priced from: every one, or SAMPLED_CHUNKS
    evenly spaced full chunks plus the last (the only one with logits)."""
    last = count - 1
    if count <= STEP_BY_STEP_LIMIT:
        return list(range(count))
    span = last - 1  # full chunks 0 .. last-1 are sampled
    sampled = sorted({round(i * span / (SAMPLED_CHUNKS - 1)) for i in range(SAMPLED_CHUNKS)})
    return [*sampled, last]


def chunked_sum(indices: Sequence[int], body: Sequence[Number], tail: Number) -> Number:
    """Σ over every chunk: the last chunk's time plus the piecewise-linear sum of the full
    chunks priced at ``indices`` (numbers or arrays)."""
    return tail + (sum_sampled(indices, body) if body else 0.0)


def chunk_passes(w: Workload, chunk_size: int) -> list[Pass]:
    """Every pass of a chunked prefill (for short prompts and tests)."""
    bounds.count("chunk_size", chunk_size, CHUNK)
    return [chunk_pass(w, chunk_size, j) for j in range(-(-w.prompt_len // chunk_size))]


def chunked_prefill(
    model: Model,
    hardware: Hardware,
    workload: Workload,
    chunk_size: int,
    layout: Layout | None = None,
) -> ChunkedPrefill:
    """Prefill of the workload's batch in chunks of ``chunk_size`` tokens per sequence."""
    bounds.count("chunk_size", chunk_size, CHUNK)
    par = ONE_DEVICE if layout is None else layout
    check_layout(model, hardware, par)
    roofs = roofs_for(hardware, workload)
    count = -(-workload.prompt_len // chunk_size)
    last = count - 1  # the last chunk (the only one with logits) is always priced
    rows = []
    for j in priced_chunks(count):
        p = chunk_pass(workload, chunk_size, j)
        timing = time_pass(model, par, p, roofs, logits=j == last)
        ph = timing.phase
        rows.append(
            ChunkRow(
                j, p.past, p.new, ph.flops, ph.bytes, ph.bound,
                timing.ideal_fill_drain_s, timing.fill_drain_s,
            )
        )  # fmt: skip
    body, tail = rows[:-1], rows[-1]
    xs = [r.index for r in body]
    time_s = chunked_sum(xs, [r.time_s for r in body], tail.time_s)
    expected = chunked_sum(xs, [r.expected_time_s for r in body], tail.expected_time_s)
    whole = time_pass(model, par, prefill_pass(workload), roofs)
    return ChunkedPrefill(
        chunk_size=chunk_size,
        prompt_len=workload.prompt_len,
        batch_size=workload.batch_size,
        chunk_count=count,
        chunks=tuple(rows),
        time_s=time_s,
        expected_time_s=expected,
        unchunked_time_s=whole.ideal_fill_drain_s,
        unchunked_expected_time_s=whole.fill_drain_s,
    )


# ---- mixed batches ------------------------------------------------------------------------


def merge_step(a: Sequence[OpCost], b: Sequence[OpCost]) -> list[OpCost]:
    """The operators of one step running the tokens of two passes of the same model.

    Same-name operators (k-th occurrence with k-th occurrence) merge: FLOPs, activation, KV
    and communication bytes add, weights are read once (the larger read), matmul shapes
    add their token counts. Operators of one part only are kept as they are.
    """
    index: dict[tuple[str, int], int] = {}
    merged = list(a)
    seen: dict[str, int] = {}
    for i, op in enumerate(a):
        k = seen.get(op.name, 0)
        index[(op.name, k)] = i
        seen[op.name] = k + 1
    seen = {}
    for op in b:
        k = seen.get(op.name, 0)
        seen[op.name] = k + 1
        at = index.get((op.name, k))
        if at is None:
            merged.append(op)
            continue
        x = merged[at]
        if x.instances != op.instances:
            raise ValueError(f"cannot merge {op.name!r}: {x.instances} vs {op.instances} instances")
        shape = x.shape
        if x.shape and op.shape and x.shape[1:] == op.shape[1:]:
            shape = (x.shape[0] + op.shape[0], *x.shape[1:])
        merged[at] = x._replace(
            flops=x.flops + op.flops,
            weight_bytes=max(x.weight_bytes, op.weight_bytes),
            activation_bytes=x.activation_bytes + op.activation_bytes,
            kv_bytes=x.kv_bytes + op.kv_bytes,
            comm_bytes=x.comm_bytes + op.comm_bytes,
            shape=shape,
        )
    return merged


@dataclass(frozen=True)
class MixedStep:
    decode_tokens: int  # sequences decoding one token each, at context_len
    context_len: int
    chunk_tokens: int  # the prefill chunk, of one sequence
    chunk_past: int  # tokens of that sequence already cached
    phase: Phase  # the merged step's operators
    decode_only_expected_s: float  # the decode part as its own step
    chunk_only_expected_s: float  # the chunk as its own step

    @property
    def expected_time_s(self) -> float:
        return self.phase.expected_time_s

    @property
    def saved_fraction(self) -> float:
        """Time saved against running the two parts as separate steps (shared weight reads)."""
        return 1 - self.expected_time_s / (self.decode_only_expected_s + self.chunk_only_expected_s)


def mixed_step(
    model: Model,
    hardware: Hardware,
    workload: Workload,
    decode_tokens: int,
    chunk_tokens: int,
    chunk_past: int = 0,
) -> MixedStep:
    """One step: ``decode_tokens`` decode sequences at the workload's context, plus a chunk
    of ``chunk_tokens`` prompt tokens of one sequence with ``chunk_past`` already cached."""
    checks.integer("decode_tokens", decode_tokens, minimum=0)
    checks.integer("chunk_tokens", chunk_tokens, minimum=0)
    checks.integer("chunk_past", chunk_past, minimum=0)
    if decode_tokens + chunk_tokens == 0:
        raise ValueError("decode_tokens and chunk_tokens are both 0: the step is empty")
    roofs = roofs_for(hardware, workload)
    context = workload.decode_context_len
    parts = []
    if decode_tokens:
        parts.append(
            forward_operators(model, Pass.of(workload, new=1, past=context, batch=decode_tokens))
        )
    if chunk_tokens:
        chunk = Pass.of(workload, new=chunk_tokens, past=chunk_past, batch=1)
        parts.append(forward_operators(model, chunk._replace(mla_decode="naive")))
    alone = [build_phase(part, roofs).expected_time_s for part in parts]
    step = parts[0] if len(parts) == 1 else merge_step(parts[0], parts[1])
    return MixedStep(
        decode_tokens=decode_tokens,
        context_len=context,
        chunk_tokens=chunk_tokens,
        chunk_past=chunk_past,
        phase=build_phase(step, roofs),
        decode_only_expected_s=alone[0] if decode_tokens else 0.0,
        chunk_only_expected_s=alone[-1] if chunk_tokens else 0.0,
    )
