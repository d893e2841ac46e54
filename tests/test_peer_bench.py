"""The peer-speed baseline (benchmarks/peer.py): the mapping to llm-analysis's inputs, fresh
configurations, and the worker's protocol (only where benchmarks/.peer-venv exists)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from llm_roofline import Workload
from llm_roofline.catalog.hardware_catalog import get_hardware
from llm_roofline.catalog.model_catalog import get_model

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


def load_peer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("peer", BENCHMARKS / "peer.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mixtral_maps_to_one_expert_ffn_with_its_expert_count() -> None:
    peer = load_peer()
    workload = Workload(batch_size=8, prompt_len=1000, output_len=64, weight_dtype="int4")
    config = peer.peer_config(get_model("mixtral-8x7b"), get_hardware("h100-sxm"), workload)
    # Mixtral-8x7B's config.json: d 4096, 32 layers, 32 heads, 8 KV heads, experts of 14,336,
    # 8 experts, top 2, vocabulary 32,000, 32,768 positions. H100 SXM: 989.4 TFLOP/s dense
    # bf16, 3.35 TB/s, 80 GB. int4 weights are 4 bits; bf16 activations and KV 16.
    expected = {
        "hidden_size": 4096,
        "num_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "intermediate_size": 14336,
        "vocab_size": 32000,
        "max_seq_len": 32768,
        "num_experts": 8,
        "experts_per_token": 2,
        "peak_flops_per_s": 989.4e12,
        "bandwidth_bytes_per_s": 3.35e12,
        "memory_bytes": 80e9,
        "batch_size": 8,
        "prompt_len": 1000,
        "output_len": 64,
        "weight_bits": 4,
        "activation_bits": 16,
        "kv_bits": 16,
    }
    assert {key: config[key] for key in expected} == expected


def test_dense_model_has_one_expert_of_its_mlp_size() -> None:
    peer = load_peer()
    config = peer.peer_config(get_model("llama-3.1-8b"), get_hardware("h100-sxm"), Workload())
    assert (config["intermediate_size"], config["num_experts"], config["experts_per_token"]) == (
        14336,
        1,
        1,
    )


def test_a_width_llm_analysis_lacks_is_refused_by_name() -> None:
    peer = load_peer()
    with pytest.raises(ValueError, match="kv_dtype='fp32'"):
        peer.peer_config(
            get_model("llama-3.1-8b"), get_hardware("h100-sxm"), Workload(kv_dtype="fp32")
        )


def test_fresh_workloads_never_repeat_and_vary_batch_and_prompt_every_call() -> None:
    peer = load_peer()
    workloads = peer.fresh_workloads(6 * 3583)  # the whole period: all distinct
    keys = [(w.batch_size, w.prompt_len) for w in workloads]
    assert len(set(keys)) == len(keys)
    first, second = keys[0], keys[1]
    assert first == (1, 512) and second == (2, 513)  # batch 1, 2, 4, ...; prompt 512, 513, ...
    with pytest.raises(ValueError, match="count"):
        peer.fresh_workloads(0)


def test_missing_peer_venv_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    peer = load_peer()
    monkeypatch.setattr(peer, "PEER_VENV", Path("/no/such/venv"))
    with pytest.raises(peer.PeerError, match=r"peer_venv\.sh"):
        peer.PeerWorker()


@pytest.mark.skipif(
    not (BENCHMARKS / ".peer-venv" / "bin" / "python").exists(),
    reason="no benchmarks/.peer-venv (made by `bash benchmarks/peer_venv.sh`)",
)
def test_worker_answers_each_command_and_names_bad_input() -> None:
    peer = load_peer()
    config = peer.peer_config(get_model("llama-3.1-8b"), get_hardware("h100-sxm"), Workload())
    with peer.PeerWorker() as worker:
        assert worker.version() == "0.2.2"
        assert len(worker.time_calls([config], calls=3)) == 3
        (result,) = worker.results([config])
        assert result["ffn_embed_dim"] == 12288  # 14,336 / 4,096 = 3.5: the lower multiple
        with pytest.raises(peer.PeerError, match="batch_size"):
            worker.time_calls([{**config, "batch_size": "8"}])
        with pytest.raises(peer.PeerError, match="too large"):  # its memory check: not timed
            worker.time_calls([{**config, "batch_size": 256, "prompt_len": 30000}])
        assert worker.version() == "0.2.2"  # still serving after errors
    one_shot = subprocess.run(
        [str(peer.peer_python()), str(peer.WORKER)],
        input=json.dumps([config, config]),
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(json.loads(one_shot.stdout)["seconds"]) == 2
