"""Loses data (issue 13, cases 1-4): saves replace only crossrank's folders, crash-safely, under a lock."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_helpers import last_error, write_config

from crossrank.cli import main

DEAD_PID = 2**22 + 12345  # above the kernel's pid_max: never a live process


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- 1. only crossrank's folders are replaced
def test_save_pretrained_refuses_a_folder_of_other_files(tiny_bert: Path, tmp_path: Path) -> None:
    from crossrank import CrossEncoder
    from crossrank.storage.errors import TargetNotOursError

    model = CrossEncoder(tiny_bert)
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(TargetNotOursError, match=r"refusing to save to .*mine: it is a folder crossrank did not "
                       r"write \(1 entries: 'notes.txt'\).* nothing was changed. Fix: pass a new or empty folder"):
        model.save_pretrained(target)
    assert (target / "notes.txt").read_text() == "keep me" and sorted(os.listdir(target)) == ["notes.txt"]
    assert sorted(os.listdir(tmp_path)) == ["mine", "tiny-bert"]  # no temporary left behind


def test_save_replaces_its_own_folder_and_an_empty_one(tiny_bert: Path, tmp_path: Path) -> None:
    from crossrank import CrossEncoder
    from crossrank.storage.ownership import MARKER

    model = CrossEncoder(tiny_bert)
    empty = tmp_path / "empty"
    empty.mkdir()
    model.save_pretrained(empty)
    assert (empty / MARKER).is_file() and json.loads((empty / MARKER).read_text())["kind"] == "model"
    (empty / "stale.txt").write_text("from an older save")
    model.save_pretrained(empty)  # a crossrank folder: replaced whole
    assert not (empty / "stale.txt").exists() and (empty / "model.safetensors").is_file()


def test_train_output_dot_is_refused_before_work(tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write_config(tmp_path, tiny_bert, extra="output: .\n")
    monkeypatch.chdir(tmp_path)
    before = _snapshot(tmp_path)
    assert main(["train", str(cfg), "--output", "."]) == 2
    err = last_error(capsys.readouterr().err)
    assert err.startswith(f"crossrank train: error: the model output {tmp_path} is a parent of the training "
                          f"output_dir {tmp_path / 'run'}; saving there would replace its checkpoints and logs.")
    assert _snapshot(tmp_path) == before and not (tmp_path / "run").exists()


def test_train_output_equal_to_output_dir_is_refused(tiny_bert: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    cfg = write_config(tmp_path, tiny_bert)
    (tmp_path / "run" / "checkpoint-2").mkdir(parents=True)
    (tmp_path / "run" / "RerankingEvaluator_toy_results_@10.csv").write_text("epoch,steps\n")
    assert main(["train", str(cfg), "--output", str(tmp_path / "run")]) == 2
    assert last_error(capsys.readouterr().err) == (
        f"crossrank train: error: the model output {tmp_path / 'run'} is the training output_dir {tmp_path / 'run'}; "
        "saving there would replace its checkpoints and logs. Fix: save the model to its own folder, e.g. "
        f"--output {tmp_path / 'run' / 'final'} (the default).")
    assert (tmp_path / "run" / "checkpoint-2").is_dir()


def test_train_output_folder_with_other_files_is_refused(tiny_bert: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture) -> None:

    cfg = write_config(tmp_path, tiny_bert)
    other = tmp_path / "other"
    other.mkdir()
    (other / "data.csv").write_text("a,b\n")
    assert main(["train", str(cfg), "--output", str(other)]) == 2
    assert last_error(capsys.readouterr().err).startswith(
        f"crossrank train: error: refusing to save the model to {other}: it is a folder crossrank did not write")
    assert (other / "data.csv").read_text() == "a,b\n"


# ---------------------------------------------------------------- 2. crash-safe swap, leftovers, umask
def _write(tag: str):
    def write(folder: Path) -> None:
        (folder / "weights.txt").write_text(tag)
    return write


def test_exchange_swap_leaves_no_window(tmp_path: Path) -> None:
    from crossrank.storage import swap
    from crossrank.storage.atomic import atomic_dir_write

    target = tmp_path / "final"
    atomic_dir_write(target, _write("old"), kind="model")
    seen: list[str] = []
    real = swap.exchange

    def watching(a: Path, b: Path) -> bool:
        seen.append((b / "weights.txt").read_text())  # just before the swap: the old model is in place
        ok = real(a, b)
        seen.append((b / "weights.txt").read_text())  # just after: the new one
        return ok

    swap_exchange = swap.exchange
    try:
        swap.exchange = watching  # type: ignore[assignment]
        atomic_dir_write(target, _write("new"), kind="model")
    finally:
        swap.exchange = swap_exchange  # type: ignore[assignment]
    assert seen == ["old", "new"] and sorted(os.listdir(tmp_path)) == ["final"]


def test_kill_between_fallback_renames_is_recovered_on_load(tiny_bert: Path, tmp_path: Path) -> None:
    """The state a SIGKILL leaves between the two renames of the fallback swap: final missing, old aside."""

    from crossrank import CrossEncoder

    model = CrossEncoder(tiny_bert)
    final = tmp_path / "final"
    model.save_pretrained(final)
    expected = model.predict([("paris", "the capital")])
    os.rename(final, tmp_path / f".final.old-{DEAD_PID}-0a1b2c3d")
    (tmp_path / f".final.tmp-{DEAD_PID}-0a1b2c3e").mkdir()  # the new folder, half written
    loaded = CrossEncoder(final)  # the load restores the old model under the given path
    assert loaded.predict([("paris", "the capital")]) == pytest.approx(expected)
    assert sorted(os.listdir(tmp_path)) == ["final", "tiny-bert"]


def test_leftovers_of_dead_saves_are_removed_by_the_next_save(tmp_path: Path) -> None:
    from crossrank.storage.atomic import atomic_dir_write

    target = tmp_path / "final"
    atomic_dir_write(target, _write("old"), kind="model")
    (tmp_path / f".final.tmp-{DEAD_PID}-00000001").mkdir()  # killed while deleting the swapped-out folder
    (tmp_path / f".final.old-{DEAD_PID}-00000002").mkdir()
    live = tmp_path / f".final.tmp-{os.getppid()}-00000003"  # a live process's save in progress: kept
    live.mkdir()
    atomic_dir_write(target, _write("new"), kind="model")
    assert sorted(os.listdir(tmp_path)) == sorted(["final", live.name])
    assert (target / "weights.txt").read_text() == "new"


def test_fallback_swap_without_exchange(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crossrank.storage import swap
    from crossrank.storage.atomic import atomic_dir_write, recover

    monkeypatch.setattr(swap, "exchange", lambda a, b: False)
    target = tmp_path / "final"
    atomic_dir_write(target, _write("old"), kind="model")
    atomic_dir_write(target, _write("new"), kind="model")
    assert (target / "weights.txt").read_text() == "new" and sorted(os.listdir(tmp_path)) == ["final"]
    assert not recover(target)


@pytest.mark.parametrize("umask, file_mode, dir_mode", [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)])
def test_saved_files_follow_the_umask(tiny_bert: Path, tmp_path: Path, umask: int, file_mode: int,
                                      dir_mode: int) -> None:
    from crossrank import CrossEncoder
    from crossrank.storage.atomic import atomic_file_write

    model = CrossEncoder(tiny_bert)
    old = os.umask(umask)
    try:
        folder = model.save_pretrained(tmp_path / "final")
        card = atomic_file_write(tmp_path / "card.md", lambda p: p.write_text("x"))
    finally:
        os.umask(old)
    assert folder.stat().st_mode & 0o777 == dir_mode
    assert {p.name: p.stat().st_mode & 0o777 for p in folder.iterdir()} == {
        p.name: file_mode for p in folder.iterdir()}
    assert card.stat().st_mode & 0o777 == file_mode


# ---------------------------------------------------------------- 3. one run per output_dir
_HOLD = """
import sys, time
from crossrank.storage.lock import output_lock
with output_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(60)
"""


def _hold_lock(folder: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(folder)], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_second_run_in_one_output_dir_fails_fast_naming_the_first(tiny_bert: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    cfg = write_config(tmp_path, tiny_bert)
    first = _hold_lock(tmp_path / "run")
    try:
        start = time.monotonic()
        assert main(["train", str(cfg)]) == 2
        took = time.monotonic() - start
    finally:
        first.kill()
        first.wait()
    err = last_error(capsys.readouterr().err)
    assert err.startswith(f"crossrank train: error: output_dir {tmp_path / 'run'} is in use by another crossrank "
                          f"run (pid {first.pid} on ")
    assert "Fix: wait for that run to end (or stop it), or pick another output_dir." in err
    assert took < 5 and not (tmp_path / "run" / "final").exists()


def test_lock_of_a_killed_run_does_not_block(tmp_path: Path) -> None:
    from crossrank.storage.errors import OutputLockedError
    from crossrank.storage.lock import output_lock

    holder = _hold_lock(tmp_path)
    holder.kill()  # SIGKILL: the file stays, naming a dead process
    holder.wait()
    assert json.loads((tmp_path / ".crossrank.lock").read_text())["pid"] == holder.pid
    with output_lock(tmp_path), output_lock(tmp_path):  # free again, and re-entrant in one process
        assert json.loads((tmp_path / ".crossrank.lock").read_text())["pid"] == os.getpid()
    with pytest.raises(OutputLockedError):
        holder = _hold_lock(tmp_path)
        try:
            with output_lock(tmp_path):
                pass
        finally:
            holder.kill()
            holder.wait()


# ---------------------------------------------------------------- 4. outputs checked first; a full disk
def test_unwritable_output_is_found_before_training(tiny_bert: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    cfg = write_config(tmp_path, tiny_bert)
    (tmp_path / "blocker").write_text("a file where a folder should be")
    assert main(["train", str(cfg), "--output", str(tmp_path / "blocker" / "final")]) == 2
    assert last_error(capsys.readouterr().err) == (
        f"crossrank train: error: the folder of the model output {tmp_path / 'blocker'} cannot be created: "
        f"{tmp_path / 'blocker'} is a file, not a folder. Fix: choose another path.")
    assert not (tmp_path / "run").exists()


@pytest.fixture
def small_tmpfs(tmp_path: Path):
    """A 180 KiB tmpfs (needs root and mount rights; skipped elsewhere)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if shutil.which("mount") is None or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=180k", "tmpfs", str(mnt)],
                                                       capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_read_only_output_is_found_before_training(tiny_bert: Path, tmp_path: Path, small_tmpfs: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    cfg = write_config(tmp_path, tiny_bert)
    assert main(["train", str(cfg), "--training.output_dir", str(small_tmpfs / "run")]) == 2
    assert last_error(capsys.readouterr().err) == (
        f"crossrank train: error: the training output_dir {small_tmpfs / 'run'} is not writable (its nearest "
        f"existing parent {small_tmpfs}): Read-only file system. Fix: choose a writable location or fix its "
        "permissions.")


def test_disk_full_during_a_save_keeps_the_previous_model(tiny_bert: Path, small_tmpfs: Path) -> None:
    """A real ENOSPC: the tiny model (~110 KB) fits the 180 KiB disk once, not twice."""
    from crossrank import CrossEncoder
    from crossrank.storage.errors import DiskFullError

    model = CrossEncoder(tiny_bert)
    final = small_tmpfs / "final"
    model.save_pretrained(final)
    before = _snapshot(final)
    with pytest.raises(DiskFullError, match=rf"^no space left on the device while saving {final}; the save was "
                       rf"abandoned and {final} keeps its previous content. Fix: free disk space"):
        model.save_pretrained(final)
    assert _snapshot(final) == before and sorted(os.listdir(small_tmpfs)) == ["final"]
    CrossEncoder(final)  # still loadable


def test_disk_full_during_a_save_is_one_line(tmp_path: Path) -> None:
    from crossrank.storage.atomic import atomic_dir_write
    from crossrank.storage.errors import DiskFullError

    target = tmp_path / "final"
    atomic_dir_write(target, _write("old"), kind="model")

    def full(folder: Path) -> None:
        (folder / "part").write_text("x")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(DiskFullError) as err:
        atomic_dir_write(target, full, kind="model")
    assert "\n" not in str(err.value) and str(target) in str(err.value)
    assert (target / "weights.txt").read_text() == "old" and sorted(os.listdir(tmp_path)) == ["final"]


def test_disk_full_during_a_checkpoint(tiny_bert: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets
    from reliability_helpers import pair_rows

    from crossrank import CrossEncoder, Trainer, TrainingArguments
    from crossrank.storage.errors import DiskFullError

    model = CrossEncoder(tiny_bert)
    args = TrainingArguments(output_dir=str(tmp_path / "run"), max_steps=4, save_steps=2, use_cpu=True,
                             per_device_train_batch_size=4, disable_tqdm=True, report_to="none")
    trainer = Trainer(model, args, train_dataset=datasets.Dataset.from_list(pair_rows()))
    real = Trainer._save_optimizer_and_scheduler

    def fill_up(self: Trainer, output_dir: str) -> None:
        if output_dir.endswith("checkpoint-4"):
            raise OSError(errno.ENOSPC, "No space left on device", output_dir)
        real(self, output_dir)

    monkeypatch.setattr(Trainer, "_save_optimizer_and_scheduler", fill_up)
    with pytest.raises(DiskFullError) as err:
        trainer.train()
    assert str(err.value) == (
        f"no space left on the device while writing the checkpoint {tmp_path / 'run' / 'checkpoint-4'}; it was "
        f"removed and {tmp_path / 'run' / 'checkpoint-2'} is the last complete checkpoint. Fix: free disk space, "
        "then resume (--resume-from-checkpoint true, or resume_from_checkpoint: true).")
    assert sorted(p.name for p in (tmp_path / "run").glob("checkpoint-*")) == ["checkpoint-2"]


def test_not_writable_is_an_oserror_with_one_line(tmp_path: Path) -> None:
    from crossrank.storage.errors import NotWritableError
    from crossrank.storage.preflight import check_writable

    (tmp_path / "f").write_text("x")
    with pytest.raises(NotWritableError) as err:
        check_writable(tmp_path / "f" / "sub")
    assert isinstance(err.value, OSError) and str(err.value).startswith("the output folder ")
