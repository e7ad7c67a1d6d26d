"""Checks of output locations before any work starts, so a trained model is never lost at the end.

:func:`check_writable` proves a folder can be written (or created) by writing and removing a probe file
in it or in its nearest existing parent, which catches read-only mounts, missing permissions, immutable
folders and a file standing where a folder should be. :func:`check_model_output` adds the rules of a
model save: the target must be replaceable (see :mod:`crossrank.storage.ownership`) and must not be,
or contain, the training ``output_dir``.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from crossrank.storage.errors import NotWritableError, TargetNotOursError
from crossrank.storage.ownership import check_replaceable


def _nearest_existing(path: Path) -> Path:
    current = path
    while not current.exists() and current != current.parent:
        current = current.parent
    return current


def check_writable(folder: str | os.PathLike[str], what: str = "output folder") -> Path:
    """Raise ``NotWritableError`` unless ``folder`` exists and is writable, or can be created."""
    path = Path(folder).absolute()
    existing = _nearest_existing(path)
    if not existing.is_dir():
        raise NotWritableError(f"the {what} {path} cannot be created: {existing} is a file, not a folder. "
                               "Fix: choose another path.")
    probe = existing / f".crossrank-probe-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            os.write(fd, b"x")
        finally:
            os.close(fd)
        probe.unlink()
    except OSError as err:
        with contextlib.suppress(OSError):
            probe.unlink(missing_ok=True)
        where = "" if existing == path else f" (its nearest existing parent {existing})"
        raise NotWritableError(f"the {what} {path} is not writable{where}: {err.strerror}. "
                               "Fix: choose a writable location or fix its permissions.") from err
    return path


def check_model_output(output: str | os.PathLike[str], output_dir: str | os.PathLike[str] | None = None) -> Path:
    """Check, before training, that the final model can be saved to ``output``.

    Raises:
        TargetNotOursError: ``output`` is (or contains) ``output_dir``, or holds files crossrank did not write.
        NotWritableError: ``output``'s folder cannot be written.
    """
    out = Path(output).resolve()
    if output_dir is not None:
        run_dir = Path(output_dir).resolve()
        if out == run_dir or out in run_dir.parents:
            raise TargetNotOursError(
                f"the model output {out} is {'the' if out == run_dir else 'a parent of the'} training output_dir "
                f"{run_dir}; saving there would replace its checkpoints and logs. Fix: save the model to its own "
                f"folder, e.g. --output {run_dir / 'final'} (the default)."
            )
    check_replaceable(out, what="save the model")
    check_writable(out.parent, what="folder of the model output")
    return out


def check_train_outputs(output_dir: str | os.PathLike[str], output: str | os.PathLike[str]) -> None:
    """Everything a training run will write, checked before it loads anything: ``output_dir`` (checkpoints,
    logs, its lock) is writable, and the final model can be saved to ``output`` (next to it goes
    ``<output>-metrics.json``)."""
    check_writable(output_dir, what="training output_dir")
    check_model_output(output, output_dir)
