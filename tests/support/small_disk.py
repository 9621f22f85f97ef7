"""A small filesystem of a test's own (a tmpfs mount), to fill up on purpose: a disk that is really full,
with ENOSPC from the kernel, not a simulated error. Needs the right to mount (root in the sandbox); a test
that uses it is skipped, loudly, where mounting is refused."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

_CHUNK = b"\0" * 65_536


@contextmanager
def small_disk(mount_point: Path, *, size_mb: int) -> Iterator[Path]:
    """`mount_point` as a tmpfs of `size_mb` MiB, unmounted on exit."""
    mount_point.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"SKIPPED LOUDLY: cannot mount a tmpfs to fill (needs root): {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, check=False)


def fill(directory: Path, name: str = "filler") -> Path:
    """Write a file in `directory` until the filesystem refuses with ENOSPC; the file."""
    path = directory / name
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        while True:
            try:
                os.write(descriptor, _CHUNK)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
        _fill_to_the_last_byte(descriptor)
    finally:
        os.close(descriptor)
    return path


def _fill_to_the_last_byte(descriptor: int) -> None:
    size = len(_CHUNK) // 2
    while size:
        try:
            os.write(descriptor, b"\0" * size)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
            size //= 2
