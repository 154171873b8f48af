"""The notebook cache: it can only miss, never lie or crash.

An entry is one executed notebook with its records and figures, stored under ``.cache/notebooks/<name>/<key>/``
with ``entry.json``: the key it was made for, the tables the notebook read (with their content hashes) and the
sha256 of every file in the entry. An entry is written in a temporary folder and renamed into place, so it is
either complete or absent. On lookup it is used only if every table it read still has the same hash and every
file still has its hash; an unreadable or damaged entry is discarded (with a one-line notice) and the notebook re-runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENTRY_FILE = "entry.json"
FORMAT = 2
KEEP_PER_NOTEBOOK = 6


def digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def files_manifest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): file_sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ENTRY_FILE
    }


def final_key(static_key: str, reads: dict[str, str]) -> str:
    """What downstream notebooks and the report key on: the inputs plus the content of every table read."""
    return digest(static_key, json.dumps(reads, sort_keys=True))


@dataclass(frozen=True)
class Entry:
    folder: Path
    static_key: str
    reads: dict[str, str]

    @property
    def key(self) -> str:
        return final_key(self.static_key, self.reads)


class CacheDamaged(ValueError):
    """An entry that cannot be trusted; the caller discards it."""


class NotebookCache:
    def __init__(self, root: Path, notice: Callable[[str], None] = print):
        self.root, self.notice = Path(root), notice

    def folder(self, name: str, static_key: str) -> Path:
        return self.root / name / static_key[:32]

    def lookup(self, name: str, static_key: str, table_hashes: dict[str, str]) -> Entry | None:
        """The valid entry for these inputs, or None (a miss). Never raises on a damaged entry: it discards it."""
        folder = self.folder(name, static_key)
        if not folder.exists():
            return None
        try:
            entry = _read_entry(folder, static_key)
        except CacheDamaged as exc:
            self.notice(f"cache: the entry for '{name}' was damaged ({exc}); discarded, the notebook re-runs.")
            shutil.rmtree(folder, ignore_errors=True)
            return None
        if any(table_hashes.get(table) != sha for table, sha in entry.reads.items()):
            return None  # a table this notebook read has changed: an ordinary miss
        return entry

    def store(self, name: str, static_key: str, work: Path, reads: dict[str, str]) -> Entry:
        """Copy ``work`` (executed.ipynb, records/, figures/) into the cache atomically; return the entry."""
        temporary = self.root / name / f".tmp-{uuid.uuid4().hex}"
        shutil.copytree(work, temporary, ignore=shutil.ignore_patterns("reads.txt"))
        meta: dict[str, Any] = {
            "format": FORMAT,
            "static_key": static_key,
            "reads": reads,
            "files": files_manifest(temporary),
        }
        (temporary / ENTRY_FILE).write_text(json.dumps(meta, indent=1, sort_keys=True), encoding="utf-8")
        folder = self.folder(name, static_key)
        replace_folder(temporary, folder)
        self._prune(name, keep=folder)
        return Entry(folder, static_key, reads)

    def _prune(self, name: str, keep: Path) -> None:
        """Keep the most recent entries of a notebook (older parameter sets), drop the rest and stray temporaries."""
        entries = sorted(
            (p for p in (self.root / name).iterdir() if p.is_dir() and p != keep),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for stale in [p for p in entries if p.name.startswith(".tmp-")] + [
            p for p in entries if not p.name.startswith(".tmp-")
        ][KEEP_PER_NOTEBOOK - 1 :]:
            shutil.rmtree(stale, ignore_errors=True)


def _read_entry(folder: Path, static_key: str) -> Entry:
    try:
        meta = json.loads((folder / ENTRY_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CacheDamaged(f"no {ENTRY_FILE}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CacheDamaged(f"{ENTRY_FILE} unreadable: {type(exc).__name__}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("static_key") != static_key:
        raise CacheDamaged(f"{ENTRY_FILE} is from another version or key")
    files, reads = meta.get("files"), meta.get("reads")
    if not isinstance(files, dict) or "executed.ipynb" not in files or not isinstance(reads, dict):
        raise CacheDamaged(f"{ENTRY_FILE} is incomplete")
    for relative, sha in files.items():
        path = folder / relative
        if not path.is_file():
            raise CacheDamaged(f"{relative} is missing")
        if file_sha256(path) != sha:
            raise CacheDamaged(f"{relative} does not match its checksum")
    return Entry(folder, static_key, {str(k): str(v) for k, v in reads.items()})


def replace_folder(new: Path, target: Path) -> None:
    """Put ``new`` at ``target`` by renames (an existing ``target`` is replaced, never half-written)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    trash = target.with_name(f".old-{uuid.uuid4().hex}")
    if target.exists():
        os.rename(target, trash)
    os.rename(new, target)
    shutil.rmtree(trash, ignore_errors=True)


def write_atomically(path: Path, text: str) -> None:
    """Write a file so that readers see the old or the new content, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def read_json_state(path: Path, notice: Callable[[str], None] = print) -> dict:
    """A small JSON state file; a damaged one is discarded with a notice and treated as absent."""
    if not path.exists():
        return {}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(state, dict):
            raise ValueError("not a JSON object")
        return state
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        notice(f"cache: {path.name} was damaged ({type(exc).__name__}); discarded.")
        path.unlink(missing_ok=True)
        return {}
