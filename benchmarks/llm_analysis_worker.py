"""Times llm-analysis 0.2.2's ``LLMAnalysis.inference`` on given configurations.

Runs INSIDE benchmarks/.peer-venv (made by benchmarks/peer_venv.sh), never in the project's
environment; benchmarks/peer.py starts it as a subprocess. Only the peer's speed is compared,
so its answers are used only to check that each configuration was analyzed.

A configuration is a JSON object in SI units (the keys of ``KEYS``). Two modes:

- one shot: ``python llm_analysis_worker.py < configs.json`` reads a JSON list of
  configurations, runs each once and prints ``{"seconds": [...]}`` (one per configuration).
- server: ``python llm_analysis_worker.py --server`` reads one command per line on stdin and
  answers one JSON line on stdout per command, so a parent can interleave its own timings
  with the peer's in one run:
    ``time N CONFIGS``    N calls, the i-th on CONFIGS[i % len(CONFIGS)]:
                          ``{"seconds": [N per-call seconds], "total_s": wall time of all N}``
    ``results CONFIGS``   one call each, and a few of the peer's outputs per configuration
                          (``{"results": [{...}, ...]}``), to check what it analyzed
    ``version``           ``{"version": "0.2.2", "python": "3.11.7"}``
    ``quit``              exits
  A bad command or configuration answers ``{"error": "..."}`` naming it; the server goes on.

Adaptations (only the speed is compared): llm-analysis asserts that the hidden size divides
``ffn_embed_dim``, so the FFN size becomes the nearest multiple of the hidden size (ties go
down: 14,336 with hidden 4,096 becomes 12,288, which leaves room for its memory checks); it
has no field for the minimum message latency of our devices, so its own H100 SXM value is used
(8 µs, llm_analysis/gpu_configs/h100-sxm-80gb.json). Each distinct model/device/dtype gets one
``LLMAnalysis`` object, built before timing; only ``inference(...)`` is timed (perf_counter).
Its logging is silenced (its f-string arguments are still built: that is part of its cost).
"""

from __future__ import annotations

import json
import logging
import platform
import sys
import time
import warnings
from typing import Any, TextIO

warnings.filterwarnings("ignore")
logging.disable(logging.CRITICAL)  # before the import: its module setup logs too

from llm_analysis import analysis as _analysis  # noqa: E402  (after silencing its logs)
from llm_analysis.config import DtypeConfig, GPUConfig, ModelConfig  # noqa: E402
from llm_analysis.logger import logger as _peer_logger  # noqa: E402

_peer_logger.setLevel(logging.CRITICAL + 1)
_peer_logger.disabled = True

MIN_MESSAGE_LATENCY_S = 8e-06  # llm-analysis's own h100-sxm-80gb.json value
KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "hidden_size": int,
    "num_layers": int,
    "num_attention_heads": int,
    "num_key_value_heads": int,
    "intermediate_size": int,  # of one expert for MoE models
    "vocab_size": int,
    "max_seq_len": (int, type(None)),
    "num_experts": int,  # 1: a dense MLP
    "experts_per_token": int,
    "hardware": str,
    "peak_flops_per_s": (int, float),  # dense, at the matmul dtype
    "bandwidth_bytes_per_s": (int, float),
    "memory_bytes": (int, float),
    "interconnect_bytes_per_s": (int, float),
    "compute_efficiency": (int, float),
    "bandwidth_efficiency": (int, float),
    "batch_size": int,
    "prompt_len": int,
    "output_len": int,
    "weight_bits": int,
    "activation_bits": int,
    "kv_bits": int,
}
BITS = (4, 8, 16)  # the only widths llm-analysis's get_TFLOPS_per_gpu accepts
RESULT_KEYS = ("prefill_latency", "decode_latency", "total_latency", "weight_memory_per_gpu")


class ConfigError(ValueError):
    pass


