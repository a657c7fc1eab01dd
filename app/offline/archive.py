"""Deterministic zips: the same files always give the same bytes, so the same ETag and a resumable Range."""

import io
import zipfile
from collections.abc import Mapping

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say; the build time would change the bytes
# already compressed (images, audio): stored, so that nothing is spent compressing them again
_STORED_SUFFIXES = (".webp", ".png", ".jpg", ".jpeg", ".opus", ".ogg")


def deterministic_zip(files: Mapping[str, bytes]) -> bytes:
    """Entries sorted by path, fixed timestamp and permissions (0644, Unix), DEFLATE level 9 for text."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=_FIXED_TIME)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_STORED if path.endswith(_STORED_SUFFIXES) else zipfile.ZIP_DEFLATED
            archive.writestr(info, files[path], compresslevel=9)
    return buffer.getvalue()
