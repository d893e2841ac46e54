"""The Hugging Face ``transformers`` backend of ``validate``: the same model as ours (same
logits from the same weights), its decode cache kept at the point's context, and a clear
error where transformers is not installed."""

from __future__ import annotations

import re

import pytest

from llm_roofline import Model
from llm_roofline.validate.harness import Point, TimingOptions

try:
    import torch
    import transformers

    HAS_HF = True
except ImportError:
    HAS_HF = False
needs_hf = pytest.mark.skipif(not HAS_HF, reason="torch and transformers are not installed")
try:
    import torch  # only probing whether it is installed

    HAS_TORCH = True
except ImportError:
    HAS_TORCH = False
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")


def tiny(**extra: object) -> Model:
    return Model("tiny-llama", 97, 64, 2, 4, 2, 16, 96, max_position_embeddings=256, **extra)  # type: ignore[arg-type]


@needs_torch  # the reference model's check imports torch
def test_missing_transformers_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from llm_roofline.validate.hf_backend import hf_config

    real_import = builtins.__import__

    def no_transformers(name: str, *args: object, **kwargs: object) -> object:
        if name == "transformers":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_transformers)
    with pytest.raises(ValueError, match="needs the transformers package"):
        hf_config(tiny())


@needs_torch  # the reference model's check imports torch
def test_unsupported_models_are_refused_before_transformers_is_needed() -> None:
    from llm_roofline.validate.hf_backend import hf_config

    with pytest.raises(ValueError, match="sliding window"):
        hf_config(tiny(sliding_window=8))


def _hf_name(ours: str) -> str:
    """Our reference model's parameter name -> the transformers Llama/Qwen2 name."""
    if ours == "final_norm":
        return "model.norm.weight"
    if ours.startswith("embed_tokens"):
        return "model." + ours
    if ours.startswith("lm_head"):
        return ours
    found = re.fullmatch(r"layers\.(\d+)\.(\w+)(\.\w+)?", ours)
    assert found, ours
    layer, module, tensor = found.groups()
    if module.endswith("layernorm"):
        return f"model.layers.{layer}.{module}.weight"
    block = "self_attn" if module in ("q_proj", "k_proj", "v_proj", "o_proj") else "mlp"
    return f"model.layers.{layer}.{block}.{module}{tensor}"


@needs_hf
@pytest.mark.parametrize("qkv_bias", [False, True])  # LlamaConfig, Qwen2Config
def test_same_weights_give_the_same_logits_as_our_model(qkv_bias: bool) -> None:
    from llm_roofline.measure.reference_model import build_decoder
    from llm_roofline.validate.hf_backend import cache_keyword, hf_config

    m = tiny(qkv_bias=qkv_bias, tie_word_embeddings=qkv_bias)
    hf = transformers.AutoModelForCausalLM.from_config(hf_config(m), attn_implementation="sdpa")
    hf = hf.eval()
    assert type(hf.config).__name__ == ("Qwen2Config" if qkv_bias else "LlamaConfig")
    assert sum(p.numel() for p in hf.parameters()) == m.parameter_count
    ours = build_decoder(m, batch=2, max_len=16, dtype=torch.float32)
    theirs = dict(hf.named_parameters())
    with torch.no_grad():
        for name, p in ours.named_parameters():
            theirs[_hf_name(name)].copy_(p)
    prompt = torch.randint(0, m.vocab_size, (2, 9), generator=torch.Generator().manual_seed(3))
    nxt = torch.randint(0, m.vocab_size, (2, 1), generator=torch.Generator().manual_seed(4))
    with torch.inference_mode():
        ours_prefill = ours(prompt, 0)
        ours_decode = ours(nxt, 9)
        out = hf(input_ids=prompt, use_cache=True)
        kw = {cache_keyword(hf): out.past_key_values}
        hf_decode = hf(input_ids=nxt, use_cache=True, logits_to_keep=1, **kw).logits[:, -1]
    torch.testing.assert_close(out.logits[:, -1], ours_prefill, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(hf_decode, ours_decode, rtol=1e-5, atol=1e-6)


@needs_hf
def test_model_is_built_outside_inference_mode() -> None:
    from llm_roofline.validate.hf_backend import build_hf_model

    with torch.inference_mode():  # as the harness calls it
        model = build_hf_model(tiny(tie_word_embeddings=True), "bf16", "cpu")
    assert not any(p.is_inference() for p in model.parameters())
    assert next(model.parameters()).dtype == torch.bfloat16 and not model.training


@needs_hf
def test_decode_steps_stay_at_the_points_context() -> None:
    from llm_roofline.validate.hf_backend import hf_steps

    points = [Point("prefill", "fp32", 1, 12), Point("decode", "fp32", 2, 8)]
    steps = dict(hf_steps(tiny(), "fp32", points, TimingOptions(backend="transformers")))
    with torch.inference_mode():
        assert steps[points[0]](0).logits.shape == (1, 1, 97)  # logits of the last position
        for i in range(3):  # every step runs at context 8, then crops its token back off
            out = steps[points[1]](i)
            assert out.logits.shape == (2, 1, 97)
            assert out.past_key_values.get_seq_length() == 8


@needs_hf
def test_cli_validate_through_transformers(capsys: pytest.CaptureFixture[str]) -> None:
    from llm_roofline.cli import main

    args = ["validate", "--model", "smollm2-135m", "--hardware", "h100-sxm"]
    args += ["--backend", "transformers", "--dtypes", "fp32", "--prompt-lens", "8"]
    args += ["--batches", "1", "--context-lens", "8", "--repeats", "1", "--format", "json"]
    assert main(args) == 0
    data = __import__("json").loads(capsys.readouterr().out)
    assert data["meta"]["backend"] == "transformers"
    assert [(r["phase"], r["tokens"]) for r in data["rows"]] == [("prefill", 8), ("decode", 8)]
