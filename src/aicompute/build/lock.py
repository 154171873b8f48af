"""One build per checkout at a time: an advisory lock on ``.build/lock`` that names the process holding it.

The operating system releases the lock when the holder exits, however it exits (a kill included), so a stale lock
file never blocks a later build.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import IO

EXIT_LOCKED = 75  # sysexits EX_TEMPFAIL: "try again later"


class BuildLocked(RuntimeError):
    """Another build holds the lock of this checkout."""

    def __init__(self, pid: str):
        self.pid = pid
        super().__init__(f"another build is running (pid {pid or 'unknown'}); wait for it to finish or run with --wait")


class BuildLock:
    """``with BuildLock(path, wait=False):`` holds the checkout's build lock for the block."""

    def __init__(self, path: Path, wait: bool = False, poll_seconds: float = 0.2):
        self.path, self.wait, self.poll_seconds = Path(path), wait, poll_seconds
        self._handle: IO[str] | None = None

    def __enter__(self) -> BuildLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held open for the lock's lifetime)
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not self.wait:
                    holder = holder_pid(self.path)
                    handle.close()
                    raise BuildLocked(holder) from None
                time.sleep(self.poll_seconds)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is None:
            return
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.flush()
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()
        self._handle = None


def holder_pid(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError:
        return ""
