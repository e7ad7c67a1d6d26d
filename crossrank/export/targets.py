"""int8 targets: which ONNX file name each CPU family gets, with which quantizer settings, and ``auto``.

The settings were chosen by measurement on all-MiniLM-L6-v2 rerankers and WikiQA pairs (see
``bench/bench_inference.py`` and the comment on :data:`TARGETS`).
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path

QUANTIZE_CHOICES = ("auto", "avx2", "avx512", "avx512_vnni", "arm64", "none")


@dataclass(frozen=True)
class QuantTarget:
    """One int8 flavour: its file under ``onnx/`` and the ``quantize_dynamic`` settings it is written with."""

    name: str
    file_name: str
    weight_type: str  # "QUInt8" | "QInt8"
    per_channel: bool
    reduce_range: bool
    fallback: QuantTarget | None = None  # written instead when the parity gate refuses these settings

    def settings(self) -> list[QuantTarget]:
        """These settings, then each fallback in turn."""
        return [self, *(self.fallback.settings() if self.fallback else [])]

    def describe(self) -> str:
        bits = "7-bit" if self.reduce_range else "8-bit"
        scales = "per-channel" if self.per_channel else "per-tensor"
        return f"{'u8' if self.weight_type == 'QUInt8' else 's8'} {bits} {scales} weights"


# Dynamic quantization turns each MatMul into an integer matrix product of u8 activations and int8 weights.
# On AVX2 without VNNI, ONNX Runtime's u8 x s8 kernel multiplies with vpmaddubsw, which adds pairs of u8*s8
# products into a *saturating* int16: with full-range s8 weights a pair can reach 2*255*127 = 64770 > 32767,
# and the scores drift (the classic trap). reduce_range=True quantizes the weights to 7 bits (-64..63), so a
# pair stays within 2*255*64 = 32640 and cannot saturate. The u8 x u8 kernel is saturation-free too but widens
# to int16 first, so it multiplies half as many values per instruction: its int8 gains little over fp32.
# Per-channel scales matter as much: in all-MiniLM-L6-v2 the largest |weight| of one output channel is
# ~4x that of another in the median linear layer and up to ~60x (layer 0's FFN output), so one scale per
# tensor leaves the small channels only a few levels (s8 per-tensor lost 0.35 MAP points below).
# Measured (bench/results/quantization.md: a trained MiniLM-L6 reranker, 2,350 WikiQA test pairs, this AVX2
# machine, 2026-12-01; one pass each, so the rates are noisy), MAP change vs torch / pairs/s: u8 per-channel
# +0.20 / 168; s8 per-channel +0.09 / 170; s8 per-channel reduce_range +0.17 / 184; s8 per-tensor -0.35 / 181
# (ONNX fp32: 130). bench/bench_inference.py (best of 2 rounds, 2,000 pairs), run before and after the switch,
# put u8 per-channel at 167 and s8 per-channel reduce_range at 195 pairs/s.
# So avx2 takes s8, per channel, reduce_range: the fastest setting
# that cannot saturate and keeps the metric. On a reranker whose head is not trained (scores close together)
# every int8 setting costs more (u8 per-channel -0.77, s8 reduce_range -1.49 MAP points): the parity gate
# judges each export on its own model, and when it refuses the 7-bit file, the same file name is written with
# u8 8-bit weights (slower, one more bit of precision) and judged again. (The file keeps the name ONNX
# Runtime users look for on AVX2, ``model_quint8_avx2.onnx``; activations are u8 in every file.)
# VNNI (vpdpbusd accumulates u8*s8 straight into int32) and ARM's dot-product instructions have no
# saturation, so they take s8 weights, per channel, full range (the files ONNX Runtime users expect).
TARGETS: dict[str, QuantTarget] = {
    "avx2": QuantTarget("avx2", "onnx/model_quint8_avx2.onnx", "QInt8", per_channel=True, reduce_range=True,
                        fallback=QuantTarget("avx2", "onnx/model_quint8_avx2.onnx", "QUInt8", per_channel=True,
                                             reduce_range=False)),
    "avx512": QuantTarget("avx512", "onnx/model_qint8_avx512.onnx", "QInt8", per_channel=True, reduce_range=False),
    "avx512_vnni": QuantTarget("avx512_vnni", "onnx/model_qint8_avx512_vnni.onnx", "QInt8", per_channel=True,
                               reduce_range=False),
    "arm64": QuantTarget("arm64", "onnx/model_qint8_arm64.onnx", "QInt8", per_channel=True, reduce_range=False),
}


def cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> set[str]:
    """The CPU feature flags of the first processor listed in ``cpuinfo`` (empty off Linux)."""
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def detect_target(flags: set[str] | None = None, machine: str | None = None) -> str:
    """The int8 target of this CPU: arm64, avx512_vnni, avx512 or avx2 (from ``/proc/cpuinfo``).

    Raises:
        ValueError: on a CPU with none of them.
    """
    machine = (machine or platform.machine()).lower()
    if machine in ("arm64", "aarch64"):
        return "arm64"
    flags = cpu_flags() if flags is None else flags
    if "avx512_vnni" in flags or "avx512vnni" in flags:
        return "avx512_vnni"
    if {"avx512f", "avx512bw"} <= flags:
        return "avx512"
    if "avx2" in flags:
        return "avx2"
    raise ValueError(
        f"--quantize auto found no int8 target on this CPU ({machine}, no avx2/avx512/arm64 flags); "
        "pass --quantize avx2|avx512|avx512_vnni|arm64 to write a file for another machine."
    )


def resolve_target(quantize: str | None) -> QuantTarget | None:
    """The target named by ``quantize`` (``auto`` detects it; ``none``/None: no int8 file)."""
    if quantize in (None, "none"):
        return None
    if quantize not in QUANTIZE_CHOICES:
        raise ValueError(f"quantize must be one of {', '.join(QUANTIZE_CHOICES)}; found {quantize!r}.")
    return TARGETS[detect_target() if quantize == "auto" else quantize]
