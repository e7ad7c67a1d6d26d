"""Crash-safe writes of folders and files: write beside the target, flush, then swap into place.

One mechanism for every save (``CrossEncoder.save_pretrained``, dataset writers, the model card, metrics):

- a folder is only ever replaced when crossrank wrote it (its ``.crossrank.json`` marker) or it is
  empty; anything else is refused before writing (:mod:`crossrank.storage.ownership`);
- the new content is complete and on disk before the swap, and the swap keeps the old or the new
  content at the target at every instant (:mod:`crossrank.storage.swap` explains why);
- leftovers of an interrupted save (``.NAME.tmp-*``, ``.NAME.old-*``) are recovered or removed by the next
  save or load of the same path;
- saved files and folders follow the process umask (as ``open``/``mkdir`` would create them);
- a full disk stops the save with one line naming the path; the target keeps its previous content.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from crossrank.storage.errors import DiskFullError, NotWritableError, TargetNotOursError, is_disk_full
from crossrank.storage.ownership import check_replaceable, write_marker
from crossrank.storage.swap import fsync_dir, fsync_tree, leftover_name, swap_into_place

logger = logging.getLogger(__name__)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    except OSError:  # pragma: no cover - e.g. Windows without signal 0
        return True
    return True


def _leftovers(target: Path, kind: str) -> list[tuple[Path, int]]:
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.{kind}-(\d+)(?:-[0-9a-f]+)?$")
    if not target.parent.is_dir():
        return []
    found = []
    for entry in target.parent.iterdir():
        match = pattern.match(entry.name)
        if match:
            found.append((entry, int(match.group(1))))
    return sorted(found, key=lambda item: _mtime(item[0]))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def recover(target: str | os.PathLike[str]) -> bool:
    """Repair what an interrupted save left beside ``target``; True when the old content was restored.

    A missing ``target`` with a ``.NAME.old-*`` folder from a dead process (killed between the two renames
    of the fallback swap) gets that folder back. Other leftovers of dead processes are removed.
    """
    target = Path(target).absolute()
    restored = False
    for old, pid in reversed(_leftovers(target, "old")):
        if _pid_alive(pid):
            continue
        if not target.exists() and not restored:
            os.rename(old, target)
            fsync_dir(target.parent)
            logger.warning("Restored %s from %s, left by an interrupted save.", target, old.name)
            restored = True
        else:
            _remove(old)
    for tmp, pid in _leftovers(target, "tmp"):
        if not _pid_alive(pid):
            _remove(tmp)
            logger.info("Removed %s, left by an interrupted save of %s.", tmp.name, target)
    return restored


def _umask_modes(folder: Path) -> tuple[int, int]:
    """(file mode, folder mode) the umask gives; read from ``folder``, just made with ``mkdir(0o777)``."""
    folder_mode = folder.stat().st_mode & 0o777
    return folder_mode & 0o666, folder_mode


def apply_umask(root: str | os.PathLike[str]) -> None:
    """Give every file and folder under ``root`` (and ``root``) the modes the umask gives new ones."""
    root = Path(root)
    probe = leftover_name(root / "umask", "tmp")
    os.mkdir(probe, 0o777)
    try:
        file_mode, dir_mode = _umask_modes(probe)
    finally:
        os.rmdir(probe)
    os.chmod(root, dir_mode)
    _apply_modes(root, file_mode, dir_mode)


def _apply_modes(root: Path, file_mode: int, dir_mode: int) -> None:
    """Files and folders under ``root`` get the umask's modes (some writers create 0600 temporaries)."""
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(folder, name), dir_mode)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, file_mode)


def _make_parent(target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as err:
        raise NotWritableError(
            f"cannot save to {target}: a file is in the way of the folder {err.filename or target.parent}. "
            "Fix: choose an output path whose parents are folders."
        ) from err
    except PermissionError as err:
        raise NotWritableError(
            f"cannot save to {target}: no permission to create {target.parent}. Fix: choose a writable location."
        ) from err


def _full(target: Path, err: BaseException) -> DiskFullError:
    return DiskFullError(
        f"no space left on the device while saving {target}; the save was abandoned and {target} keeps its "
        "previous content. Fix: free disk space (or raise the quota) and save again, or save elsewhere."
    )


def atomic_dir_write(target: str | os.PathLike[str], write: Callable[[Path], None], kind: str = "folder") -> Path:
    """Call ``write(tmp)`` on a fresh folder beside ``target``, then swap it into place crash-safely.

    Raises:
        TargetNotOursError: ``target`` exists and is neither empty nor a folder crossrank wrote.
        DiskFullError: the disk filled up; ``target`` is unchanged.
    """
    target = Path(target).resolve()
    _make_parent(target)
    recover(target)
    check_replaceable(target)
    tmp = leftover_name(target, "tmp")
    try:
        os.mkdir(tmp, 0o777)
    except PermissionError as err:
        raise NotWritableError(f"cannot save to {target}: no permission to write in {target.parent}. "
                               "Fix: choose a writable location.") from err
    try:
        write(tmp)
        write_marker(tmp, kind)
        _apply_modes(tmp, *_umask_modes(tmp))
        fsync_tree(tmp)
        swap_into_place(tmp, target)
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(err, Exception) and not isinstance(err, TargetNotOursError) and is_disk_full(err, target):
            raise _full(target, err) from err
        raise
    return target


def atomic_file_write(target: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_file)`` on a fresh file beside ``target``, flush it, then rename it to ``target``."""
    target = Path(target).resolve()
    if target.is_dir():
        raise TargetNotOursError(f"cannot write the file {target}: a folder is there; nothing was changed. "
                                 "Fix: pass a file path.")
    _make_parent(target)
    recover(target)
    tmp = leftover_name(target, "tmp")
    try:
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))  # umask applies
    except PermissionError as err:
        raise NotWritableError(f"cannot write {target}: no permission in {target.parent}. "
                               "Fix: choose a writable location.") from err
    try:
        mode = tmp.stat().st_mode & 0o777
        write(tmp)
        os.chmod(tmp, mode)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        fsync_dir(target.parent)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, Exception) and is_disk_full(err, target):
            raise _full(target, err) from err
        raise
    return target
