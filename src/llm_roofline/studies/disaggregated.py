"""Disaggregated serving: x prefill replicas of one layout feed y decode replicas of another.

A request is prefilled alone on a prefill replica, its KV cache then crosses the
interconnect to a decode replica (TTFT = prefill + transfer; transfer = the fullest prefill
device's share of the request's KV cache / the link bandwidth, default the device's
interconnect), and decodes there without ever waiting for a prefill: TPOT = t_decode(B).
The pools' ratio is matched to the request rate they sustain together,
min(x / t_prefill, y·B / ((n − 1)·t_decode)) (plan_eval.disaggregated_rate); x and y are
searched over every split of each device total, for the best prefill and decode layouts
(by device-seconds per request) of each format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..inputs.units import format_bytes, format_seconds
from .plan_eval import Evaluated, Mix, RequestClass, disaggregated_rate
from .plan_result import Deployment, Limits
from .sweep import cost_per_million_tokens

TOP_LAYOUTS = 8  # prefill and decode layouts paired per format (by device-seconds/request)


@dataclass(frozen=True)
class Disaggregated:
    best: Deployment | None
    searched: int

    def comparison(self, aggregated: Deployment | None) -> str:
        """When disaggregation beats aggregated serving, and by how much (tokens/s per device)."""
        if self.best is None:
            return "no disaggregated deployment meets the limits"
        if aggregated is None:
            return f"only disaggregated serving meets the limits ({self.best.label()})"
        ratio = self.best.tokens_per_s_per_device / aggregated.tokens_per_s_per_device
        if ratio > 1:
            return (
                f"disaggregated serving beats aggregated by {100 * (ratio - 1):.0f}% tokens/s per device: "
                f"its decode steps never wait for prefills (TPOT {format_seconds(self.best.tpot_s)} at batch "
                f"{self.best.batch_size}, against {format_seconds(aggregated.tpot_s)} at batch {aggregated.batch_size} aggregated)"
            )
        return (
            f"aggregated serving wins by {100 * (1 / ratio - 1):.0f}% tokens/s per device: the prefill pool and "
            "the KV transfer cost more than the stalls they remove"
        )


def _pool(ev: Evaluated, replicas: int) -> dict[str, Any]:
    lay = ev.layout
    return {
        "layout": {"tensor": lay.tensor, "pipeline": lay.pipeline, "expert": lay.expert},
        "replicas": replicas,
        "chunk_size": ev.chunk_size,
    }


PrefillPick = tuple[float, Evaluated, float, float]  # device-s/request, layout, TTFT, transfer
DecodePick = tuple[float, Evaluated, int, float]  # device-s/request, layout, batch index, step


def _prefill_picks(
    evs: Sequence[Evaluated], mix: Mix, limits: Limits, usable: float, link: float | None
) -> list[PrefillPick]:
    """Prefill layouts that fit and meet the TTFT limit (prefill + KV transfer), cheapest first."""
    picks = []
    for ev in evs:
        transfer = ev.kv_bytes_per_device / link if link else np.full(len(ev.prefill_s), np.inf)
        ttft = float((ev.prefill_s + transfer).max())
        if ev.prefill_memory_bytes <= usable and (limits.ttft_s is None or ttft <= limits.ttft_s):
            cost = ev.devices * float(mix.prefill_s(ev.prefill_s))
            picks.append((cost, ev, ttft, float(transfer.max())))
    return sorted(picks, key=lambda x: x[0])[:TOP_LAYOUTS]


def _decode_picks(
    evs: Sequence[Evaluated], mix: Mix, lens: np.ndarray, limits: Limits, usable: float
) -> list[DecodePick]:
    """(layout, batch) pairs that fit and meet the TPOT limit, cheapest first."""
    picks = []
    for ev in evs:
        if ev.chunk_size is not None:
            continue  # decode replicas run no prefill: chunking does not apply
        steps = mix.decode_s(ev.decode_s, lens)
        for b in range(len(ev.batch)):
            step = float(steps[b])
            if ev.memory_bytes[b] <= usable and (limits.tpot_s is None or step <= limits.tpot_s):
                cost = ev.devices * mix.decode_steps * step / int(ev.batch[b])
                picks.append((cost, ev, b, step))
    return sorted(picks, key=lambda x: x[0])[:TOP_LAYOUTS]


def best_disaggregated(
    evaluated: Sequence[Evaluated],
    classes: Sequence[RequestClass],
    totals: Sequence[int],
    limits: Limits,
    prices: dict[str, float] | None,
    link_bytes_per_s: float | None,
) -> Disaggregated:
    """The best disaggregated deployment over every format and device total (or None)."""
    mix = Mix.of(classes)
    lens = np.asarray([c.output_len for c in classes], dtype=float)
    groups: dict[tuple[str, str, str], list[Evaluated]] = {}
    for ev in evaluated:
        key = (ev.hardware.id or ev.hardware.name, ev.workload.weight_dtype, ev.workload.kv_dtype)
        groups.setdefault(key, []).append(ev)
    best: tuple[float, Deployment] | None = None
    searched = 0
    for (hw_key, _wd, _kd), evs in groups.items():
        hw = evs[0].hardware
        usable = (1 - limits.reserve_fraction) * hw.memory_bytes
        prefill = _prefill_picks(
            evs, mix, limits, usable, link_bytes_per_s or hw.interconnect_bytes_per_s
        )
        decode = _decode_picks(evs, mix, lens, limits, usable)
        price = None if prices is None else prices[hw_key]
        for n in totals:
            for _pc, pev, ttft, transfer in prefill:
                for _dc, dev, b, step in decode:
                    tried, found = _split(n, pev, dev, b, step, mix, limits.requests_per_s)
                    searched += tried
                    if found is None:
                        continue
                    per_device, x, y = found
                    value = per_device if price is None else per_device / price
                    if best is None or value > best[0]:
                        pools = (pev, dev, b, x, y)
                        best = (
                            value,
                            _deployment(
                                pools, per_device, ttft, transfer, step, usable, price, classes
                            ),
                        )
    return Disaggregated(None if best is None else best[1], searched)


def _split(
    n: int,
    pev: Evaluated,
    dev: Evaluated,
    b: int,
    t_dec: float,
    mix: Mix,
    min_rate: float | None = None,
) -> tuple[int, tuple[float, int, int] | None]:
    """The best (tokens/s per device used, x, y) with x·D_p + y·D_d <= n that sustains
    ``min_rate`` requests/s (when given), and the splits tried."""
    xs = np.arange(1, n // pev.devices + 1)
    ys = np.arange(1, n // dev.devices + 1)
    if not len(xs) or not len(ys):
        return 0, None
    x, y = np.meshgrid(xs, ys, indexing="ij")
    used = x * pev.devices + y * dev.devices
    ok = used <= n
    rate = disaggregated_rate(
        x, float(mix.prefill_s(pev.prefill_s)), y, int(dev.batch[b]), t_dec, mix.decode_steps
    )
    if min_rate is not None:
        ok &= rate >= min_rate
    if not ok.any():
        return int(x.size), None
    per_device = np.where(ok, rate * mix.output_len / used, -np.inf)
    i = np.unravel_index(int(np.argmax(per_device)), per_device.shape)
    return int(x.size), (float(per_device[i]), int(x[i]), int(y[i]))


def _deployment(
    pools: tuple[Evaluated, Evaluated, int, int, int],
    per_device: float,
    ttft: float,
    transfer: float,
    t_dec: float,
    usable: float,
    price: float | None,
    classes: Sequence[RequestClass],
) -> Deployment:
    pev, dev, b, x, y = pools
    devices = x * pev.devices + y * dev.devices
    memory = max(float(dev.memory_bytes[b]), pev.prefill_memory_bytes)
    kv = float(pev.kv_bytes_per_device.max())
    why = (
        f"prefill on {x}× TP {pev.layout.tensor} PP {pev.layout.pipeline}, decode on {y}× TP {dev.layout.tensor} "
        f"PP {dev.layout.pipeline}: decode steps never wait for a prefill; each request's KV cache "
        f"({format_bytes(kv)} per prefill device for a {classes[0].prompt_len}-token prompt) crosses the link in "
        f"{format_seconds(transfer)}"
    )
    return Deployment(
        mode="disaggregated",
        hardware=dev.hardware.id or dev.hardware.name,
        devices=devices,
        layout={
            "tensor": dev.layout.tensor,
            "pipeline": dev.layout.pipeline,
            "expert": dev.layout.expert,
            "data": y,
        },
        batch_size=int(dev.batch[b]),
        weight_dtype=dev.workload.weight_dtype,
        kv_dtype=dev.workload.kv_dtype,
        chunk_size=pev.chunk_size,
        ttft_s=ttft,
        tpot_s=t_dec,
        tokens_per_s_per_device=per_device,
        tokens_per_s_per_user=1 / t_dec,
        tokens_per_s=per_device * devices,
        requests_per_s=per_device * devices / Mix.of(classes).output_len,
        memory_bytes_per_device=memory,
        memory_headroom_bytes=usable - memory,
        prefill_bound=pev.prefill_bound,
        decode_bound=str(dev.decode_bound[b]),
        cost_per_million_tokens=None
        if price is None
        else float(cost_per_million_tokens(price, 1, per_device)),
        why=why,
        prefill_pool=_pool(pev, x) | {"kv_transfer_s": transfer},
        decode_pool=_pool(dev, y) | {"batch_size": int(dev.batch[b])},
    )
