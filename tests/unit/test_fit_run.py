"""fit end to end on a tiny model: outputs, the stage cache, kill + --resume = uninterrupted, budget errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fit_data import write_collection
from safetensors.numpy import load_file

from crossrank.fit import FitConfig
from crossrank.fit.runner import STAGES, fit_run, run_stages

STAGE_NAMES = list(STAGES)


def _config(paths: dict[str, Path], bert: Path, out: Path, **extra: object) -> FitConfig:
    options = {"pairs": [str(paths["pairs"])], "corpus": str(paths["corpus"]), "base": str(bert),
               "embedder": str(bert), "out": str(out), "epochs": 0.5, "rerank_k": 20, "export": "none",
               "warm_lists": 16, **extra}
    return FitConfig(**options)  # type: ignore[arg-type]


def _outcome(out: Path) -> tuple[dict, dict]:
    results = json.loads((out / "results.json").read_text())
    results.pop("seconds")
    weights = load_file(str(out / "model" / "model.safetensors"))
    return results, weights


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, _tiny_bert_master: Path) -> dict:
    root = tmp_path_factory.mktemp("fit")
    paths = write_collection(root / "data")
    out = root / "whole"
    results = fit_run(_config(paths, _tiny_bert_master, out))
    return {"paths": paths, "bert": _tiny_bert_master, "out": out, "results": results, "root": root}


def test_outputs_and_report(finished: dict) -> None:
    out = finished["out"]
    for name in ("report.md", "report.html", "results.json", "model/config.json", "model/README.md"):
        assert (out / name).is_file(), name
    html = (out / "report.html").read_text()
    assert html.count("src='data:image/png;base64,") == 4 and "<link" not in html and "src='http" not in html
    report = (out / "report.md").read_text()
    for section in ("## Result on test", "## Choices (made on dev or the data, never on test)", "## Time per stage"):
        assert section in report
    table = finished["results"]["test"]["realistic"]
    assert set(table) == {"retriever", "reranker", "fused"}
    assert set(table["fused"]) == {"ndcg@10", "mrr@10", "map", "recall@10", "recall@20"}
    config = json.loads((out / "model" / "config.json").read_text())
    assert config["crossrank_fusion"]["weight"] == finished["results"]["fusion_weight"]
    # the retriever on dev on the basis of the reranked / fused figures (exact values: test_evaluators.py)
    assert set(finished["results"]["dev_first_stage"]) == {"map", "mrr@10", "ndcg@10"}
    assert finished["results"]["plan"]["learning_rate"] == 3e-5  # finetuning after the warm start (--warm-lists)
    assert sorted(p.name.split("-", 1)[1] for p in (out / "stages").iterdir()
                  if not p.name.startswith(".")) == sorted(STAGE_NAMES)


def test_rerun_without_resume_is_refused(finished: dict) -> None:
    with pytest.raises(ValueError, match="already holds a fit run .* pass --resume"):
        run_stages(_config(finished["paths"], finished["bert"], finished["out"]))


def test_resume_reuses_every_stage_and_an_option_change_reruns_downstream(finished: dict, tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "copy"
    shutil.copytree(finished["out"], out)
    fit_run(_config(finished["paths"], finished["bert"], out, resume=True))
    printed = capsys.readouterr().out
    assert printed.count(": cached (") == len(STAGE_NAMES)
    assert _outcome(out)[0] == _outcome(finished["out"])[0]
    fit_run(_config(finished["paths"], finished["bert"], out, resume=True, margin=0.5))
    printed = capsys.readouterr().out
    assert [line.split("]")[1].split(":")[0].strip() for line in printed.splitlines() if ": cached (" in line] == \
        STAGE_NAMES[: STAGE_NAMES.index("mine")]


FAST_KILLS = ("mine", "evaluate", "export")


@pytest.mark.parametrize("stage", [s if s in FAST_KILLS else pytest.param(s, marks=pytest.mark.slow)
                                   for s in STAGE_NAMES])
def test_kill_during_a_stage_then_resume_equals_uninterrupted(finished: dict, tmp_path: Path, stage: str) -> None:
    """The state a kill leaves: the stages before ``stage`` finished, ``stage``'s scratch folder half written."""
    out = tmp_path / "killed"
    shutil.copytree(finished["out"], out)
    for name in (*STAGE_NAMES[STAGE_NAMES.index(stage):], "model", "report.md", "report.html", "results.json"):
        for path in [*out.glob(f"stages/*-{name}"), out / name]:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    scratch = out / "stages" / f".work-{stage}"
    scratch.mkdir()
    (scratch / "partial.bin").write_bytes(b"half")
    fit_run(_config(finished["paths"], finished["bert"], out, resume=True))
    results, weights = _outcome(out)
    expected, expected_weights = _outcome(finished["out"])
    assert results == expected
    assert weights.keys() == expected_weights.keys()
    assert all((weights[k] == expected_weights[k]).all() for k in weights)
    assert not scratch.exists()


