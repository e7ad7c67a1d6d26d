"""int8 dynamic quantization with ONNX Runtime's own quantizer (``onnxruntime.quantization.quantize_dynamic``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from crossrank.export.targets import QuantTarget
from crossrank.inference.onnx_backend import import_onnxruntime

# the matrix products (plain MatMul and ONNX Runtime's fused Attention, whose QKV projection is one); the
# embedding tables stay fp32: a lookup gains no speed from int8 and quantized embeddings only add error
QUANTIZED_OPS = ("MatMul", "Attention")


def quantize_file(fp32_path: Path, out_path: Path, target: QuantTarget) -> Path:
    """Write the int8 model of ``fp32_path`` for ``target`` to ``out_path``."""
    import_onnxruntime()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out_path.parent.mkdir(parents=True, exist_ok=True)
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # the quantizer logs a line per tensor on the root logger; restored below
    try:
        _quantize(quantize_dynamic, QuantType, fp32_path, out_path, target)
    finally:
        logging.disable(previous)
    return out_path


def _quantize(quantize_dynamic: Any, quant_type: Any, fp32_path: Path, out_path: Path, target: QuantTarget) -> None:
    quantize_dynamic(
        str(fp32_path), str(out_path), weight_type=getattr(quant_type, target.weight_type),
        per_channel=target.per_channel, reduce_range=target.reduce_range, op_types_to_quantize=list(QUANTIZED_OPS),
        # graphs with ONNX Runtime's fused ops carry no type for some tensors; they are all float32
        extra_options={"DefaultTensorType": 1},
    )
