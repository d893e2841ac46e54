"""The peer-speed baseline: llm-analysis 0.2.2 timed on the same configurations as ours.

llm-analysis is never a dependency: it lives in its own venv (``bash benchmarks/peer_venv.sh``
makes benchmarks/.peer-venv) and runs in its own process (benchmarks/llm_analysis_worker.py),
which this module drives over a pipe, one command a line. Standard library only, plus our own
inputs (``Model``, ``Hardware``, ``Workload``) for the mapping.

    from peer import PeerWorker, fresh_workloads, peer_config, interleaved_per_call_s
    with PeerWorker() as worker:
        seconds = worker.time_calls([peer_config(model, hw, w) for w in fresh_workloads(50)])
    ours, theirs = interleaved_per_call_s(lambda w: analyze(model, hw, w), model, hw)

What the peer sees of a model: hidden size, layers, heads, KV heads, the FFN size (of one
expert for MoE, with its expert count and top-k), vocabulary and maximum sequence length. It
has no gated MLP, MLA, shared experts or sliding windows; only its speed is compared.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from llm_roofline import Hardware, Model, Workload
from llm_roofline.inputs.dtypes import bytes_per_element

HERE = Path(__file__).resolve().parent
PEER_VENV = HERE / ".peer-venv"
WORKER = HERE / "llm_analysis_worker.py"
PEER_BITS = (4, 8, 16)  # the widths llm-analysis accepts for weights and activations

# Fresh configurations: the k-th has batch BATCHES[k % 6] and prompt 512 + k % 3583; 6 and the
# prime 3583 are coprime, so the first 6 × 3583 = 21,498 configurations of a process are all
# distinct (Chinese remainder theorem). Every size fits llm-analysis's memory checks for
# Llama-3.1-8B and Mixtral-8x7B on one H100 (80 GB).
BATCHES = (1, 2, 4, 8, 16, 32)
FIRST_PROMPT = 512
PROMPT_PERIOD = 3583
_next_index = itertools.count()


class PeerError(RuntimeError):
    """The peer is not installed, its worker died, or it rejected a configuration."""


def peer_python() -> Path:
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        raise PeerError(f"no peer venv at {PEER_VENV}: run `bash benchmarks/peer_venv.sh` first")
    return python


def fresh_workloads(count: int, *, output_len: int = 256) -> list[Workload]:
    """``count`` workloads never returned before in this process (prompt and batch vary)."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    workloads = []
    for _ in range(count):
        k = next(_next_index)
        batch = BATCHES[k % len(BATCHES)]
        prompt = FIRST_PROMPT + k % PROMPT_PERIOD
        workloads.append(Workload(batch_size=batch, prompt_len=prompt, output_len=output_len))
    return workloads


def _bits(field: str, dtype: str) -> int:
    bits = round(bytes_per_element(dtype) * 8)
    if bits not in PEER_BITS:
        raise ValueError(f"{field}={dtype!r}: llm-analysis takes only {PEER_BITS}-bit types")
    return bits


def peer_config(model: Model, hardware: Hardware, workload: Workload) -> dict[str, Any]:
    """Our inputs as the worker's JSON configuration (SI units; the worker converts them)."""
    peak = hardware.peak_flops_per_s.get("bf16") or hardware.peak_flops_per_s.get("fp16")
    if not peak:
        raise ValueError(f"hardware {hardware.name!r} has no bf16/fp16 peak for llm-analysis")
    moe = model.moe
    return {
        "name": model.name,
        "hidden_size": model.hidden_size,
        "num_layers": model.num_layers,
        "num_attention_heads": model.num_attention_heads,
        "num_key_value_heads": model.num_key_value_heads,
        "intermediate_size": moe.expert_intermediate_size if moe else model.intermediate_size,
        "vocab_size": model.vocab_size,
        "max_seq_len": model.max_position_embeddings,
        "num_experts": moe.num_experts if moe else 1,
        "experts_per_token": moe.experts_per_token if moe else 1,
        "hardware": hardware.id or hardware.name,
        "peak_flops_per_s": peak,
        "bandwidth_bytes_per_s": hardware.bandwidth_bytes_per_s,
        "memory_bytes": hardware.memory_bytes,
        "interconnect_bytes_per_s": hardware.interconnect_bytes_per_s or 0.0,  # unused at TP 1
        "compute_efficiency": hardware.compute_efficiency,
        "bandwidth_efficiency": hardware.bandwidth_efficiency,
        "batch_size": workload.batch_size,
        "prompt_len": workload.prompt_len,
        "output_len": workload.output_len,
        "weight_bits": _bits("weight_dtype", workload.weight_dtype),
        "activation_bits": _bits("activation_dtype", workload.activation_dtype),
        "kv_bits": _bits("kv_dtype", workload.kv_dtype),
    }


