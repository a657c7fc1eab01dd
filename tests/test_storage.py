"""The file storage: a file is there whole or not at all, named by its content, written once however often it
is put."""

import hashlib
import os
import stat
import threading
from pathlib import Path

import pytest

from app.storage import LocalStorage

# big enough that writing it takes a while, so a reader polling meanwhile would see a half-written file
BIG = os.urandom(8 * 1024 * 1024)


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(".tmp-")]


def test_put_names_the_file_by_its_sha256_in_a_shard(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "blobs")
    sha = storage.put(b"un telar")
    assert sha == hashlib.sha256(b"un telar").hexdigest()
    path = storage.path(sha)
    assert path == tmp_path / "blobs" / sha[:2] / sha
    assert path.read_bytes() == b"un telar"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # readable by a server running as another user
    assert storage.exists(sha)
    with storage.open(sha) as file:
        assert file.read() == b"un telar"


def test_put_is_idempotent_and_writes_once(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    sha = storage.put(b"una foto")
    path = storage.path(sha)
    assert path is not None
    before = path.stat()
    assert storage.put(b"una foto") == sha
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [path]


def test_what_was_never_put_is_not_there(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    missing = hashlib.sha256(b"nada").hexdigest()
    assert storage.path(missing) is None
    assert not storage.exists(missing)
    with pytest.raises(FileNotFoundError):
        storage.open(missing)


@pytest.mark.parametrize("name", ["../" + "a" * 61, "/etc/passwd", "A" * 64, "a" * 63, ""])
def test_only_a_sha256_names_a_file(tmp_path: Path, name: str) -> None:
    storage = LocalStorage(tmp_path)
    with pytest.raises(ValueError, match="not a SHA-256"):
        storage.path(name)


def test_a_reader_never_sees_half_a_file(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    sha = hashlib.sha256(BIG).hexdigest()
    seen: list[int] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            path = storage.path(sha)
            if path is not None:
                seen.append(len(path.read_bytes()))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        assert storage.put(BIG) == sha
    finally:
        done.set()
        reader.join()
    assert set(seen) <= {len(BIG)}
    assert leftovers(tmp_path) == []


def test_writers_of_the_same_bytes_at_once_all_succeed(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    barrier = threading.Barrier(4)
    results: list[str] = []

    def write() -> None:
        barrier.wait()
        results.append(storage.put(BIG))

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sha = hashlib.sha256(BIG).hexdigest()
    assert results == [sha] * 4
    path = storage.path(sha)
    assert path is not None
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
    assert leftovers(tmp_path) == []


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    sha = hashlib.sha256(b"sin lugar").hexdigest()
    # the file's name is taken by a folder: the rename fails after the temporary file was written
    (tmp_path / sha[:2] / sha).mkdir(parents=True)
    with pytest.raises(IsADirectoryError):
        storage.put(b"sin lugar")
    assert leftovers(tmp_path) == []
