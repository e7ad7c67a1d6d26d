"""fit's validate and split stages: column detection, input forms, bad-input messages, split determinism."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fit_data import write_collection

from crossrank.fit.config import FitConfig, parse_duration
from crossrank.fit.split import split_queries
from crossrank.fit.validate import validate


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_rows_file_columns_detected_and_missing_documents_added(tmp_path: Path) -> None:
    paths = write_collection(tmp_path)
    rows = [json.loads(line) for line in paths["pairs"].read_text().splitlines()]
    rows.append({"query": rows[0]["query"], "document": "a document the corpus lacks entirely"})
    rows.append(dict(rows[1]))  # duplicate row
    pairs = _jsonl(tmp_path / "pairs2.jsonl", rows)
    out = validate(FitConfig(pairs=[str(pairs)], corpus=str(paths["corpus"])))
    assert out["notes"]["columns"][0].endswith("text 'text', id '_id', title 'title'")
    assert "query 'query', document 'document', label none" in out["notes"]["columns"][1]
    assert out["notes"]["added_documents"] == 1 and out["notes"]["duplicate_rows"] == 1
    assert out["stats"]["documents"] == 121 and out["stats"]["answered_queries"] == 60
    assert out["stats"]["positives_per_query"]["max"] == 2


def test_queries_file_with_qrels_and_id_lists(tmp_path: Path) -> None:
    paths = write_collection(tmp_path)
    queries = [json.loads(line) for line in (paths["beir"] / "queries.jsonl").read_text().splitlines()]
    claims = _jsonl(tmp_path / "claims.jsonl", [{**q, "cited_doc_ids": [f"d{(i * 2) % 120}"]}
                                                for i, q in enumerate(queries)])
    by_ids = validate(FitConfig(pairs=[str(claims)], corpus=str(paths["corpus"])))
    assert "query 'text', document 'cited_doc_ids' (document ids)" in by_ids["notes"]["columns"][1]
    with_qrels = validate(FitConfig(pairs=[str(claims), str(paths["beir"] / "qrels" / "train.tsv")],
                                    corpus=str(paths["corpus"])))
    assert with_qrels["qrels"] == by_ids["qrels"]
    folder = validate(FitConfig(pairs=[str(paths["beir"])]))
    assert folder["qrels"] == by_ids["qrels"] and len(folder["corpus"]) == 120


def test_bad_columns_is_one_line(tmp_path: Path) -> None:
    paths = write_collection(tmp_path)
    bad = _jsonl(tmp_path / "bad.jsonl", [{"x": 1, "y": 2.5}] * 3)
    with pytest.raises(ValueError) as err:
        validate(FitConfig(pairs=[str(bad)], corpus=str(paths["corpus"])))
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{bad}: no usable query/document columns: found x (number), y (number); expected a "
                              "query column")


def test_unknown_document_ids_are_an_error(tmp_path: Path) -> None:
    paths = write_collection(tmp_path)
    pairs = _jsonl(tmp_path / "ids.jsonl", [{"query": "what", "doc_id": "nope"}])
    with pytest.raises(ValueError, match=r"name 1 document ids that CORPUS does not have \(e.g. \['nope'\]\)"):
        validate(FitConfig(pairs=[str(pairs)], corpus=str(paths["corpus"])))


def test_tiny_corpus_message(tmp_path: Path) -> None:
    paths = write_collection(tmp_path, queries=5, documents=5)
    with pytest.raises(ValueError) as err:
        validate(FitConfig(pairs=[str(paths["pairs"])], corpus=str(paths["corpus"])))
    assert str(err.value) == ("the corpus holds 5 documents; fit needs at least 20 to rank (pass --corpus with the "
                              "collection the queries are asked against).")


def test_empty_corpus_message(tmp_path: Path) -> None:
    paths = write_collection(tmp_path)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(ValueError) as err:
        validate(FitConfig(pairs=[str(paths["pairs"])], corpus=str(empty)))
    assert "\n" not in str(err.value) and str(empty) in str(err.value)


def test_split_is_seeded_disjoint_and_says_the_minimum(tmp_path: Path) -> None:
    paths = write_collection(tmp_path)
    config = FitConfig(pairs=[str(paths["pairs"])], corpus=str(paths["corpus"]))
    collection = validate(config)
    first, again = split_queries(collection, config), split_queries(collection, config)
    assert first == again
    parts = [set(first[k]) for k in ("train", "dev", "test")]
    assert [len(p) for p in parts] == [36, 12, 12]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert set().union(*parts) == set(collection["queries"])
    other = split_queries(collection, FitConfig(pairs=config.pairs, corpus=config.corpus, seed=7))
    assert other["test"] != first["test"]
    small = write_collection(tmp_path / "small", queries=30)
    few = FitConfig(pairs=[str(small["pairs"])], corpus=str(small["corpus"]))
    with pytest.raises(ValueError) as err:
        split_queries(validate(few), few)
    assert str(err.value) == ("PAIRS has 30 distinct queries with a relevant document (30 ids); a fit needs at least "
                              "40 (20 train + 10 dev + 10 test). Add labelled queries, or pass --eval with separate "
                              "test queries.")


def test_eval_replaces_test_and_overlap_is_kept_out(tmp_path: Path) -> None:
    paths = write_collection(tmp_path)
    rows = [json.loads(line) for line in paths["pairs"].read_text().splitlines()]
    evaluation = _jsonl(tmp_path / "eval.jsonl", rows[:10])
    config = FitConfig(pairs=[str(paths["pairs"])], corpus=str(paths["corpus"]), eval=[str(evaluation)])
    split = split_queries(validate(config), config)
    assert split["test_from_eval"] and len(split["test"]) == 10 and split["overlap_removed"] == 10
    assert all(q.startswith("eval:") for q in split["test"])
    assert len(split["train"]) + len(split["dev"]) == 50


def test_durations_and_yaml_keys(tmp_path: Path) -> None:
    assert parse_duration("30m") == 1800.0 and parse_duration("1.5h") == 5400.0 and parse_duration(90) == 90.0
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")
    with pytest.raises(ValueError, match="unknown key 'lost' in the fit: section.*Did you mean 'loss'"):
        FitConfig.from_mapping({"pairs": ["x"], "lost": "bce"})


def test_python_entry_and_cli_report_bad_input_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import crossrank
    from crossrank.cli import main

    paths = write_collection(tmp_path)
    bad = _jsonl(tmp_path / "bad.jsonl", [{"x": 1}] * 3)
    with pytest.raises(ValueError, match="no usable query/document columns"):
        crossrank.fit(str(bad), corpus=str(paths["corpus"]), out=str(tmp_path / "py"))
    assert main(["fit", str(bad), "--corpus", str(paths["corpus"]), "--out", str(tmp_path / "cli")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("crossrank fit: error: ") and "\n" not in err and "no usable query/document columns" in err


def test_yaml_section_pins_choices(tmp_path: Path) -> None:
    from crossrank.cli.fit import config_from_args

    paths = write_collection(tmp_path / "data")
    (tmp_path / "fit.yaml").write_text("fit:\n  pairs: data/pairs.jsonl\n  corpus: data/corpus.jsonl\n  loss: bce\n"
                                       "  epochs: 2\n  time_budget: 10m\n  out: runs/x\n")
    import argparse

    from crossrank.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["fit", "--config", str(tmp_path / "fit.yaml"), "--epochs", "3"])
    assert isinstance(args, argparse.Namespace)
    config = config_from_args(args)
    assert config.pairs == [str(paths["pairs"])] and config.corpus == str(paths["corpus"])
    assert (config.loss, config.epochs, config.time_budget) == ("bce", 3.0, 600.0)
    assert config.out == str(tmp_path / "runs" / "x")


def test_empty_queries_and_bad_labels_are_errors_and_empty_documents_counted(tmp_path: Path) -> None:
    paths = write_collection(tmp_path)
    rows = [json.loads(line) for line in paths["pairs"].read_text().splitlines()]
    corpus = [json.loads(line) for line in paths["corpus"].read_text().splitlines()]
    blank = _jsonl(tmp_path / "blank.jsonl", [*rows[:3], {"query": "  ", "document": "x"}])
    with pytest.raises(ValueError, match=r"1 rows have no query text in column 'query' \(first: row 4\)"):
        validate(FitConfig(pairs=[str(blank)], corpus=str(paths["corpus"])))
    labels = _jsonl(tmp_path / "labels.jsonl", [{**r, "label": "yes"} for r in rows[:3]])
    with pytest.raises(ValueError, match=r"label column 'label' holds 'yes'; labels must be numbers"):
        validate(FitConfig(pairs=[str(labels)], corpus=str(paths["corpus"])))
    holes = _jsonl(tmp_path / "holes.jsonl", [*corpus, {"_id": "e1", "text": ""}, {"_id": "d0", "text": "again"}])
    out = validate(FitConfig(pairs=[str(paths["pairs"])], corpus=str(holes)))
    assert (out["notes"]["empty_documents"], out["notes"]["duplicate_ids"]) == (1, 1)