def test_sigkill_during_training_then_resume_equals_uninterrupted(finished: dict, tmp_path: Path) -> None:
    """A real kill: the CLI in a subprocess gets SIGKILL once the train stage has started writing."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "sigkill"
    config = _config(finished["paths"], finished["bert"], out)
    entry = "import sys; from crossrank.cli import main; sys.exit(main())"
    command = [sys.executable, "-c", entry, "fit", *config.pairs, "--corpus", str(config.corpus),
               "--base", config.base, "--embedder", config.embedder, "--out", str(out), "--epochs", "0.5",
               "--rerank-k", "20", "--export", "none", "--warm-lists", "16"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (out / "stages" / ".work-train" / "checkpoints").exists() and process.poll() is None:
        assert time.monotonic() < deadline, "the train stage never started"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not list(out.glob("stages/[0-9]*-train"))
    fit_run(_config(finished["paths"], finished["bert"], out, resume=True))
    results, weights = _outcome(out)
    expected, expected_weights = _outcome(finished["out"])
    assert results == expected
    assert all((weights[k] == expected_weights[k]).all() for k in weights)


def test_budget_too_small_fails_before_retrieval(finished: dict, tmp_path: Path) -> None:
    out = tmp_path / "tight"
    with pytest.raises(ValueError) as err:
        fit_run(_config(finished["paths"], finished["bert"], out, time_budget="2s", epochs=None))
    message = str(err.value)
    assert "\n" not in message
    # 36 train lists of 1 positive + 3 hard + 1 random negatives: the smallest epoch the plan tries
    assert message.startswith("the time budget of 0.0 min is too small for one epoch: 180 training pairs take ")
    assert "the minimum measured here is" in message and "Pass --time-budget" in message
    assert not list(out.glob("stages/[0-9]*-first_stage"))


def test_export_stage_writes_onnx_through_the_parity_gate(finished: dict, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from crossrank.fit.export import export_model, summary

    payload = export_model(finished["out"] / "model", tmp_path, "fp32")
    assert payload["files"] == ["onnx/model.onnx"] and (tmp_path / "onnx" / "onnx" / "model.onnx").is_file()
    assert summary(payload) == "ONNX through the parity gate: onnx/model.onnx"
    assert export_model(finished["out"] / "model", tmp_path, "none") == {"skipped": "--export none"}


def test_export_gate_checks_on_the_dev_lists(finished: dict, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from crossrank.fit.export import GATE_DEPTH, export_model, gate_lists

    ctx = run_stages(_config(finished["paths"], finished["bert"], finished["out"], resume=True))  # all cached
    first, dev = ctx.payloads["first_stage"], ctx.payloads["split"]["dev"]
    lists = gate_lists(ctx.payloads["validate"], dev, first["runs"][first["chosen"]], 0)
    queries = {ctx.payloads["validate"]["queries"][q] for q in dev}
    assert 0 < len(lists) <= len(dev) and {item.query for item in lists} <= queries
    assert all(len(item.documents) == GATE_DEPTH and len(item.gains) == GATE_DEPTH for item in lists)
    payload = export_model(finished["out"] / "model", tmp_path, "fp32", lists)
    assert payload["reports"][0]["pairs"] == GATE_DEPTH * len(lists)
