"""The one file-storage interface: content files (lesson media; later offline packages, narration, PDFs), each
named by the SHA-256 of its bytes.

Kept narrow — put, exists, path, open — so that an S3-compatible bucket can implement it later. A file is
written (and flushed to disk) before the database row that names it is committed: a committed row never names
a file that is not there, and a file no row names is harmless (a repeated ``put`` finds it already there).
"""

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from app.core.config import Settings

_SHA256 = re.compile(r"[0-9a-f]{64}")


class Storage(Protocol):
    def put(self, data: bytes) -> str:
        """Store ``data``; returns its SHA-256 (hex). Idempotent, and atomic: readers see all of it or none."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def path(self, sha256: str) -> Path | None:
        """A local file holding these bytes (what a file response serves with ranges), or None if not stored."""
        ...

    def open(self, sha256: str) -> BinaryIO:
        """The bytes for reading (packaging, rendering); FileNotFoundError if not stored."""
        ...


class LocalStorage:
    """A directory: ``<root>/ab/abcdef…``, two hex characters per shard so no folder grows too large."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _file(self, sha256: str) -> Path:
        # the name becomes a path: only a real hash may, never "../" or an absolute path
        if not _SHA256.fullmatch(sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        target = self._file(sha256)
        if target.is_file():
            return sha256  # written whole before (os.replace below), and the name is its content
        target.parent.mkdir(parents=True, exist_ok=True)
        # a temporary file in the same folder, renamed over the target: a crash or a concurrent reader never
        # sees half a file; two writers of the same bytes both succeed
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())  # on disk before the row naming it is committed
            os.chmod(temporary, 0o644)  # mkstemp makes 0600; the server may run as another user than the loader
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_directory(target.parent)
        return sha256

    def exists(self, sha256: str) -> bool:
        return self._file(sha256).is_file()

    def path(self, sha256: str) -> Path | None:
        file = self._file(sha256)
        return file if file.is_file() else None

    def open(self, sha256: str) -> BinaryIO:
        return self._file(sha256).open("rb")


def _fsync_directory(folder: Path) -> None:
    """Make the rename itself durable (POSIX); not possible, nor needed, on Windows."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def storage_for(settings: Settings) -> Storage:
    return LocalStorage(settings.data_dir / "blobs")

