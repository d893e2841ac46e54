"""Where features meet: each expected value derived by hand from the config, in the test.

1. Peak activations follow the parallel layout (MoE under EP, TP, PP with micro-batches).
2. A tied lm_head reads the 16-bit embedding table; untied heads stay 16-bit by default.
3. Serving memory sizes one prefill chunk's activations, not a whole batch of prompts.
4. (tests/test_speculative.py) the verify pass scores k + 1 positions per sequence.
"""

from __future__ import annotations

import pytest

from conftest import llama3_8b
from llm_roofline import Layout, Workload, analyze
from llm_roofline.catalog.hardware_catalog import get_hardware
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.engine.memory import max_batch_size, serving_memory_bytes
from llm_roofline.engine.ops import decode_pass
from llm_roofline.engine.sharding import forward_operators

H100 = get_hardware("h100-sxm")

# Mixtral-8x7B: d 4096, expert intermediate 14,336, top-2 of 8, gated (gate and up out).
D, I_E, K = 4096, 14_336, 2
MIXTRAL_W = Workload(batch_size=64, prompt_len=512)
TOKENS = 64 * 512  # 32,768 prompt tokens in the batch


def expert_chain_live(rows: int, intermediate: int) -> int:
    """(rows, d) in and (rows, 2·I) out, bf16: the widest step of a gated expert chain."""
    return rows * (D + 2 * intermediate) * 2


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        # one device: 32,768 tokens × 2 experts = 65,536 rows: 4,294,967,296 B
        (None, expert_chain_live(TOKENS * K, I_E)),
        # EP 8: each device runs 1/8 of the routed rows: 536,870,912 B
        (Layout(expert=8), expert_chain_live(TOKENS * K // 8, I_E)),
        # TP 8: every row, an eighth of the intermediate columns (1,792): 1,006,632,960 B
        (Layout(tensor=8), expert_chain_live(TOKENS * K, I_E // 8)),
        # PP 2 with 4 micro-batches: 16 sequences at a time: 1,073,741,824 B
        (Layout(pipeline=2, micro_batches=4), expert_chain_live(TOKENS * K // 4, I_E)),
    ],
)
def test_moe_peak_activations_are_per_device(layout: Layout | None, expected: int) -> None:
    mixtral = get_model("mixtral-8x7b")
    memory = analyze(mixtral, H100, MIXTRAL_W, layout).metrics.memory
    assert memory.activation_bytes == expected


def test_moe_serving_batch_grows_with_expert_parallelism() -> None:
    """Weights split 8 ways leave room for several times the sequences of TP 1."""
    mixtral = get_model("mixtral-8x7b")
    w = Workload(prompt_len=4096, output_len=256)
    one = max_batch_size(mixtral, w, H100, Layout(tensor=2))
    ep8 = max_batch_size(mixtral, w, H100, Layout(expert=8))
    assert one is not None and ep8 is not None and ep8 > 4 * one


# Llama-3.2-1B: d 2048, 16 layers, 32 heads / 8 KV heads of 64, I 8192, V 128,256, tied.
LLAMA_1B_MATMULS = 16 * (2 * 2048 * 2048 + 2 * 2048 * 512 + 3 * 2048 * 8192)  # 973,078,528
INT4_G128 = 0.5 + 2 / 128  # bytes per weight with one fp16 scale per 128


def test_a_tied_head_reads_the_16_bit_embedding_table_under_int4() -> None:
    m = get_model("llama-3.2-1b")
    assert m.tie_word_embeddings
    w = Workload(weight_dtype="int4")
    decode = analyze(m, H100, w).decode
    head = decode.operator("lm_head")
    assert head.weight_bytes == 2048 * 128_256 * 2  # 525,336,576: the bf16 table
    norms = (16 * 2 + 1) * 2048 * 2  # input, post-attention per layer, and the final norm
    embedding_row = 2048 * 2  # one token's row gathered
    expected = LLAMA_1B_MATMULS * INT4_G128 + 2048 * 128_256 * 2 + norms + embedding_row
    assert expected == 1_027_219_456
    assert sum(row.weight_bytes for row in decode.operators) == expected


def test_an_untied_head_stays_16_bit_unless_asked() -> None:
    m = llama3_8b()  # untied, d 4096, V 128,256
    ops = {op.name: op for op in forward_operators(m, decode_pass(Workload(weight_dtype="int4")))}
    assert ops["lm_head"].weight_bytes == 4096 * 128_256 * 2
    assert ops["q_proj"].weight_bytes == 4096 * 4096 * INT4_G128
    quantized = Workload(weight_dtype="int4", quantize_head=True)
    ops = {op.name: op for op in forward_operators(m, decode_pass(quantized))}
    assert ops["lm_head"].weight_bytes == 4096 * 128_256 * INT4_G128


# Llama-3.1-8B on H100 (80e9 B, 10% kept free: 72e9), 4,096 + 256 tokens, bf16.
WEIGHTS_8B = 8_030_261_248 * 2  # 16,060,522,496 B
KV_PER_SEQUENCE = 32 * 2 * 8 * 128 * 2 * (4096 + 256)  # 131,072 B/token: 570,425,344 B
ACT_FN_512 = 3 * 512 * 14_336 * 2  # one 512-token chunk: gate and up read, one written
ACT_FN_4096 = 3 * 4096 * 14_336 * 2  # one whole 4,096-token prompt


def test_serving_memory_sizes_one_chunk_not_a_batch_of_prompts() -> None:
    m, w = llama3_8b(), Workload(prompt_len=4096, output_len=256)
    batch = 90
    chunked = serving_memory_bytes(m, w, Layout(), batch, chunk_size=512)
    whole = serving_memory_bytes(m, w, Layout(), batch)
    assert chunked == WEIGHTS_8B + KV_PER_SEQUENCE * batch + ACT_FN_512
    assert whole == WEIGHTS_8B + KV_PER_SEQUENCE * batch + ACT_FN_4096
    # (72e9 − 16,060,522,496 − 44,040,192) / 570,425,344 = 97.99
    assert max_batch_size(m, w, H100, Layout(), chunk_size=512) == 97


def test_chunk_size_matters_for_long_prompts() -> None:
    """At 32,768 + 256 tokens one prompt's act_fn is 3 × 32,768 × 14,336 × 2 = 2.82 GB;
    a 512-token chunk's is 44 MB. KV per sequence 131,072 × 33,024 = 4,328,521,728 B:
    whole prompt (72e9 − 16,060,522,496 − 2,818,572,288) / 4,328,521,728 = 12.27;
    chunked (72e9 − 16,060,522,496 − 44,040,192) / 4,328,521,728 = 12.91."""
    m, w = llama3_8b(), Workload(prompt_len=32_768, output_len=256)
    kv = 131_072 * (32_768 + 256)
    assert serving_memory_bytes(m, w, Layout(), 1) == WEIGHTS_8B + kv + 3 * 32_768 * 14_336 * 2
    assert max_batch_size(m, w, H100, Layout()) == 12
    assert max_batch_size(m, w, H100, Layout(), chunk_size=512) == 12


def test_data_replicas_scale_throughput_not_latency() -> None:
    m, w = llama3_8b(), Workload(batch_size=8)
    one = analyze(m, H100, w)
    four = analyze(m, H100, w, Layout(data=4))
    assert four.metrics.tpot_s == one.metrics.tpot_s
    assert four.metrics.ttft_s == one.metrics.ttft_s
    assert four.metrics.tokens_per_s == pytest.approx(4 * one.metrics.tokens_per_s)
    assert four.metrics.memory == one.metrics.memory
    assert four.parallelism is not None and four.parallelism.devices == 4


def _linear_calls(monkeypatch: pytest.MonkeyPatch, layers: int) -> int:
    """How many times the linear formula runs for one analysis of a ``layers``-deep model
    whose even layers have a sliding window (a fresh cache: nothing memoized)."""
    from llm_roofline import Model
    from llm_roofline.engine import ops, sharding

    sharding._stage_operators.cache_clear()
    calls = 0
    real = ops.linear

    def counted(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ops, "linear", counted)
    windows = tuple(range(0, layers, 2))
    m = Model("w", 32_000, 1024, layers, 16, 4, 64, 4096, sliding_window=512,
              sliding_window_layers=windows)  # fmt: skip
    analyze(m, H100, Workload(prompt_len=1024, output_len=300))
    return calls


def test_work_does_not_grow_with_the_layer_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """Layers of equal cost are one group: 10 and 10,000 sliding-window layers cost the
    same number of formula evaluations (the 10,000-layer model has just larger counts)."""
    assert _linear_calls(monkeypatch, 10) == _linear_calls(monkeypatch, 10_000)
