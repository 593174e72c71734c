"""Atomic file output: a file appears under its final name only when it is complete.

Every writer in ddprune goes through :func:`atomic_path`, so a job killed mid-write (or a
full disk) leaves at most a hidden temporary file behind, never a truncated table or
checkpoint under the name that Snakemake and the resume logic trust.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


class OutputError(OSError):
    """A result cannot be written (full disk, read-only or missing folder, no permission)."""


_HINTS = {
    errno.ENOSPC: "the disk is full: free space (or point the results elsewhere) and rerun",
    errno.EDQUOT: "the disk quota is exceeded: free space and rerun",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "no permission to write there",
    errno.EPERM: "no permission to write there",
}


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it into place atomically.

    The temporary file lives in the same directory so that the final ``os.replace`` is a
    rename on one file system. On any exception the temporary file is removed and the
    previous content of ``path`` (if any) is left untouched. A failure of the file system
    itself becomes an :class:`OutputError` that names the file and what to do -- the raw
    error from deep inside a Parquet or torch writer rarely names either.
    """
    path = Path(path)
    tmp_path = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        yield tmp_path
        with open(tmp_path, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp's 0600 would hide results from others
        os.replace(tmp_path, path)
    except BaseException as error:
        if tmp_path is not None:
            tmp_path.unlink(missing_ok=True)
        if isinstance(error, OSError) and not isinstance(error, OutputError):
            code = _errno(error)
            if code is not None:
                hint = _HINTS.get(code, os.strerror(code))
                raise OutputError(
                    code, f"cannot write {path}: {hint}; nothing was written under that name"
                ) from error
        raise


def _umask() -> int:
    """The process's umask (reading it means setting it: put it straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _errno(error: OSError) -> int | None:
    """The errno of ``error`` -- pyarrow raises OSError with the code only in its message."""
    if error.errno is not None:
        return error.errno
    text = str(error)
    for code in _HINTS:
        if os.strerror(code) in text:
            return code
    return None


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
