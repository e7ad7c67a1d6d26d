"""The one table reader and writer (data/tables.py): JSON documents, exact errors, separators, gzip, CSV lists."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import datasets
import pytest

from crossrank.data.io import load_dataset_file, save_dataset_file
from crossrank.data.tables import read_rows, read_table

ROWS = [{"query": "q1", "doc": "a", "label": 1}, {"query": "q2", "doc": "b", "label": 0}]


def test_standard_json_array_and_column_object_load(tmp_path: Path) -> None:
    array = tmp_path / "rows.json"
    array.write_text(json.dumps(ROWS, indent=2))
    assert load_dataset_file(array).to_list() == ROWS
    columns = tmp_path / "columns.json"
    columns.write_text(json.dumps({"query": ["q1", "q2"], "doc": ["a", "b"], "label": [1, 0]}))
    assert load_dataset_file(columns).to_list() == ROWS
    lines = tmp_path / "lines.json"  # JSON Lines under a .json name still load
    lines.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    assert read_rows(lines) == ROWS


def test_malformed_jsonl_reports_the_file_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2}\n{"a": 3,}\n')
    with pytest.raises(ValueError) as info:
        load_dataset_file(path)
    message = str(info.value)
    assert message.startswith(f"cannot parse {path} as JSONL: line 4: ")
    assert "\n" not in message
    array = tmp_path / "broken.json"
    array.write_text('[\n  {"a": 1},\n  {"a": 2\n]\n')
    with pytest.raises(ValueError, match=rf"^cannot parse {array} as JSON: line 4: "):
        read_table(array)


def test_comma_separated_tsv_names_the_separator(tmp_path: Path) -> None:
    path = tmp_path / "pairs.tsv"
    path.write_text("query,doc,label\nq1,a,1\n")
    with pytest.raises(ValueError) as info:
        load_dataset_file(path)
    assert str(info.value) == (
        f"{path} is named .tsv, so tab-separated, but its header line has no tab and 2 comma separator(s) ','; "
        "rename it to .csv."
    )
    tabbed = tmp_path / "pairs.csv"
    tabbed.write_text("query\tdoc\nq1\ta\n")
    with pytest.raises(ValueError, match=r"has no comma and 1 tab separator\(s\) '\\t'; rename it to \.tsv\.$"):
        read_table(tabbed)


def test_gzipped_jsonl_and_every_key_kept(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"_id": "d1", "text": "x"}) + "\n" + json.dumps({"_id": "d2", "title": "T",
                                                                                   "text": "y"}) + "\n")
    assert read_table(path) == {"_id": ["d1", "d2"], "text": ["x", "y"], "title": [None, "T"]}


def test_csv_writer_json_encodes_lists_and_json_writer_writes_an_array(tmp_path: Path) -> None:
    data = datasets.Dataset.from_list([{"q": "a", "docs": ["x", "y"], "labels": [1, 0]}])
    csv_path = save_dataset_file(data, tmp_path / "lists.csv")
    assert csv_path.read_text().splitlines() == ["q,docs,labels", 'a,"[""x"", ""y""]","[1, 0]"']
    json_path = save_dataset_file(data, tmp_path / "lists.json")
    assert json.loads(json_path.read_text()) == data.to_list()
    selected = datasets.Dataset.from_list(ROWS).select([1])  # an indices mapping: the selected row is written
    assert read_rows(save_dataset_file(selected, tmp_path / "one.parquet")) == [ROWS[1]]


def test_mixed_value_types_name_the_column(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"q": "a", "label": 1}\n{"q": "b", "label": "yes"}\n')
    with pytest.raises(ValueError, match=r"column 'label' mixes value types \['int', 'str'\]"):
        read_table(path)
