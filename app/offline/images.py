"""Raster images re-encoded for a tier: WebP no wider than the tier allows, without metadata."""

import io

from PIL import Image


def webp(data: bytes, max_width: int, quality: int) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        picture = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    if picture.width > max_width:
        height = max(1, round(picture.height * max_width / picture.width))
        picture = picture.resize((max_width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # method 6: the slowest and smallest; built once per version, downloaded over 2G many times
    picture.save(out, "WEBP", quality=quality, method=6, exif=b"", icc_profile=None)
    return out.getvalue()
