"""Export to ONNX and int8: ``export_onnx`` (and ``crossrank export``).

``onnx_export.py`` (tracing), ``fuse.py`` (ONNX Runtime's transformer fusions), ``targets.py`` (int8 flavours
and CPU detection), ``quantize.py`` (ONNX Runtime's dynamic quantizer), ``check_data.py`` / ``scoring.py`` /
``parity.py`` (the parity gate), ``api.py`` (the atomic folder write).
"""

from __future__ import annotations

from crossrank.export.api import ExportRefused, ExportResult, export_onnx
from crossrank.export.parity import Thresholds

__all__ = ["ExportRefused", "ExportResult", "Thresholds", "export_onnx"]