def check(config: object, index: int) -> dict[str, Any]:
    """One configuration, strictly: every key of KEYS with its type, nothing else."""
    if not isinstance(config, dict):
        raise ConfigError(f"configuration {index} must be a JSON object, got {config!r}")
    missing = [key for key in KEYS if key not in config]
    unknown = sorted(set(config) - set(KEYS))
    if missing or unknown:
        raise ConfigError(f"configuration {index}: missing {missing}, unknown {unknown}")
    for key, kind in KEYS.items():
        value = config[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ConfigError(f"configuration {index}: {key} has the wrong type: {value!r}")
    for key in ("weight_bits", "activation_bits", "kv_bits"):
        if config[key] not in BITS:
            raise ConfigError(f"configuration {index}: {key} must be one of {BITS}: {config[key]}")
    return config


def nearest_multiple(value: int, step: int) -> int:
    """The multiple of ``step`` nearest to ``value``, ties down, at least ``step``."""
    below = value // step * step
    return max(step, below + step if value - below > step / 2 else below)


def build(config: dict[str, Any]) -> _analysis.LLMAnalysis:
    hidden = config["hidden_size"]
    model = ModelConfig(
        name=config["name"],
        num_layers=config["num_layers"],
        n_head=config["num_attention_heads"],
        hidden_dim=hidden,
        vocab_size=config["vocab_size"],
        max_seq_len=config["max_seq_len"],
        num_key_value_heads=config["num_key_value_heads"],
        ffn_embed_dim=nearest_multiple(config["intermediate_size"], hidden),
        moe_num_experts=config["num_experts"],
        moe_top_k=config["experts_per_token"],
    )
    gpu = GPUConfig(
        name=config["hardware"],
        mem_per_GPU_in_GB=config["memory_bytes"] / 2**30,  # it multiplies by 1024**3
        hbm_bandwidth_in_GB_per_sec=config["bandwidth_bytes_per_s"] / 1e9,  # it uses 10**9
        intra_node_bandwidth_in_GB_per_sec=config["interconnect_bytes_per_s"] / 1e9,
        intra_node_min_message_latency=MIN_MESSAGE_LATENCY_S,
        peak_fp16_TFLOPS=config["peak_flops_per_s"] / 1e12,
    )
    weight, activation = config["weight_bits"], config["activation_bits"]
    dtype = DtypeConfig(
        name=f"w{weight}a{activation}e16", weight_bits=weight, activation_bits=activation
    )
    return _analysis.LLMAnalysis(
        model,
        gpu,
        dtype,
        flops_efficiency=config["compute_efficiency"],
        hbm_memory_efficiency=config["bandwidth_efficiency"],
    )


def setup_key(config: dict[str, Any]) -> tuple[Any, ...]:
    workload = ("batch_size", "prompt_len", "output_len", "kv_bits")
    return tuple(value for key, value in sorted(config.items()) if key not in workload)


def prepare(configs: object) -> list[tuple[_analysis.LLMAnalysis, dict[str, Any]]]:
    """(analysis object, call arguments) per configuration; objects shared per setup."""
    if not isinstance(configs, list) or not configs:
        raise ConfigError(f"expected a non-empty JSON list of configurations, got {configs!r}")
    built: dict[tuple[Any, ...], _analysis.LLMAnalysis] = {}
    calls = []
    for index, raw in enumerate(configs):
        config = check(raw, index)
        key = setup_key(config)
        if key not in built:
            try:
                built[key] = build(config)
            except AssertionError as error:
                raise ConfigError(
                    f"configuration {index}: llm-analysis rejects it: {error}"
                ) from None
        kwargs = {
            "batch_size_per_gpu": config["batch_size"],
            "seq_len": config["prompt_len"],
            "num_tokens_to_generate": config["output_len"],
            "kv_cache_dtype_bytes": config["kv_bits"] / 8,
        }
        calls.append((built[key], kwargs))
    return calls


def call(analysis: _analysis.LLMAnalysis, kwargs: dict[str, Any], index: int) -> dict[str, Any]:
    try:
        return analysis.inference(**kwargs)
    except AssertionError as error:  # a failed check returns early: not a valid timing
        raise ConfigError(f"configuration {index} ({kwargs}): llm-analysis: {error}") from None


def time_calls(count: int, configs: object) -> dict[str, Any]:
    if count < 1:
        raise ConfigError(f"time: N must be at least 1, got {count}")
    calls = prepare(configs)
    seconds = []
    clock = time.perf_counter
    start = clock()
    for i in range(count):
        index = i % len(calls)
        analysis, kwargs = calls[index]
        before = clock()
        call(analysis, kwargs, index)
        seconds.append(clock() - before)
    return {"seconds": seconds, "total_s": clock() - start}


def results(configs: object) -> dict[str, Any]:
    answers = []
    for index, (analysis, kwargs) in enumerate(prepare(configs)):
        summary = call(analysis, kwargs, index)
        answer = {key: summary[key] for key in RESULT_KEYS}
        answer["ffn_embed_dim"] = analysis.model_config.ffn_embed_dim
        answers.append(answer)
    return {"results": answers}


def answer(line: str) -> dict[str, Any] | None:
    """One server command -> its JSON answer; None for quit."""
    verb, _, rest = line.strip().partition(" ")
    if verb == "quit":
        return None
    if verb == "version":
        from importlib.metadata import version

        return {"version": version("llm-analysis"), "python": platform.python_version()}
    try:
        if verb == "time":
            count, _, payload = rest.strip().partition(" ")
            if not count.isdigit():
                raise ConfigError(f"time: N must be a whole number, got {count!r}")
            return time_calls(int(count), json.loads(payload))
        if verb == "results":
            return results(json.loads(rest))
        raise ConfigError(f"unknown command {verb!r} (time, results, version, quit)")
    except (ConfigError, json.JSONDecodeError) as error:
        return {"error": str(error)}


def serve(commands: TextIO, replies: TextIO) -> None:
    for line in commands:
        if not line.strip():
            continue
        reply = answer(line)
        if reply is None:
            return
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main(argv: list[str]) -> int:
    replies = sys.stdout
    sys.stdout = sys.stderr  # anything the peer prints must not corrupt the replies
    if argv == ["--server"]:
        serve(sys.stdin, replies)
        return 0
    if argv:
        print(f"usage: llm_analysis_worker.py [--server] (got {argv})", file=sys.stderr)
        return 2
    try:
        configs = json.load(sys.stdin)
        reply = time_calls(len(configs) if isinstance(configs, list) else 1, configs)
    except (ConfigError, json.JSONDecodeError) as error:
        print(f"llm_analysis_worker: {error}", file=sys.stderr)
        return 2
    replies.write(json.dumps({"seconds": reply["seconds"]}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
