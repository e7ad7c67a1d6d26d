"""keep_freed_memory: glibc's mallopt is set once on Linux, and the environment switch turns it off."""

from __future__ import annotations

import sys

import pytest

from crossrank.training import heap


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_keep_freed_memory_applies_once_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_applied", False)
    monkeypatch.delenv("CROSSRANK_KEEP_HEAP", raising=False)
    assert heap.keep_freed_memory() is True
    assert heap.keep_freed_memory() is True


def test_keep_freed_memory_is_off_with_the_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_applied", False)
    monkeypatch.setenv("CROSSRANK_KEEP_HEAP", "0")
    assert heap.keep_freed_memory() is False


def test_the_library_default_leaves_the_allocator_alone(tmp_path: object) -> None:
    from crossrank.training.args import TrainingArguments
    from crossrank.warm_start.config import WarmStartConfig

    assert TrainingArguments(output_dir=str(tmp_path), use_cpu=True).keep_freed_memory is False
    assert WarmStartConfig().keep_freed_memory is False
