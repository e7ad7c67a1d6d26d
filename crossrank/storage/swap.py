"""Putting a finished folder in place of an old one so that a kill at any instant leaves one of them.

The new folder is written completely beside the target (``.NAME.tmp-PID-XXXX``) and flushed to disk
(every file and folder ``fsync``-ed). Then:

- **Exchange** (Linux ``renameat2(RENAME_EXCHANGE)``, macOS ``renamex_np(RENAME_SWAP)``): one system call
  swaps the two names atomically. Before it the target is the old folder, after it the new one; there is
  no instant without a complete folder at the target. The temporary name then holds the old folder and is
  deleted; a kill during that deletion leaves a ``.tmp-*`` leftover that the next save removes.
- **Fallback** (no exchange on this system or file system): rename the target to ``.NAME.old-PID-XXXX``,
  then the new folder to the target. A kill between the two renames leaves no folder at the target for
  that moment, but the old one complete under ``.old-*``; :func:`crossrank.storage.atomic.recover` (run by
  every crossrank load and save of that path) renames it back, so the path again loads the old model.

A target that does not exist yet (or is an empty folder) is replaced by a plain ``rename``, which is atomic.
Symlinks are never used, so the target stays a plain folder that any tool can read.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import platform
import secrets
import shutil
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # linux/fs.h
_RENAME_SWAP = 0x2  # macOS stdio.h
_SYSCALL_RENAMEAT2 = {"x86_64": 316, "aarch64": 276, "arm64": 276, "ppc64le": 357, "s390x": 347}
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, getattr(errno, "EOPNOTSUPP", errno.ENOTSUP)}


def leftover_name(target: Path, kind: str) -> Path:
    """``.NAME.tmp-PID-XXXX`` / ``.NAME.old-PID-XXXX`` beside ``target``: the pid tells live from stale."""
    return target.parent / f".{target.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:  # pragma: no cover - no C library to call
        return None


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap the names ``a`` and ``b`` (both must exist); False when the system cannot."""
    libc = _libc()
    if libc is None:
        return False
    src, dst = os.fsencode(a), os.fsencode(b)
    if sys.platform.startswith("linux"):
        func = getattr(libc, "renameat2", None)
        if func is not None:
            result = func(_AT_FDCWD, src, _AT_FDCWD, dst, _RENAME_EXCHANGE)
        elif platform.machine() in _SYSCALL_RENAMEAT2:
            result = libc.syscall(_SYSCALL_RENAMEAT2[platform.machine()], _AT_FDCWD, src, _AT_FDCWD, dst,
                                  _RENAME_EXCHANGE)
        else:  # pragma: no cover - unknown architecture
            return False
    elif sys.platform == "darwin":  # pragma: no cover - not the CI platform
        func = getattr(libc, "renamex_np", None)
        if func is None:
            return False
        result = func(src, dst, _RENAME_SWAP)
    else:  # pragma: no cover
        return False
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def fsync_tree(root: Path) -> None:
    """Flush every file and folder under ``root`` (and ``root``) to disk."""
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        fsync_dir(Path(folder))


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (new names, renames) to disk; a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on folders
        pass
    finally:
        os.close(fd)


def swap_into_place(new: Path, target: Path) -> None:
    """Make the complete folder ``new`` appear at ``target``, keeping old-or-new there at every instant."""
    if not target.exists():
        os.rename(new, target)
    elif target.is_dir() and not any(target.iterdir()):
        os.rename(new, target)  # replaces an empty folder atomically
    elif exchange(new, target):
        fsync_dir(target.parent)
        shutil.rmtree(new, ignore_errors=True)  # `new` now holds the old folder
    else:
        old = leftover_name(target, "old")
        os.rename(target, old)
        os.rename(new, target)
        fsync_dir(target.parent)
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(target.parent)
