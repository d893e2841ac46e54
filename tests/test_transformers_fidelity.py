"""transformers models from the catalog's real config.json (GPT-2, Phi-2, OPT, Llama),
tiny and truncated; the decode step the harness and ``measure`` time; the CLI's errors.

Tiny models only (1-2 layers of d = 64): each test runs in well under a second.
"""

from __future__ import annotations

import dataclasses

import pytest

from llm_roofline.catalog.hf_config import model_from_hf_dict
from llm_roofline.catalog.model_catalog import get_model

try:
    import torch
    import transformers  # noqa: F401  # only probing whether it is installed

    HAS_HF = True
except ImportError:
    HAS_HF = False
needs_hf = pytest.mark.skipif(not HAS_HF, reason="torch and transformers are not installed")

ARCHS = {
    "openai-community/gpt2": "GPT2LMHeadModel",
    "microsoft/phi-2": "PhiForCausalLM",
    "facebook/opt-1.3b": "OPTForCausalLM",
    "HuggingFaceTB/SmolLM2-360M": "LlamaForCausalLM",
}


@needs_hf
@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_tiny_model_of_the_real_config_matches_our_parameter_count(arch: str) -> None:
    from llm_roofline.measure.hf_models import build, hf_config
    from llm_roofline.measure.hf_overhead import TINY, catalog_config

    config = hf_config(catalog_config(arch), layers=2, **TINY)
    model = build(config, torch.float32, "cpu")
    assert type(model).__name__ == ARCHS[arch]
    ours = model_from_hf_dict(config.to_dict(), name="tiny", origin="tiny")
    assert (ours.num_layers, ours.hidden_size) == (2, 64)
    assert ours.parameter_count == sum(p.numel() for p in model.parameters())


@needs_hf
def test_truncated_catalog_model_keeps_its_architecture() -> None:
    from llm_roofline.validate.hf_backend import model_config

    phi = dataclasses.replace(get_model("phi-2"), num_layers=2)
    config = model_config(phi)
    assert (config.model_type, config.num_hidden_layers) == ("phi", 2)
    assert config.hidden_size == 2560
    assert config.rope_parameters["partial_rotary_factor"] == 0.4
    opt = model_config(dataclasses.replace(get_model("opt-1.3b"), num_layers=1))
    assert (opt.model_type, opt.activation_function, opt.ffn_dim) == ("opt", "relu", 8192)


@needs_hf
def test_decode_step_stays_at_its_context_and_copies_nothing_else() -> None:
    from llm_roofline.measure.hf_models import build, hf_config
    from llm_roofline.measure.hf_overhead import TINY, catalog_config, decode_step

    config = hf_config(catalog_config("openai-community/gpt2"), layers=1, **TINY)
    model = build(config, torch.float32, "cpu")
    step = decode_step(model, config, batch=3, context=5, device="cpu")
    with torch.inference_mode():
        for i in range(3):
            out = step(i)
            assert out.logits.shape == (3, 1, 256)


def test_bad_model_type_is_named() -> None:
    pytest.importorskip("transformers", reason="transformers is not installed")
    from llm_roofline.measure.hf_models import hf_config

    with pytest.raises(ValueError, match="field 'model_type' must be a string"):
        hf_config({"hidden_size": 8})


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from llm_roofline.cli import main

    code = main(args)
    return code, capsys.readouterr().err


@needs_hf
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--layers", "0"], "--layers"),
        (["--layers", "13"], "--layers 13: openai-community/gpt2 has only 12 layers"),
        (["--engine", "pytorch"], "--engine must be one of"),
        (["--engine", "transformers"], "no 'transformers' profile"),
        (["--prompt-lens", "2048"], "--prompt-lens 2048: openai-community/gpt2 has 1024"),
        (["--context-lens", "1024"], "gpt2 has 1024 learned positions, so at most 1023"),
    ],
)
def test_validate_bad_inputs_are_one_line(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["validate", "--model", "gpt2", "--hardware", "docs/profiles/dev-cpu.json"]
    args += ["--backend", "transformers", "--dtypes", "fp32", "--prompt-lens", "128"]
    args += ["--context-lens", "256", *extra]
    code, err = _cli(args, capsys)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_measure_rejects_a_bad_framework(capsys: pytest.CaptureFixture[str]) -> None:
    from llm_roofline.cli import main

    assert main(["measure", "--framework", "jax"]) == 2
    assert "--framework" in capsys.readouterr().err
