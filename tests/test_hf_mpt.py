"""MPT configs (model_type "mpt"): ALiBi, no_bias, nested attn_config, presets and bad input.

Counts are derived by hand in the comments; the two presets' counts are also the published
checkpoint sizes (pytorch_model.bin.index.json ``total_size`` / 2 bytes per bf16 parameter).
Whether the engine prices ALiBi models without a rotary operator is the engine's test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llm_roofline.catalog.hf_config import SUPPORTED_MODEL_TYPES, load_hf_config, model_from_hf_dict
from llm_roofline.catalog.model_catalog import find_entry, get_model
from llm_roofline.inputs.model import Model

PRESETS = (
    Path(__file__).resolve().parents[1] / "src" / "llm_roofline" / "catalog" / "data" / "models"
)


def mpt_preset(name: str) -> dict[str, Any]:
    config: dict[str, Any] = json.loads((PRESETS / "mosaicml" / name / "config.json").read_text())
    return config


def tiny(**changes: Any) -> dict[str, Any]:
    """d 64, 4 heads (head_dim 16), 2 layers, vocab 100, MLP 4·64 = 256, no biases, ALiBi."""
    config: dict[str, Any] = {
        "model_type": "mpt",
        "d_model": 64,
        "n_heads": 4,
        "n_layers": 2,
        "vocab_size": 100,
        "expansion_ratio": 4,
        "max_seq_len": 128,
        "no_bias": True,
        "attn_config": {"alibi": True, "attn_type": "multihead_attention"},
    }
    attn = changes.pop("attn_config", None)
    if attn is not None:
        config["attn_config"] = config["attn_config"] | attn
    return config | changes


def load(config: dict[str, Any]) -> Model:
    return model_from_hf_dict(config, "tiny-mpt", "mpt.json")


# ---- the presets -----------------------------------------------------------------------------
# MPT-7B, d 4096, 32 layers, MLP 16384, vocab 50432:
#   per layer Wqkv 4096·12288 = 50,331,648 + out_proj 16,777,216 + up/down 2·4096·16384 =
#   134,217,728 + two scale-only LayerNorms 8,192 = 201,334,784; x32 = 6,442,713,088;
#   + wte 50432·4096 = 206,569,472 + norm_f 4,096 = 6,649,286,656 (tied, no position table).
#   Published: total_size 13,298,573,312 bytes of bf16 in the checkpoint index / 2.
MPT_7B = 6_649_286_656
# MPT-30B, d 7168, 48 layers: per layer 12·7168² = 616,562,688 + 14,336 = 616,577,024; x48 =
#   29,595,697,152; + wte 50432·7168 = 361,496,576 + norm_f 7,168 = 29,957,200,896.
#   Published: total_size 59,914,401,792 bytes of bf16 / 2 (model card: 29.95B).
MPT_30B = 29_957_200_896


def test_mpt_is_a_supported_model_type() -> None:
    assert "mpt" in SUPPORTED_MODEL_TYPES


@pytest.mark.parametrize(("name", "count"), [("mpt-7b", MPT_7B), ("mpt-30b", MPT_30B)])
def test_preset_counts_equal_the_published_checkpoint_sizes(name: str, count: int) -> None:
    model = load_hf_config(PRESETS / "mosaicml" / name / "config.json")
    assert model.parameter_count == count == model.active_parameter_count
    entry = find_entry(f"mosaicml/{name}")
    assert entry is not None and entry.published_parameters == count
    assert get_model(name).parameter_count == count  # the alias resolves


def test_mpt_7b_fields() -> None:
    m = get_model("mosaicml/mpt-7b")
    assert m.alibi and not m.rotary and m.position_embeddings == 0
    assert (m.hidden_size, m.num_layers, m.vocab_size) == (4096, 32, 50432)
    assert (m.num_attention_heads, m.num_key_value_heads, m.head_dim) == (32, 32, 128)
    assert m.intermediate_size == 16384 and not m.gated_mlp  # expansion_ratio 4, GELU
    assert m.norm == "layernorm" and not m.layernorm_bias and m.norm_params == 4096
    assert not (m.qkv_bias or m.o_bias or m.mlp_bias or m.lm_head_bias)
    assert m.tie_word_embeddings and m.lm_head_params == 0
    assert m.max_position_embeddings == 2048 and m.norms_per_layer == 2
    assert m.kv_bytes_per_token(2.0) == 32 * 2 * 4096 * 2  # L·2·n_kv·hd·bytes


def test_mpt_30b_fields() -> None:
    m = get_model("mpt-30b")
    assert m.alibi and (m.hidden_size, m.num_layers, m.num_attention_heads) == (7168, 48, 64)
    assert m.intermediate_size == 28672 and m.max_position_embeddings == 8192


# ---- variants, counted by hand -----------------------------------------------------------------
# Tiny base: per layer Wqkv 64·192 = 12,288 + out 4,096 + up/down 2·64·256 = 32,768 + norms 128
#   = 49,280; x2 = 98,560; + wte 6,400 + norm_f 64 = 105,024.
@pytest.mark.parametrize(
    ("label", "config", "count"),
    [
        ("alibi, no_bias", tiny(), 105_024),
        # + biases per layer: qkv 192, out 64, up 256, down 64, two LayerNorm biases 128 = 704;
        #   x2 = 1,408; + norm_f bias 64 -> 106,496
        ("biases", tiny(no_bias=False), 106_496),
        # Wqkv 64·(64 + 2·2·16) = 8,192: 4,096 fewer per layer -> 105,024 - 8,192 = 96,832
        ("gqa", tiny(attn_config={"attn_type": "grouped_query_attention", "kv_n_heads": 2}), 96_832),
        # Wqkv 64·(64 + 2·16) = 6,144: 6,144 fewer per layer -> 92,736
        ("mqa", tiny(attn_config={"attn_type": "multiquery_attention"}), 92_736),
        # gated MLP 3·64·256 = 49,152: 16,384 more per layer -> 137,792
        ("mptglu", tiny(ffn_config={"ffn_type": "mptglu"}), 137_792),
        # ffn_hidden_size 100: MLP 2·64·100 = 12,800, 19,968 fewer per layer -> 65,088
        ("ffn_hidden_size", tiny(ffn_config={"ffn_hidden_size": 100}), 65_088),
        # expansion_ratio 2.5: int(64·2.5) = 160, MLP 20,480, 12,288 fewer per layer -> 80,448
        ("float ratio", tiny(expansion_ratio=2.5), 80_448),
        # a learned table of max_seq_len 128 rows: + 128·64 = 8,192 -> 113,216
        ("learned positions", tiny(attn_config={"alibi": False}), 113_216),
        ("rope", tiny(attn_config={"alibi": False, "rope": True}), 105_024),
        ("rmsnorm", tiny(norm_type="rmsnorm"), 105_024),
        # an untied lm_head: + 100·64 = 6,400 -> 111,424
        ("untied", tiny(tie_word_embeddings=False), 111_424),
    ],
)  # fmt: skip
def test_variant_counts(label: str, config: dict[str, Any], count: int) -> None:
    assert load(config).parameter_count == count, label


def test_variant_fields() -> None:
    assert (
        load(tiny(attn_config={"attn_type": "grouped_query_attention", "kv_n_heads": 2})).kv_dim
        == 32
    )
    learned = load(tiny(attn_config={"alibi": False}))
    assert not learned.alibi and not learned.rotary and learned.position_embeddings == 128
    rope = load(tiny(attn_config={"alibi": False, "rope": True}))
    assert rope.rotary and not rope.alibi and rope.position_embeddings == 0
    biased = load(tiny(no_bias=False))
    assert biased.qkv_bias and biased.o_bias and biased.mlp_bias and biased.layernorm_bias
    assert load(tiny(norm_type="low_precision_rmsnorm")).norm == "rmsnorm"
    # ALiBi ignores learned_pos_emb, as MosaicML's modeling_mpt.py does
    assert load(tiny(learned_pos_emb=True)).position_embeddings == 0


def test_transformers_diff_config_takes_transformers_defaults() -> None:
    # transformers writes attn_config as a diff against MptAttentionConfig ({"model_type": ""}
    # when nothing differs) and may omit no_bias: alibi and no_bias then default to true.
    config = tiny(attn_config={})
    config["attn_config"] = {"model_type": ""}
    del config["no_bias"], config["expansion_ratio"], config["max_seq_len"]
    m = load(config)
    assert m.alibi and not m.layernorm_bias and m.intermediate_size == 256
    assert m.max_position_embeddings == 2048 and m.parameter_count == 105_024


# ---- bad input: one ValueError naming the file and the field -------------------------------------
@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({k: v for k, v in tiny().items() if k != "d_model"}, r"field 'd_model' is missing \(required for model_type 'mpt'\)"),
        (tiny(n_heads=5), r"field 'n_heads' \(5\) does not divide d_model \(64\)"),
        (tiny(n_layers=0), r"field 'n_layers' must be a whole number >= 1, got 0"),
        (tiny(vocab_size="100"), r"field 'vocab_size' must be a whole number >= 1, got '100'"),
        (tiny(attn_config=None) | {"attn_config": [1]}, r"field 'attn_config' must be an object, got \[1\]"),
        (tiny(attn_config={"alibi": "true"}), r"field 'attn_config.alibi' must be true or false, got 'true'"),
        (tiny(attn_config={"attn_type": "cross_attention"}), r"field 'attn_config.attn_type' = 'cross_attention' is not supported; supported: multihead_attention"),
        (tiny(attn_config={"attn_type": "grouped_query_attention"}), r"field 'attn_config.kv_n_heads' is missing \(required with grouped_query_attention\)"),
        (tiny(attn_config={"attn_type": "grouped_query_attention", "kv_n_heads": 3}), r"field 'attn_config.kv_n_heads' \(3\) does not divide n_heads \(4\)"),
        (tiny(attn_config={"qk_ln": True}), r"field 'attn_config.qk_ln' = True is not supported: LayerNorm over the whole q and k"),
        (tiny(attn_config={"prefix_lm": True}), r"field 'attn_config.prefix_lm' = True is not supported: prefix-LM"),
        (tiny(attn_config={"sliding_window_size": 512}), r"field 'attn_config.sliding_window_size' = 512 is not supported for MPT"),
        (tiny(attn_config={"rope": True}), r"field 'attn_config.rope' = True with alibi = True"),
        (tiny(attn_config={"alibi": False}, learned_pos_emb=False), r"field 'learned_pos_emb' = False without alibi or rope"),
        (tiny(no_bias="yes"), r"field 'no_bias' must be true or false, got 'yes'"),
        (tiny(expansion_ratio=0), r"field 'expansion_ratio' must be a number > 0, got 0"),
        (tiny(expansion_ratio="4"), r"field 'expansion_ratio' must be a number > 0, got '4'"),
        (tiny(expansion_ratio=0.001), r"field 'expansion_ratio' = 0.001 gives an MLP width below 1"),
        (tiny(norm_type="groupnorm"), r"field 'norm_type' = 'groupnorm' is not supported; supported: low_precision_layernorm"),
        (tiny(ffn_config={"ffn_type": "mb_moe"}), r"field 'ffn_config.ffn_type' = 'mb_moe' is not supported; supported: mptmlp, mptglu"),
        (tiny(ffn_config={"ffn_hidden_size": 0}), r"field 'ffn_config.ffn_hidden_size' must be a whole number >= 1, got 0"),
        (tiny(max_seq_len=-1), r"field 'max_seq_len' must be a whole number >= 1, got -1"),
    ],
)  # fmt: skip
def test_malformed_configs_name_the_field(
    tmp_path: Path, config: dict[str, Any], message: str
) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with pytest.raises(ValueError, match=message) as info:
        load_hf_config(path)
    assert str(info.value).startswith(f"{path}: ")


def test_preset_with_a_bad_nested_field(tmp_path: Path) -> None:
    config = mpt_preset("mpt-30b")
    config["attn_config"]["qk_ln"] = True
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"field 'attn_config.qk_ln' = True is not supported"):
        load_hf_config(path)


# ---- the Model fields themselves ---------------------------------------------------------------
def model(**changes: Any) -> Model:
    base: dict[str, Any] = dict(
        name="m", vocab_size=100, hidden_size=64, num_layers=2, num_attention_heads=4,
        num_key_value_heads=4, head_dim=16, intermediate_size=256, gated_mlp=False,
        norm="layernorm",
    )  # fmt: skip
    return Model(**(base | changes))


def test_model_alibi_and_layernorm_bias_fields() -> None:
    plain = model()
    assert plain.rotary and not plain.alibi and plain.norm_params == 128  # scale + bias
    assert model(layernorm_bias=False).norm_params == 64
    assert not model(alibi=True).rotary and not model(position_embeddings=32).rotary


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"alibi": 1}, TypeError, r"alibi must be true or false, got 1"),
        ({"layernorm_bias": "no"}, TypeError, r"layernorm_bias must be true or false, got 'no'"),
        ({"alibi": True, "position_embeddings": 128}, ValueError, r"position_embeddings must be 0 with alibi=True, got 128"),
        ({"layernorm_bias": False, "norm": "rmsnorm"}, ValueError, r"layernorm_bias=False needs norm='layernorm'"),
    ],
)  # fmt: skip
def test_model_rejects_bad_alibi_and_norm_fields(
    changes: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        model(**changes)


def test_the_rope_reference_model_refuses_alibi() -> None:
    pytest.importorskip("torch")
    from llm_roofline.measure.reference_model import check_supported

    llama_shaped = model(norm="rmsnorm", gated_mlp=True, alibi=True)
    with pytest.raises(ValueError, match="has ALiBi: the reference model runs Llama-family"):
        check_supported(llama_shaped)
