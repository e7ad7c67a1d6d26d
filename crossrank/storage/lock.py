"""One run per output folder: an advisory lock on ``OUTPUT_DIR/.crossrank.lock``.

The lock is ``fcntl.flock`` on a file that records who holds it (pid, host, start time, command). The
kernel drops a flock when its process dies, however it dies, so a lock left by a killed run never blocks
the next one; the file's content only serves the message of a run that finds the lock taken. Where
``flock`` is unavailable (no ``fcntl``, or a file system without locks) the recorded pid is checked instead
(same host only). The lock is re-entrant within a process (the CLI takes it before any work, the Trainer
again around ``train``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crossrank.storage.errors import NotWritableError, OutputLockedError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

LOCK_NAME = ".crossrank.lock"
_HELD: dict[str, tuple[int, int]] = {}  # resolved folder -> (fd, depth)
_GUARD = threading.Lock()


def _holder_text(path: Path) -> str:
    try:
        info: dict[str, Any] = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another crossrank run"
    return (f"another crossrank run (pid {info.get('pid')} on {info.get('host')}, started {info.get('started')}, "
            f"command: {info.get('command')})")


def _record(fd: int) -> None:
    info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "command": " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:])[:300]}
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
    os.fsync(fd)


def _pid_lock_taken(path: Path) -> bool:
    """The fallback without flock: taken when the recorded pid is alive on this host."""
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return False
    if info.get("host") != socket.gethostname() or not isinstance(info.get("pid"), int):
        return False
    if info["pid"] == os.getpid():
        return False
    try:
        os.kill(info["pid"], 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _acquire(folder: Path) -> int:
    path = folder / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as err:
        raise NotWritableError(f"cannot write in the output folder {folder} ({err.strerror}). "
                               "Fix: choose a writable output_dir.") from err
    locked = False
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            locked = True
        except BlockingIOError:
            os.close(fd)
            raise OutputLockedError(
                f"output_dir {folder} is in use by {_holder_text(path)}; two runs in one folder would overwrite "
                "each other's checkpoints and logs. Fix: wait for that run to end (or stop it), or pick "
                "another output_dir.") from None
        except OSError:
            logger.warning("The file system of %s has no file locks; checking the recorded pid instead.", folder)
    if not locked and _pid_lock_taken(path):
        os.close(fd)
        raise OutputLockedError(f"output_dir {folder} is in use by {_holder_text(path)}. Fix: wait for that run "
                                "to end (or stop it), or pick another output_dir.")
    _record(fd)
    return fd


@contextlib.contextmanager
def output_lock(folder: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold the lock of ``folder`` (created if missing) for the ``with`` block; re-entrant per process.

    Raises:
        OutputLockedError: another process holds it; the message names that process.
    """
    path = Path(folder).resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise NotWritableError(f"cannot create the output folder {path} ({err.strerror}). "
                               "Fix: choose a writable output_dir.") from err
    key = str(path)
    with _GUARD:
        fd, depth = _HELD.get(key, (-1, 0))
        if depth == 0:
            fd = _acquire(path)
        _HELD[key] = (fd, depth + 1)
    try:
        yield path
    finally:
        with _GUARD:
            fd, depth = _HELD[key]
            if depth == 1:
                del _HELD[key]
                os.close(fd)  # releases the flock
            else:
                _HELD[key] = (fd, depth - 1)


def main_process_lock(folder: str | os.PathLike[str]) -> contextlib.AbstractContextManager[Any]:
    """:func:`output_lock` on the main process of a (possibly distributed) launch; nothing on the others."""
    if int(os.environ.get("RANK", "0")) != 0:
        return contextlib.nullcontext()
    return output_lock(folder)
