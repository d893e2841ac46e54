"""Loading Hugging Face config.json files: family mappings, published counts, bad input, cache."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from llm_roofline.catalog.hf_config import (
    SUPPORTED_MODEL_TYPES,
    find_in_hub_cache,
    hub_cache_dir,
    load_hf_config,
    model_from_hf_dict,
)
from llm_roofline.inputs.model import Model

PRESETS = (
    Path(__file__).resolve().parents[1] / "src" / "llm_roofline" / "catalog" / "data" / "models"
)


def preset(repo_id: str) -> Model:
    return load_hf_config(PRESETS / repo_id / "config.json")


def preset_dict(repo_id: str) -> dict[str, Any]:
    config: dict[str, Any] = json.loads((PRESETS / repo_id / "config.json").read_text())
    return config


# ---- the counts the project promises (exact, from the real config.json files) ---------------
@pytest.mark.parametrize(
    ("repo_id", "count"),
    [
        ("meta-llama/Llama-2-7b-hf", 6_738_415_616),
        ("meta-llama/Meta-Llama-3-8B", 8_030_261_248),
        ("mistralai/Mistral-7B-v0.1", 7_241_732_096),
        ("mistralai/Mixtral-8x7B-v0.1", 46_702_792_704),
        ("Qwen/Qwen2.5-7B", 7_615_616_512),
        ("openai-community/gpt2", 124_439_808),
    ],
)
def test_promised_parameter_counts(repo_id: str, count: int) -> None:
    assert preset(repo_id).parameter_count == count


def test_every_shipped_config_loads_through_the_file_loader() -> None:
    configs = sorted(PRESETS.glob("*/*/config.json"))
    assert len(configs) >= 42
    for path in configs:
        model = load_hf_config(path)
        assert model.parameter_count > 0
        assert model.source == f"user config {path.parent.name}/config.json"  # no full path


# ---- family-specific fields --------------------------------------------------------------
def test_llama2_reads_its_untied_lm_head() -> None:
    m = preset("meta-llama/Llama-2-7b-hf")
    assert m.tie_word_embeddings is False
    assert m.lm_head_params == 32_000 * 4096
    assert (m.num_attention_heads, m.num_key_value_heads, m.head_dim) == (32, 32, 128)


def test_llama32_ties_and_reads_explicit_head_dim() -> None:
    m = preset("meta-llama/Llama-3.2-3B")
    assert m.tie_word_embeddings is True and m.lm_head_params == 0
    assert (m.num_attention_heads, m.num_key_value_heads, m.head_dim) == (24, 8, 128)


def test_gpt2_ties_and_has_learned_positions() -> None:
    m = preset("openai-community/gpt2")
    assert m.tie_word_embeddings is True and m.lm_head_params == 0
    assert m.position_embeddings == 1024 and m.max_position_embeddings == 1024
    assert m.intermediate_size == 4 * 768 and not m.gated_mlp and m.norm == "layernorm"
    assert m.qkv_bias and m.o_bias and m.mlp_bias


def test_mistral_v01_window_on_every_layer_v03_none() -> None:
    v1 = preset("mistralai/Mistral-7B-v0.1")
    assert v1.sliding_window == 4096
    assert v1.sliding_window_layers == tuple(range(32))
    v3 = preset("mistralai/Mistral-7B-Instruct-v0.3")
    assert v3.sliding_window is None and v3.sliding_window_layers == ()


def test_mistral_missing_window_takes_the_documented_4096() -> None:
    config = preset_dict("mistralai/Mistral-7B-v0.1")
    del config["sliding_window"]
    assert model_from_hf_dict(config, "m", "x.json").sliding_window == 4096


def test_qwen2_biases_and_unused_sliding_window() -> None:
    m = preset("Qwen/Qwen2.5-7B")
    assert m.qkv_bias and not m.o_bias and not m.mlp_bias
    assert m.sliding_window is None  # use_sliding_window: false


def test_qwen2_use_sliding_window_slides_layers_from_max_window_layers() -> None:
    config = preset_dict("Qwen/Qwen2.5-7B") | {"use_sliding_window": True, "max_window_layers": 20}
    m = model_from_hf_dict(config, "q", "x.json")
    assert m.sliding_window == 131072 and m.sliding_window_layers == tuple(range(20, 28))


def test_gemma2_alternates_even_layers_sliding() -> None:
    m = preset("google/gemma-2-9b")
    assert m.sliding_window == 4096
    assert m.sliding_window_layers == tuple(range(0, 42, 2))
    assert m.layer_window(0) == 4096 and m.layer_window(1) is None
    assert m.norms_per_layer == 4 and m.tie_word_embeddings and m.head_dim == 256


def test_gemma3_nested_text_config_with_documented_defaults() -> None:
    m = preset("google/gemma-3-27b-it")
    assert m.vocab_size == 262_208  # Gemma3TextConfig default; the file omits it
    assert m.max_position_embeddings == 131_072 and m.tie_word_embeddings
    assert m.qk_norm and m.norms_per_layer == 4
    full = [i for i in range(62) if m.layer_window(i) is None]
    assert full == list(range(5, 62, 6))  # 5 local : 1 global
    assert m.sliding_window == 1024 and len(m.sliding_window_layers) == 52


def test_deepseek_v3_mla_and_moe_layout() -> None:
    m = preset("deepseek-ai/DeepSeek-V3")
    assert m.mla is not None and m.moe is not None
    assert (m.mla.kv_lora_rank, m.mla.qk_rope_head_dim, m.mla.q_lora_rank) == (512, 64, 1536)
    assert m.kv_elements_per_token_per_layer == 576
    assert m.num_layers == 61 and m.moe.first_dense_layers == 3 and m.num_moe_layers == 58
    assert (m.moe.num_experts, m.moe.experts_per_token, m.moe.num_shared_experts) == (256, 8, 1)
    assert m.moe.router_score_bias  # topk_method noaux_tc: e_score_correction_bias
    assert m.head_dim == 192 and m.num_key_value_heads == m.num_attention_heads == 128


def test_deepseek_v2_lite_plain_q_proj_and_no_score_bias() -> None:
    m = preset("deepseek-ai/DeepSeek-V2-Lite")
    assert m.mla is not None and m.moe is not None
    assert m.mla.q_lora_rank is None
    assert not m.moe.router_score_bias and m.moe.first_dense_layers == 1
    assert m.moe.num_shared_experts == 2


def test_qwen3_qk_norm_and_explicit_head_dim() -> None:
    dense = preset("Qwen/Qwen3-8B")
    assert dense.qk_norm and dense.head_dim == 128
    moe = preset("Qwen/Qwen3-30B-A3B")
    assert moe.qk_norm and moe.head_dim == 128 != moe.hidden_size // moe.num_attention_heads
    assert moe.moe is not None and moe.moe.num_shared_experts == 0


def test_gpt_oss_sinks_biases_and_alternating_window() -> None:
    m = preset("openai/gpt-oss-20b")
    assert m.attention_sinks and m.qkv_bias and m.o_bias
    assert m.moe is not None and m.moe.router_bias and m.moe.expert_bias
    assert (m.moe.num_experts, m.moe.experts_per_token) == (32, 4)
    assert m.sliding_window == 128 and m.sliding_window_layers == tuple(range(0, 24, 2))
    assert m.q_dim == 64 * 64 != m.hidden_size


def test_falcon_7b_multi_query_parallel_one_norm() -> None:
    m = preset("tiiuae/falcon-7b")
    assert m.num_key_value_heads == 1 and m.head_dim == 64
    assert m.parallel_attention and m.norms_per_layer == 1 and m.tie_word_embeddings
    assert m.intermediate_size == 4 * 4544 and not (m.qkv_bias or m.mlp_bias)
    assert m.parameter_count == 6_921_720_704  # independent formula; no published count


def test_opt_positions_have_two_offset_rows() -> None:
    m = preset("facebook/opt-1.3b")
    assert m.position_embeddings == 2048 + 2 and m.tie_word_embeddings
    assert m.intermediate_size == 8192 and m.norm == "layernorm" and m.mlp_bias


def test_phi2_parallel_biases_and_lm_head_bias() -> None:
    m = preset("microsoft/phi-2")
    assert m.parallel_attention and m.norms_per_layer == 1 and m.norm == "layernorm"
    assert m.lm_head_bias and not m.tie_word_embeddings and m.qkv_bias and m.mlp_bias


def test_phi3_window_on_every_layer() -> None:
    m = preset("microsoft/Phi-3-mini-4k-instruct")
    assert m.sliding_window == 2047 and m.sliding_window_layers == tuple(range(32))


# ---- families without a shipped preset: counts cross-checked against transformers -------
# Each count equals sum(p.numel()) of the transformers 5.24.0 model built from the same dict
# on the meta device (checked when this file was written); Pythia's also equal the counts
# published in the Pythia model table, Gemma's the Hugging Face checkpoints'.
SYNTHETIC: dict[str, tuple[dict[str, Any], int]] = {
    "pythia-70m": (
        {"model_type": "gpt_neox", "hidden_size": 512, "intermediate_size": 2048,
         "num_attention_heads": 8, "num_hidden_layers": 6, "vocab_size": 50304},
        70_426_624,
    ),
    "pythia-160m": (
        {"model_type": "gpt_neox", "hidden_size": 768, "intermediate_size": 3072,
         "num_attention_heads": 12, "num_hidden_layers": 12, "vocab_size": 50304},
        162_322_944,
    ),
    "gemma-2b": (
        {"model_type": "gemma", "hidden_size": 2048, "intermediate_size": 16384,
         "num_attention_heads": 8, "num_key_value_heads": 1, "head_dim": 256,
         "num_hidden_layers": 18, "vocab_size": 256000},
        2_506_172_416,
    ),
    "gemma-7b": (
        {"model_type": "gemma", "hidden_size": 3072, "intermediate_size": 24576,
         "num_attention_heads": 16, "num_key_value_heads": 16, "num_hidden_layers": 28,
         "vocab_size": 256000},
        8_537_680_896,
    ),
    "qwen1.5-moe-a2.7b": (
        {"model_type": "qwen2_moe", "hidden_size": 2048, "intermediate_size": 5632,
         "num_attention_heads": 16, "num_key_value_heads": 16, "num_hidden_layers": 24,
         "vocab_size": 151936, "num_experts": 60, "num_experts_per_tok": 4,
         "moe_intermediate_size": 1408, "shared_expert_intermediate_size": 5632},
        14_315_784_192,
    ),
    "falcon-40b-shape": (
        {"model_type": "falcon", "hidden_size": 8192, "num_attention_heads": 128,
         "num_kv_heads": 8, "num_hidden_layers": 60, "vocab_size": 65024,
         "new_decoder_architecture": True},
        41_303_293_952,
    ),
    "gemma-3-1b-shape": (
        {"model_type": "gemma3_text", "hidden_size": 1152, "intermediate_size": 6912,
         "num_attention_heads": 4, "num_key_value_heads": 1, "num_hidden_layers": 26,
         "vocab_size": 262144, "sliding_window": 512},
        999_885_952,
    ),
    "deepseek-v2-shape": (
        {"model_type": "deepseek_v2", "hidden_size": 5120, "intermediate_size": 12288,
         "num_attention_heads": 128, "num_hidden_layers": 60, "vocab_size": 102400,
         "kv_lora_rank": 512, "q_lora_rank": 1536, "qk_nope_head_dim": 128,
         "qk_rope_head_dim": 64, "v_head_dim": 128, "n_routed_experts": 160,
         "num_experts_per_tok": 6, "moe_intermediate_size": 1536, "n_shared_experts": 2,
         "first_k_dense_replace": 1, "topk_method": "group_limited_greedy"},
        235_741_434_880,
    ),
    "qwen3-moe-leading-dense": (
        {"model_type": "qwen3_moe", "hidden_size": 1024, "intermediate_size": 3072,
         "head_dim": 128, "num_attention_heads": 16, "num_key_value_heads": 4,
         "num_hidden_layers": 6, "vocab_size": 1000, "num_experts": 8,
         "num_experts_per_tok": 2, "moe_intermediate_size": 256, "mlp_only_layers": [0, 1],
         "attention_bias": True},
        77_617_664,
    ),
    "llama-all-biases-tied": (
        {"model_type": "llama", "hidden_size": 512, "intermediate_size": 1024,
         "num_attention_heads": 8, "num_hidden_layers": 2, "vocab_size": 1000,
         "attention_bias": True, "mlp_bias": True, "tie_word_embeddings": True},
        5_766_656,
    ),
    "opt-without-biases": (
        {"model_type": "opt", "hidden_size": 256, "ffn_dim": 1024, "num_attention_heads": 4,
         "num_hidden_layers": 2, "vocab_size": 1000, "max_position_embeddings": 128,
         "enable_bias": False},
        1_864_704,
    ),
    "falcon-sequential-mha-bias": (
        {"model_type": "falcon", "hidden_size": 256, "num_attention_heads": 4,
         "num_hidden_layers": 2, "vocab_size": 1000, "multi_query": False,
         "parallel_attn": False, "bias": True},
        1_836_032,
    ),
    "gpt-neox-sequential-no-attention-bias": (
        {"model_type": "gpt_neox", "hidden_size": 256, "intermediate_size": 1024,
         "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 1000,
         "use_parallel_residual": False, "attention_bias": False},
        2_089_984,
    ),
}  # fmt: skip


@pytest.mark.parametrize("label", sorted(SYNTHETIC))
def test_families_without_presets_match_transformers(label: str) -> None:
    config, count = SYNTHETIC[label]
    assert model_from_hf_dict(config, label, f"{label}.json").parameter_count == count


def test_gemma3_text_layout_and_defaults() -> None:
    m = model_from_hf_dict(SYNTHETIC["gemma-3-1b-shape"][0], "g", "g.json")
    assert m.head_dim == 256 and m.tie_word_embeddings  # Gemma3TextConfig defaults
    assert [i for i in range(26) if m.layer_window(i) is None] == [5, 11, 17, 23]


def test_layer_types_win_over_the_family_pattern() -> None:
    config = preset_dict("google/gemma-2-9b")
    config["layer_types"] = ["full_attention"] * 40 + ["sliding_attention"] * 2
    assert model_from_hf_dict(config, "g", "x.json").sliding_window_layers == (40, 41)


def test_missing_kv_heads_is_mha_only_where_the_family_says_so() -> None:
    llama = {k: v for k, v in preset_dict("meta-llama/Llama-2-7b-hf").items()}
    del llama["num_key_value_heads"]
    assert model_from_hf_dict(llama, "l", "x.json").num_key_value_heads == 32
    mistral = preset_dict("mistralai/Mistral-7B-v0.1")
    mistral["num_key_value_heads"] = None  # an explicit null is MHA everywhere
    assert model_from_hf_dict(mistral, "m", "x.json").num_key_value_heads == 32
    del mistral["num_key_value_heads"]
    with pytest.raises(ValueError, match=r"x\.json: field 'num_key_value_heads' is missing"):
        model_from_hf_dict(mistral, "m", "x.json")


def test_auto_map_is_never_imported() -> None:
    config = preset_dict("deepseek-ai/DeepSeek-V3")
    config["auto_map"] = {"AutoConfig": "evil_remote_module.Config"}
    model_from_hf_dict(config, "d", "x.json")
    assert "evil_remote_module" not in sys.modules


# ---- bad input: one ValueError naming the file and the field --------------------------------
def write(tmp_path: Path, content: str, name: str = "config.json") -> Path:
    path = tmp_path / name
    path.write_text(content)
    return path


def good_llama() -> dict[str, Any]:
    return preset_dict("meta-llama/Llama-2-7b-hf")


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "config.json"
    with pytest.raises(ValueError, match=r"nope/config\.json: no such file or directory"):
        load_hf_config(missing)


def test_directory_without_config(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"directory has no config\.json"):
        load_hf_config(tmp_path)


def test_directory_with_config_loads(tmp_path: Path) -> None:
    write(tmp_path, json.dumps(good_llama()))
    model = load_hf_config(tmp_path)
    assert model.parameter_count == 6_738_415_616 and model.name == tmp_path.name


def test_invalid_json(tmp_path: Path) -> None:
    path = write(tmp_path, '{"model_type": "llama",\n  "hidden_size": }')
    with pytest.raises(ValueError, match=r"config\.json: invalid JSON at line 2, column"):
        load_hf_config(path)


def test_not_an_object(tmp_path: Path) -> None:
    path = write(tmp_path, "[1, 2, 3]")
    with pytest.raises(ValueError, match=r"config\.json: expected a JSON object, got list"):
        load_hf_config(path)


def test_missing_model_type_lists_supported(tmp_path: Path) -> None:
    config = good_llama()
    del config["model_type"]
    with pytest.raises(ValueError, match="field 'model_type' is missing; supported: ") as info:
        load_hf_config(write(tmp_path, json.dumps(config)))
    assert str(tmp_path) in str(info.value)
    assert all(t in str(info.value) for t in SUPPORTED_MODEL_TYPES)


def test_unknown_model_type(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps(good_llama() | {"model_type": "mamba"}))
    with pytest.raises(ValueError, match=r"'model_type' = 'mamba' is not supported; supported:"):
        load_hf_config(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hidden_size": None}, r"field 'hidden_size' is missing \(required for model_type 'llama'\)"),
        ({"intermediate_size": None}, r"field 'intermediate_size' is missing"),
        ({"vocab_size": 0}, r"field 'vocab_size' must be a whole number >= 1, got 0"),
        ({"num_hidden_layers": -2}, r"field 'num_hidden_layers' must be a whole number >= 1, got -2"),
        ({"hidden_size": 4096.5}, r"field 'hidden_size' must be a whole number >= 1, got 4096.5"),
        ({"hidden_size": True}, r"field 'hidden_size' must be a whole number >= 1, got True"),
        ({"hidden_size": "4096"}, r"field 'hidden_size' must be a whole number >= 1, got '4096'"),
        ({"num_attention_heads": 30}, r"field 'num_attention_heads' \(30\) does not divide hidden_size \(4096\) and no head_dim is given"),
        ({"num_key_value_heads": 5}, r"field 'num_key_value_heads' \(5\) does not divide num_attention_heads \(32\)"),
        ({"tie_word_embeddings": "no"}, r"field 'tie_word_embeddings' must be true or false, got 'no'"),
    ],
)  # fmt: skip
def test_bad_fields(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    config = good_llama()
    for key, value in change.items():
        if value is None:
            del config[key]
        else:
            config[key] = value
    path = write(tmp_path, json.dumps(config))
    with pytest.raises(ValueError, match=message) as info:
        load_hf_config(path)
    assert str(info.value).startswith(f"{path}: ")


def test_explicit_head_dim_allows_heads_not_dividing_hidden() -> None:
    config = good_llama() | {"num_attention_heads": 30, "num_key_value_heads": 10, "head_dim": 128}
    assert model_from_hf_dict(config, "l", "x.json").q_dim == 30 * 128


@pytest.mark.parametrize(
    ("repo_id", "change", "message"),
    [
        ("deepseek-ai/DeepSeek-V3", {"moe_layer_freq": 2}, r"field 'moe_layer_freq' = 2 is not supported: MoE on every n-th layer"),
        ("deepseek-ai/DeepSeek-V3", {"attention_bias": True}, r"field 'attention_bias' = True is not supported"),
        ("facebook/opt-1.3b", {"word_embed_proj_dim": 512}, r"field 'word_embed_proj_dim' = 512 differs from hidden_size \(2048\): OPT's project_in/project_out"),
        ("facebook/opt-1.3b", {"do_layer_norm_before": False}, r"field 'do_layer_norm_before' = False is not supported: post-LayerNorm OPT"),
        ("microsoft/phi-2", {"qk_layernorm": True}, r"field 'qk_layernorm' = True is not supported"),
        ("openai-community/gpt2", {"add_cross_attention": True}, r"field 'add_cross_attention' = True is not supported"),
        ("Qwen/Qwen3-30B-A3B", {"mlp_only_layers": [3]}, r"field 'mlp_only_layers' = \[3\] is not supported: only a leading run"),
        ("Qwen/Qwen3-30B-A3B", {"decoder_sparse_step": 2}, r"field 'decoder_sparse_step' = 2 is not supported"),
        ("Qwen/Qwen3-30B-A3B", {"use_sliding_window": True}, r"field 'use_sliding_window' = true needs an explicit layer_types"),
        ("google/gemma-2-9b", {"layer_types": ["full_attention"] * 3}, r"field 'layer_types' must be a list of 42 layer kinds"),
        ("google/gemma-2-9b", {"layer_types": ["chunked_attention"] * 42}, r"field 'layer_types' has unsupported kinds \['chunked_attention'\]"),
        ("google/gemma-3-27b-it", {"text_config": [1]}, r"field 'text_config' must be an object"),
        ("google/gemma-3-27b-it", {"text_config": {"hidden_size": 0}}, r"field 'text_config.hidden_size' must be a whole number >= 1, got 0"),
        ("openai/gpt-oss-20b", {"experts_per_token": 2}, r"field 'experts_per_token' \(2\) disagrees with num_experts_per_tok \(4\)"),
        ("deepseek-ai/DeepSeek-V2-Lite", {"q_lora_rank": 0}, r"field 'q_lora_rank' must be a whole number >= 1, got 0"),
        ("mistralai/Mixtral-8x7B-v0.1", {"num_experts_per_tok": 9}, r"field 'num_experts_per_tok' \(9\) exceeds num_local_experts \(8\)"),
    ],
)  # fmt: skip
def test_variants_not_modelled_are_refused(
    tmp_path: Path, repo_id: str, change: dict[str, Any], message: str
) -> None:
    path = write(tmp_path, json.dumps(preset_dict(repo_id) | change))
    with pytest.raises(ValueError, match=message) as info:
        load_hf_config(path)
    assert str(info.value).startswith(f"{path}: ")


def test_deepseek_requires_q_lora_rank_to_be_written() -> None:
    config = preset_dict("deepseek-ai/DeepSeek-V3")
    del config["q_lora_rank"]
    with pytest.raises(ValueError, match=r"field 'q_lora_rank' is missing \(write null"):
        model_from_hf_dict(config, "d", "x.json")


def test_model_from_hf_dict_rejects_a_non_object() -> None:
    with pytest.raises(ValueError, match=r"x\.json: expected a JSON object, got list"):
        model_from_hf_dict([], "n", "x.json")  # type: ignore[arg-type]  # the wrong type is the test


# ---- the local Hugging Face cache ---------------------------------------------------------
def fake_snapshot(cache: Path, repo_id: str, revision: str, config: dict[str, Any]) -> Path:
    folder = cache / ("models--" + repo_id.replace("/", "--")) / "snapshots" / revision
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config))
    return folder / "config.json"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for variable in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


def test_cache_dir_resolution(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert hub_cache_dir() == tmp_path / "home" / ".cache" / "huggingface" / "hub"
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub_cache_dir() == tmp_path / "xdg" / "huggingface" / "hub"
    clean_env.setenv("HF_HOME", str(tmp_path / "hf"))
    assert hub_cache_dir() == tmp_path / "hf" / "hub"
    clean_env.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert hub_cache_dir() == tmp_path / "hub"


def test_cache_prefers_the_refs_main_snapshot(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cache = tmp_path / "hub"
    clean_env.setenv("HF_HUB_CACHE", str(cache))
    main = fake_snapshot(cache, "acme/Tiny-7B", "aaa111", good_llama())
    newer = fake_snapshot(cache, "acme/Tiny-7B", "bbb222", good_llama() | {"vocab_size": 64000})
    os.utime(main, (1_000, 1_000))
    os.utime(newer, (2_000, 2_000))
    refs = cache / "models--acme--Tiny-7B" / "refs"
    refs.mkdir()
    (refs / "main").write_text("aaa111\n")
    model = load_hf_config("acme/Tiny-7B")
    assert model.name == "acme/Tiny-7B" and model.vocab_size == 32000
    assert model.source == "acme/Tiny-7B in the local Hugging Face cache (snapshot aaa111)"
    (refs / "main").unlink()  # no ref: the newest snapshot
    assert load_hf_config("acme/Tiny-7B").vocab_size == 64000


def test_cache_under_hf_home_and_case_insensitive(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("HF_HOME", str(tmp_path / "hf"))
    path = fake_snapshot(tmp_path / "hf" / "hub", "acme/Tiny-7B", "abc", good_llama())
    assert find_in_hub_cache("ACME/tiny-7b") == path
    assert load_hf_config("acme/tiny-7B").parameter_count == 6_738_415_616
    # a file inside a snapshot is named after its repository
    assert load_hf_config(path).name == "acme/Tiny-7B"


def test_repo_id_not_in_cache(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    with pytest.raises(ValueError, match=r"acme/Missing: no such file or directory, and no "):
        load_hf_config("acme/Missing")
