"""ONNX export and the ONNX Runtime backend on tiny BERTs: parity, loading rules, errors, the CLI."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from crossrank import CrossEncoder, export_onnx  # noqa: E402
from crossrank.cli import main  # noqa: E402
from crossrank.embedder import Embedder  # noqa: E402
from crossrank.export.targets import TARGETS, detect_target  # noqa: E402

PAIRS = [
    ("what is the capital of france", "paris is the capital of france"),
    ("who was born in paris", "the king was born in the city"),
    ("a", "the cat is an animal and the dog is an animal too, which animal is the largest of them all"),
    ("how big is the sun", "the sun is a star"),
    ("what", "water"),
]


@pytest.fixture
def exported(tiny_bert: Path, tmp_path: Path) -> Path:
    return export_onnx(tiny_bert, tmp_path / "tiny-onnx").folder


@pytest.mark.parametrize("num_labels", [1, 3])
def test_fp32_logits_equal_torch(tmp_path: Path, num_labels: int) -> None:
    from tests.conftest import build_tiny_bert

    folder = build_tiny_bert(tmp_path / "bert", num_labels=num_labels, seed=3)
    result = export_onnx(folder, tmp_path / "out")
    assert result.files == ["onnx/model.onnx"] and result.kind == "reranker"
    torch_model = CrossEncoder(result.folder, device="cpu")
    onnx_model = CrossEncoder(result.folder, backend="onnx")
    for batch_size in (1, 2, 32):  # padded batches of several shapes
        np.testing.assert_allclose(onnx_model.logits(PAIRS, batch_size=batch_size), torch_model.logits(PAIRS),
                                   atol=1e-4, rtol=0)
    assert onnx_model.logits(PAIRS).shape == (len(PAIRS), num_labels)
    report = json.loads((result.folder / "onnx" / "export_report.json").read_text())
    assert report[0]["file"] == "onnx/model.onnx" and report[0]["max_abs_diff"] < 1e-4


def test_folder_travels_and_predict_rank_match(exported: Path, tiny_bert: Path) -> None:
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"):
        assert (exported / name).is_file(), name
    config = json.loads((exported / "config.json").read_text())
    assert config["sentence_transformers"]["activation_fn"] == "torch.nn.modules.activation.Sigmoid"
    torch_model, onnx_model = CrossEncoder(tiny_bert, device="cpu"), CrossEncoder(exported, backend="onnx")
    np.testing.assert_allclose(onnx_model.predict(PAIRS), torch_model.predict(PAIRS), atol=1e-5)
    assert onnx_model.predict(PAIRS[0]).shape == ()
    docs = [d for _, d in PAIRS]
    ranked_onnx, ranked_torch = onnx_model.rank("the capital", docs), torch_model.rank("the capital", docs)
    assert [r["corpus_id"] for r in ranked_onnx] == [r["corpus_id"] for r in ranked_torch]


def test_fused_and_plain_graphs(tiny_bert: Path, tmp_path: Path) -> None:
    import onnx

    fused = export_onnx(tiny_bert, tmp_path / "fused").folder / "onnx" / "model.onnx"
    plain = export_onnx(tiny_bert, tmp_path / "plain", fuse=False).folder / "onnx" / "model.onnx"
    assert "Attention" in {n.op_type for n in onnx.load(str(fused)).graph.node}
    plain_graph = onnx.load(str(plain)).graph
    assert {n.domain for n in plain_graph.node} <= {"", "ai.onnx"}
    assert [i.name for i in plain_graph.input] == ["input_ids", "attention_mask", "token_type_ids"]
    assert [o.name for o in plain_graph.output] == ["logits"]
    assert plain_graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert plain_graph.input[0].type.tensor_type.shape.dim[1].dim_param == "sequence"


def test_file_selection_and_log(exported: Path, caplog: pytest.LogCaptureFixture) -> None:
    shutil.copy(exported / "onnx" / "model.onnx", exported / "onnx" / "model_quint8_avx2.onnx")
    with caplog.at_level("INFO", logger="crossrank.model"):
        model = CrossEncoder(exported, backend="onnx")
    assert model.backend.path == exported / "onnx" / "model.onnx"
    assert model.engine.batch_overhead_tokens == 16  # ONNX Runtime's own per-call cost, lower than eager torch's
    assert "other ONNX files in the folder: onnx/model_quint8_avx2.onnx" in caplog.text
    picked = CrossEncoder(exported, backend="onnx", file_name="onnx/model_quint8_avx2.onnx")
    assert picked.backend.path.name == "model_quint8_avx2.onnx"
    shutil.move(exported / "onnx" / "model.onnx", exported / "model.onnx")  # the root location works too
    assert CrossEncoder(exported, backend="onnx").backend.path == exported / "model.onnx"


def test_bad_inputs(exported: Path, tiny_bert: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FileNotFoundError) as info:
        CrossEncoder(exported, backend="onnx", file_name="onnx/model_qint8_arm64.onnx")
    assert str(info.value) == (
        f"ONNX file 'onnx/model_qint8_arm64.onnx' not found in {str(exported)!r}; the ONNX files there are: "
        "onnx/model.onnx. Pass one of them as file_name, or write it with crossrank export."
    )
    with pytest.raises(FileNotFoundError, match=r"holds no ONNX model .*; write one with: crossrank export "):
        CrossEncoder(tiny_bert, backend="onnx")
    (exported / "onnx" / "model.onnx").write_bytes(b"not an onnx file")
    with pytest.raises(ValueError, match=r"ONNX file '.*model.onnx' could not be loaded .* crossrank export"):
        CrossEncoder(exported, backend="onnx")
    with pytest.raises(ValueError, match="backend must be 'torch' or 'onnx'; found 'tf'."):
        CrossEncoder(tiny_bert, backend="tf")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pass backend='onnx' with them"):
        CrossEncoder(tiny_bert, file_name="onnx/model.onnx")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ImportError) as missing:
        CrossEncoder(exported, backend="onnx")
    assert str(missing.value) == ("the ONNX backend needs onnxruntime, which is not installed; run: "
                                  "pip install 'crossrank[onnx]'")


def test_onnx_model_cannot_be_trained_or_saved(exported: Path, tmp_path: Path) -> None:
    from crossrank import Trainer, TrainingArguments

    model = CrossEncoder(exported, backend="onnx")
    message = r"runs on ONNX Runtime \(backend='onnx'\) and has no PyTorch weights to train"
    with pytest.raises(RuntimeError, match=message):
        Trainer(model, TrainingArguments(output_dir=str(tmp_path / "run"), report_to="none"))
    with pytest.raises(RuntimeError, match=message):
        model.save_pretrained(tmp_path / "copy")


def test_cli_export_rank_evaluate(tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli-onnx"
    assert main(["export", str(tiny_bert), "--out", str(out)]) == 0
    assert f"wrote {out} (reranker): onnx/model.onnx" in capsys.readouterr().out
    args = ["rank", str(out), "--query", "the capital", "--documents", "paris is the capital", "a dog", "--json"]
    assert main(args) == 0
    torch_ranked = json.loads(capsys.readouterr().out)
    assert main([*args, "--backend", "onnx"]) == 0
    onnx_ranked = json.loads(capsys.readouterr().out)
    assert [r["corpus_id"] for r in onnx_ranked] == [r["corpus_id"] for r in torch_ranked]
    assert [r["score"] for r in onnx_ranked] == pytest.approx([r["score"] for r in torch_ranked], abs=1e-6)
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps({"query": q, "document": d, "label": i % 2}) + "\n"
                            for i, (q, d) in enumerate(PAIRS)))
    assert main(["evaluate", str(out), "--data", str(data), "--evaluator", "reranking", "--backend", "onnx"]) == 0
    assert "primary metric: ndcg@10 = " in capsys.readouterr().out
    assert main(["rank", str(tiny_bert), "--query", "q", "--documents", "d", "--backend", "onnx"]) == 2
    assert "holds no ONNX model" in capsys.readouterr().err
    assert main(["export", str(tiny_bert), "--out", str(tmp_path / "x"), "--check-data", "missing.jsonl"]) == 2
    assert "check data 'missing.jsonl' does not exist" in capsys.readouterr().err


def test_embedder_onnx_matches_torch(tiny_bert: Path, tmp_path: Path) -> None:
    from tests.unit.test_embedder import _st_folder

    folder = _st_folder(tiny_bert)
    result = export_onnx(folder, tmp_path / "emb-onnx")
    assert result.kind == "embedder" and (result.folder / "modules.json").is_file()
    texts = ["the cat", "what is the capital of france", "a", "the largest planet " * 5]
    torch_vectors = Embedder(result.folder, backend="transformers").encode(texts, batch_size=2)
    onnx_embedder = Embedder(result.folder, backend="onnx")
    assert onnx_embedder.backend == "onnx"
    np.testing.assert_allclose(onnx_embedder.encode(texts, batch_size=2), torch_vectors, atol=1e-5)
    np.testing.assert_allclose(onnx_embedder.encode(texts, prompt_name="query"),
                               Embedder(result.folder).encode(texts, prompt_name="query"), atol=1e-5)


def test_quantize_targets() -> None:
    assert detect_target({"avx2", "fma"}, "x86_64") == "avx2"
    assert detect_target({"avx2", "avx512f", "avx512bw"}, "x86_64") == "avx512"
    assert detect_target({"avx2", "avx512f", "avx512bw", "avx512_vnni"}, "x86_64") == "avx512_vnni"
    assert detect_target(set(), "aarch64") == "arm64"
    with pytest.raises(ValueError, match="--quantize auto found no int8 target on this CPU"):
        detect_target({"sse4_2"}, "x86_64")
    assert {t.file_name for t in TARGETS.values()} == {
        "onnx/model_quint8_avx2.onnx", "onnx/model_qint8_avx512.onnx", "onnx/model_qint8_avx512_vnni.onnx",
        "onnx/model_qint8_arm64.onnx"}


def test_avx2_target_cannot_saturate() -> None:
    # u8 activations (0..255) times 7-bit s8 weights: a vpmaddubsw pair sum stays within int16
    avx2 = TARGETS["avx2"]
    assert (avx2.weight_type, avx2.per_channel, avx2.reduce_range) == ("QInt8", True, True)
    assert 2 * 255 * 64 <= 32767


def test_gate_judges_labelled_lists_by_map_and_unlabelled_by_top1() -> None:
    from crossrank.export.check_data import CandidateList
    from crossrank.export.parity import Thresholds, compare, refusal

    docs = ["a", "b", "c"]
    torch_scores = np.array([3.0, 2.9, 0.0, 3.0, 2.9, 0.0])
    flipped = np.array([2.9, 3.0, 0.0, 2.9, 3.0, 0.0])  # both lists swap their two (equally relevant) top documents
    labelled = [CandidateList("q1", docs, [1, 1, 0]), CandidateList("q2", docs, [1, 1, 0])]
    report = compare("int8.onnx", labelled, torch_scores, flipped, torch_scores, flipped, quantized=True)
    assert report.top1_agreement == 0.0 and report.metrics["onnx"]["map"] == 1.0
    assert refusal(report, Thresholds(min_spearman=0.0)) is None
    unlabelled = [CandidateList("q1", docs), CandidateList("q2", docs)]
    report = compare("int8.onnx", unlabelled, torch_scores, flipped, torch_scores, flipped, quantized=True)
    assert refusal(report, Thresholds(min_spearman=0.0)) == "top-1 agreement 0.000 with torch is below 0.85"
    worse = np.array([0.0, 2.9, 3.0, 0.0, 2.9, 3.0])
    report = compare("int8.onnx", labelled, torch_scores, worse, torch_scores, worse, quantized=True)
    assert refusal(report, Thresholds(min_spearman=-1.0)) == "MAP drops by 0.4167 (limit 0.01)"


def test_candidate_lists_without_documents_are_refused(tiny_bert: Path, tmp_path: Path) -> None:
    from crossrank.export.check_data import CandidateList

    with pytest.raises(ValueError) as info:
        export_onnx(tiny_bert, tmp_path / "out", check_data=[CandidateList("q", [])])
    assert str(info.value) == "check data holds no (query, document) pairs; pass candidate lists with documents."
    assert not (tmp_path / "out").exists()
