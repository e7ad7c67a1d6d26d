"""Errors of the storage layer: one line each, naming the path and the fix.

They are ``OSError`` subclasses (a save that cannot happen is an I/O condition), so callers that already
handle ``OSError`` keep working; the CLI prints them as one line.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}
_FULL_TEXTS = ("no space left on device", "storagefull", "os error 28", "errno 28", "disk quota exceeded",
               "file too large")


class StorageError(OSError):
    """A save, lock or output check that failed; the message names the path and the fix."""

    def __str__(self) -> str:  # OSError would prefix "[Errno N]" when given several args
        return str(self.args[0]) if self.args else ""


class TargetNotOursError(StorageError):
    """The target exists and is not a folder crossrank wrote (nor an empty one): it is never replaced."""


class DiskFullError(StorageError):
    """The disk (or quota) filled up during a save; the previous content of the target is unchanged."""


class NotWritableError(StorageError):
    """An output location cannot be written (read-only, no permission, or a file in the way)."""


class OutputLockedError(StorageError):
    """Another run holds the lock of the output folder."""


def is_disk_full(err: BaseException, where: str | Path | None = None) -> bool:
    """Whether ``err`` (or an exception it was raised from) means the disk or the quota is full.

    Some writers lose the errno (torch's zip writer says only "file write failed"); for those, the free
    space at ``where`` decides (under 1 MiB left counts as full).
    """
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return True
        text = str(current).lower()
        if any(t in text for t in _FULL_TEXTS):
            return True
        if where is not None and ("write failed" in text or "failed writing" in text):
            return _free_bytes(Path(where)) < 1 << 20
        current = current.__cause__ or current.__context__
    return False


def _free_bytes(path: Path) -> int:
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return 1 << 62