class PeerWorker:
    """The llm-analysis worker in server mode; use as a context manager."""

    def __init__(self) -> None:
        python = peer_python()
        self._log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115  (lives as long as the worker; closed in close())
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        self._process = subprocess.Popen(
            [str(python), str(WORKER), "--server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
        )

    def _ask(self, command: str) -> dict[str, Any]:
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None  # both are pipes (see __init__)
        try:
            stdin.write(command + "\n")
            stdin.flush()
            line = stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            self._log.seek(0)
            raise PeerError(f"the llm-analysis worker died; it said: {self._log.read()[-2000:]}")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise PeerError(f"llm-analysis worker: {reply['error']}")
        return reply

    def version(self) -> str:
        return str(self._ask("version")["version"])

    def time_calls(
        self, configs: Sequence[dict[str, Any]], calls: int | None = None
    ) -> list[float]:
        """Seconds of each ``inference`` call; ``calls`` (default: one per config) cycles them."""
        count = len(configs) if calls is None else calls
        reply = self._ask(f"time {count} {json.dumps(list(configs))}")
        return [float(s) for s in reply["seconds"]]

    def configs_per_s(self, configs: Sequence[dict[str, Any]]) -> float:
        """Configurations analyzed per second: one ``inference`` call each, back to back."""
        reply = self._ask(f"time {len(configs)} {json.dumps(list(configs))}")
        return len(configs) / float(reply["total_s"])

    def results(self, configs: Sequence[dict[str, Any]]) -> list[dict[str, float]]:
        """A few of the peer's outputs per configuration (seconds, bytes, its FFN size)."""
        answers: list[dict[str, float]] = self._ask(f"results {json.dumps(list(configs))}")[
            "results"
        ]
        return answers

    def close(self) -> None:
        """Ask the worker to quit (it answers nothing) and wait for it; kill it if it hangs."""
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        if self._process.poll() is None:
            try:
                stdin.write("quit\n")
                stdin.close()
            except OSError:  # it has gone already: a broken pipe
                pass
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        stdout.close()
        self._log.close()

    def __enter__(self) -> PeerWorker:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def peer_per_call_s(model: Model, hardware: Hardware, count: int = 100) -> list[float]:
    """llm-analysis's seconds per ``inference`` call on ``count`` fresh configurations."""
    configs = [peer_config(model, hardware, w) for w in fresh_workloads(count)]
    with PeerWorker() as worker:
        worker.time_calls(configs[: min(10, count)])  # warm-up: first calls page code in
        return worker.time_calls(configs)


def peer_configs_per_s(model: Model, hardware: Hardware, count: int = 1000) -> float:
    """llm-analysis's configurations per second (it has no batch mode: one call each)."""
    configs = [peer_config(model, hardware, w) for w in fresh_workloads(count)]
    with PeerWorker() as worker:
        worker.time_calls(configs[: min(10, count)])
        return worker.configs_per_s(configs)


def interleaved_per_call_s(
    ours: Callable[[Workload], object],
    model: Model,
    hardware: Hardware,
    *,
    rounds: int = 5,
    calls: int = 40,
    worker: PeerWorker | None = None,
) -> tuple[list[float], list[float]]:
    """Per-call seconds of ``ours(workload)`` and of llm-analysis, in alternating rounds.

    Each round draws ``calls`` fresh workloads and times both tools on the same ones; the
    order alternates between rounds so a change in the machine's load hits both alike.
    """
    own = worker is None
    peer = PeerWorker() if worker is None else worker
    ours_s: list[float] = []
    peer_s: list[float] = []
    try:
        warm = fresh_workloads(5)
        peer.time_calls([peer_config(model, hardware, w) for w in warm])
        for workload in warm:
            ours(workload)
        for index in range(rounds):
            workloads = fresh_workloads(calls)
            configs = [peer_config(model, hardware, w) for w in workloads]
            if index % 2:
                peer_s += peer.time_calls(configs)
            for workload in workloads:
                start = time.perf_counter()
                ours(workload)
                ours_s.append(time.perf_counter() - start)
            if not index % 2:
                peer_s += peer.time_calls(configs)
    finally:
        if own:
            peer.close()
    return ours_s, peer_s
