"""Publish ``report/`` and ``figures/`` together: stage both, swap both, and on any failure put both back.

Each swap is a rename (atomic on one file system). The old folders are parked in the build's own folder until both
new ones are in place, so a failure at any step can undo every step before it: a reader sees either the old pair or
the new pair, never one of each.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


class PublishError(OSError):
    """report/ or figures/ could not be replaced; both were left as they were."""


def _move(source: Path, target: Path) -> None:
    """One rename (a separate function so tests can make a chosen step fail)."""
    os.rename(source, target)


def publish(staged: dict[str, Path], targets: dict[str, Path], parking: Path) -> None:
    """Replace each ``targets[name]`` by ``staged[name]``; all or nothing.

    ``parking`` is an empty folder on the same file system, where the old folders wait until the swap is complete.
    """
    parking.mkdir(parents=True, exist_ok=True)
    done: list[tuple[Path, Path]] = []  # (from, to) of every rename made, to undo in reverse order
    try:
        for name, target in targets.items():
            if target.exists():
                _step(target, parking / name, done)
            _step(staged[name], target, done)
    except OSError as exc:
        problems = _undo(done)
        where = Path(getattr(exc, "filename", "") or "").name or "the output folders"
        message = (
            f"could not publish the report: cannot replace {where}/ ({exc.strerror or exc}). "
            "Make report/ and figures/ (and the folder holding them) writable, then build again."
        )
        if problems:
            message += " Rolling back also failed: " + "; ".join(problems)
        else:
            message += " report/ and figures/ were left exactly as they were."
        raise PublishError(message) from None
    shutil.rmtree(parking, ignore_errors=True)


def _step(source: Path, target: Path, done: list[tuple[Path, Path]]) -> None:
    _move(source, target)
    done.append((source, target))


def _undo(done: list[tuple[Path, Path]]) -> list[str]:
    problems = []
    for source, target in reversed(done):
        try:
            os.rename(target, source)
        except OSError as exc:  # pragma: no cover - reported, never silent
            problems.append(f"{target} -> {source}: {exc}")
    return problems
