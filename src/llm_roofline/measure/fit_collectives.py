"""Collectives: latency α(devices) and link efficiencies, fitted on measured all-reduces.

For one implementation (NCCL at 16 or 8 bits, TensorRT-LLM's custom all-reduce), with the
device's link bandwidth ``link`` (one direction, all scale-up links):

- α(n) = the smallest excess of a measured time over the message's in-switch bound
  M / link at n devices (the small-message latency floor);
- switch efficiency η(n, M), over devices and message bytes, with t = α(n) + M / (link·η):
  how fast the measured system (NVSwitch with NVLink SHARP) moved each message;
- ring efficiency η(sent), over the bytes each device sends, from the 2-device runs, where
  the ring and the in-switch algorithm move the same bytes: t = α(2) + sent / (link·η).
  A device without in-network reduction uses it with α(n) for its ring of n.
Fitted by ``fit.fit_curves``; values rounded as every table's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..engine.ops import COMMUNICATION, OpCost
from .fit import Sample, fit_curves, round_sig

COLLECTIVE_KEYS = {
    ("nccl", "fp16"): "nccl-16bit",
    ("nccl", "int8"): "nccl-8bit",
    ("trtllm_custom", "bf16"): "custom-16bit",
}


def all_reduce_op(devices: int, message_bytes: int) -> OpCost:
    """A ring all-reduce of an M-byte message over n devices: 2·(n−1)/n·M sent by each."""
    return OpCost(
        "all_reduce",
        COMMUNICATION,
        flops=0.0,
        comm_bytes=2 * (devices - 1) / devices * message_bytes,
        shape=(devices, message_bytes),
        family="all_reduce",
    )


def fit_collective(samples: Sequence[Sample], link: float) -> dict[str, Any]:
    """α, switch and ring curves (file form) of one implementation's measured all-reduces."""
    devices = np.array([float(s.op.shape[0]) for s in samples])
    message = np.array([float(s.op.shape[1]) for s in samples])
    sent = np.array([float(s.op.comm_bytes) for s in samples])
    t = np.array([s.time_s for s in samples])
    counts = sorted(set(devices.tolist()))
    alpha = {
        n: round_sig(max(0.0, float((t - message / link)[devices == n].min()))) for n in counts
    }
    fixed = np.array([alpha[n] for n in devices.tolist()])
    (switch,) = fit_curves(
        [(("devices", "bytes"), [devices, message], ("distinct", "pow2"), message / link)], t, fixed
    )
    two = devices == 2
    (ring,) = fit_curves(
        [(("bytes",), [sent[two]], ("pow2",), sent[two] / link)], t[two], fixed[two]
    )
    return {
        "alpha_s": {
            "over": ["devices"],
            "devices": counts,
            "efficiency": [alpha[n] for n in counts],
        },
        "ring": ring.to_dict(),
        "switch": switch.to_dict(),
    }
