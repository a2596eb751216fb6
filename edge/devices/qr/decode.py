"""Reading QR codes from camera pictures: both libraries' plain reads, then passes that rescue what they miss.

The order is set by cost and by what each pass rescues (measured by ``bench/qr_decode.py``):

1. zxing-cpp with its defaults on the picture as given (≈ 2 ms at 1 MP; it tries rotations, inversion,
   downscaling, and gives GS1 codes as "(01)…" text). Most pictures are read here.
2. zbar on the grey picture (``edge.devices.qr.zbar``: pyzbar's scan plus zbar's GS1 flag, so a GS1 code
   reads as the same text). Steps 1 and 2 are exactly what each library reads alone, so decode_image
   reads at least their union on any picture; every later pass only adds.
3. Where zxing *located* a code but could not decode it (``return_errors``): the region is cut out,
   enlarged and retried with sharpening, contrast equalisation and thresholding (small codes, glare and
   blur usually fail on a few modules), then straightened from its corners (``edge.devices.qr.unwarp``:
   perspective, then cylinder and curl hypotheses).
4. Only when nothing at all was read: whole-picture passes, cheapest and most useful first, stopping at
   the first that reads something — an unsharp mask, zbar on an adaptive threshold, CLAHE, a flattened
   background (shadows, glare), morphological open/close, 2× upscaling (small codes), a median filter
   (noise), zxing's global histogram binariser; then codes located by their texture
   (``edge.devices.qr.locate``) and by OpenCV's detector, straightened as in step 3.

``thorough=False`` is for camera streams: most frames hold no code, and the next frame is another chance,
so it skips zbar's plain read, the curvature hypotheses and step 4, which would only burn the CPU the web
app needs (a frame then costs about what zxing costs).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

import cv2
import numpy as np
import zxingcpp

from edge.core.errors import EdgeError
from edge.devices.qr.locate import texture_quads
from edge.devices.qr.unwarp import HYPOTHESES, rectify, unwarp
from edge.devices.qr.zbar import read as zbar_read

# The smallest QR code (version 1) is 21 modules; below about one pixel per module nothing can be read.
MIN_SIDE = 21
# Crops of located-but-unread codes are enlarged so the code spans at least this many pixels.
ROI_TARGET = 360
MAX_ROIS = 4
# Corner quads straightened per unread code (zxing may report several for one code, largest first).
QUADS_PER_REGION = 2
# …and larger crops shrunk to this (even a version 40 code keeps over 5 px per module).
ROI_MAX = 1000
# The whole-picture passes work on a copy no larger than this: on a 12 MP phone photo they would take
# seconds at full size, and zxing's first pass has already looked at every pixel.
WHOLE_PICTURE_SIDE = 1600

_QR = zxingcpp.BarcodeFormat.QRCode


class QrImageError(EdgeError):
    code = "qr-image-invalid"

    def __init__(self, detail: str):
        super().__init__(
            "الصورة المرسلة لقارئ الرمز غير صالحة.",
            "The picture given to the QR reader is not an image.",
            detail=detail,
        )


def to_gray(image) -> np.ndarray:
    """Any picture-like array as a contiguous uint8 grey image; QrImageError when it is not a picture."""
    if not isinstance(image, np.ndarray):
        try:
            image = np.asarray(image)  # PIL images and nested lists
        except Exception as exc:  # noqa: BLE001 - anything that is not array-like is "not an image"
            raise QrImageError(f"cannot read {type(image).__name__} as an array: {exc}") from exc
    if image.dtype == object or image.dtype.kind not in "biuf":
        raise QrImageError(f"pixel type {image.dtype} is not numeric")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise QrImageError(f"shape {image.shape} is neither grey (h, w) nor colour (h, w, 3|4)")
    if image.dtype == np.bool_:
        image = image.astype(np.uint8) * 255
    elif image.dtype.kind == "f":
        image = np.nan_to_num(image.astype(np.float32), nan=0.0, posinf=255.0, neginf=0.0)
        # floats in 0..1 are the usual convention for normalised pictures
        if image.size and float(image.max()) <= 1.0:
            image = image * 255.0
        image = np.clip(image, 0, 255).astype(np.uint8)
    elif image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 3 and image.size:
        image = cv2.cvtColor(np.ascontiguousarray(image),
                             cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    return np.ascontiguousarray(image)


# --- the decoders -------------------------------------------------------------------------------


def _corners(code) -> np.ndarray:
    p = code.position
    return np.array([[p.top_left.x, p.top_left.y], [p.top_right.x, p.top_right.y],
                     [p.bottom_right.x, p.bottom_right.y], [p.bottom_left.x, p.bottom_left.y]], np.float32)


def _zxing(picture: np.ndarray) -> tuple[list[str], list[np.ndarray], list[np.ndarray]]:
    """Texts read by zxing-cpp with its defaults, the corners of those codes, and of codes located but not decoded.

    ``picture`` is what a user of zxing-cpp would pass (grey or BGR uint8). Texts are zxing's HRI form:
    a GS1 code comes back as "(01)…(17)…".
    """
    texts, read, failed = [], [], []
    for code in zxingcpp.read_barcodes(picture, formats=_QR, return_errors=True):
        if code.valid:
            if code.text:
                texts.append(code.text)
                read.append(_corners(code))
        else:
            failed.append(_corners(code))
    return texts, read, failed


def zxing_texts(gray: np.ndarray, **options) -> list[str]:
    return [code.text for code in zxingcpp.read_barcodes(gray, formats=_QR, **options) if code.text]


def zbar_texts(gray: np.ndarray) -> list[str]:
    """Texts zbar reads (GS1 codes in the same "(AI)value" form as zxing's, see ``edge.devices.qr.zbar``)."""
    return [code.text for code in zbar_read(gray)]


def _opencv_quads(gray: np.ndarray) -> list[np.ndarray]:
    """Corners of the codes OpenCV's detector finds (another finder-pattern search than zxing's)."""
    try:
        ok, points = cv2.QRCodeDetector().detectMulti(gray)
    except cv2.error:
        return []
    return [np.asarray(q, np.float32).reshape(4, 2) for q in points] if ok and points is not None else []


# --- pre-processing -----------------------------------------------------------------------------


def _sharpen(gray: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    return cv2.addWeighted(gray, 2.0, cv2.GaussianBlur(gray, (0, 0), sigma), -1.0, 0)


def _clahe(gray: np.ndarray) -> np.ndarray:
    return cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(gray)


def _adaptive(gray: np.ndarray) -> np.ndarray:
    block = max(15, (min(gray.shape) // 16) | 1)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, 5)


def _flatten(gray: np.ndarray) -> np.ndarray:
    # Divide by the light falling on the page (estimated on a small copy, which is fast): removes
    # shadows and gradients, and shrinks a glare spot's halo.
    h, w = gray.shape
    small = cv2.resize(gray, (max(8, w // 16), max(8, h // 16)), interpolation=cv2.INTER_AREA)
    small = cv2.dilate(small, np.ones((3, 3), np.uint8))  # the paper, not the ink, sets the light level
    light = cv2.resize(cv2.GaussianBlur(small, (0, 0), 2), (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.normalize(cv2.divide(gray, np.maximum(light, 1), scale=200), None, 0, 255, cv2.NORM_MINMAX)


def _open(gray: np.ndarray) -> np.ndarray:
    return cv2.morphologyEx(gray, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))


def _close(gray: np.ndarray) -> np.ndarray:
    return cv2.morphologyEx(gray, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))


def _upscale(gray: np.ndarray, factor: float = 2.0) -> np.ndarray:
    return cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)


def _at_most(gray: np.ndarray, side: int) -> np.ndarray:
    factor = side / max(gray.shape)
    if factor >= 1:
        return gray
    return cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)


def _whole_picture_passes(gray: np.ndarray) -> Iterable[Callable[[], list[str]]]:
    yield lambda: zxing_texts(_sharpen(gray))
    yield lambda: zbar_texts(_adaptive(gray))
    yield lambda: zxing_texts(_clahe(gray))
    yield lambda: zxing_texts(_flatten(gray))
    yield lambda: zxing_texts(_open(gray))
    yield lambda: zxing_texts(_close(gray))
    if max(gray.shape) <= 1400:  # beyond that a 2× copy costs more than it rescues
        yield lambda: zxing_texts(_upscale(gray), try_downscale=False)
    yield lambda: zxing_texts(cv2.medianBlur(gray, 5))
    yield lambda: zxing_texts(gray, binarizer=zxingcpp.Binarizer.GlobalHistogram)


def _roi_passes(crop: np.ndarray) -> Iterable[Callable[[], list[str]]]:
    yield lambda: zxing_texts(crop)
    yield lambda: zxing_texts(_sharpen(crop, 2.0))
    yield lambda: zxing_texts(_clahe(crop))
    yield lambda: zbar_texts(crop)
    yield lambda: zbar_texts(_adaptive(crop))
    yield lambda: zxing_texts(cv2.medianBlur(crop, 3))
    yield lambda: zxing_texts(_open(crop))
    yield lambda: zxing_texts(_close(crop))


def _straightened_passes(gray: np.ndarray, quad: np.ndarray, bends: bool = True) -> Iterable[Callable[[], list[str]]]:
    """The located code rectified from its corners, then (``bends``) each curvature hypothesis (``unwarp``)."""
    edges = np.linalg.norm(quad - np.roll(quad, 1, axis=0), axis=1)
    side = int(np.clip(1.2 * edges.max(), 240, 480))
    square = rectify(gray, quad, side)
    yield lambda: zxing_texts(square, try_downscale=False)
    yield lambda: zbar_texts(square)
    yield lambda: zxing_texts(_sharpen(square, 2.0), try_downscale=False)
    yield lambda: zbar_texts(_adaptive(square))
    for bend in HYPOTHESES if bends else ():
        yield lambda bend=bend: zxing_texts(unwarp(square, bend), try_downscale=False, try_rotate=False,
                                            try_invert=False)


class _Region:
    """A place where codes were located but not read: the candidate corner quads, and a box round them.

    zxing often reports several quads for one unread code (different finder-pattern triples, some
    wrong); they are kept together, largest first, and each is straightened in turn.
    """

    def __init__(self, quad: np.ndarray, shape):
        self.shape = shape
        self.quads = [quad]
        self.box = self._box(quad)

    def _box(self, quad: np.ndarray) -> tuple[int, int, int, int]:
        h, w = self.shape
        x0, y0 = quad.min(axis=0)
        x1, y1 = quad.max(axis=0)
        m = 0.3 * max(x1 - x0, y1 - y0) + 4
        return (int(max(0, x0 - m)), int(max(0, y0 - m)), int(min(w, x1 + m)), int(min(h, y1 + m)))

    def add(self, quad: np.ndarray) -> None:
        self.quads.append(quad)
        self.quads.sort(key=lambda q: -cv2.contourArea(q))
        b, box = self.box, self._box(quad)
        self.box = (min(b[0], box[0]), min(b[1], box[1]), max(b[2], box[2]), max(b[3], box[3]))

    def area(self) -> int:
        return (self.box[2] - self.box[0]) * (self.box[3] - self.box[1])


def _side(quad: np.ndarray) -> float:
    return float((quad.max(axis=0) - quad.min(axis=0)).max())


def _regions(failed: list[np.ndarray], read: list[np.ndarray], shape) -> list[_Region]:
    """Located-but-unread codes, grouped by place, largest first, leaving out the places of codes already read."""
    regions: list[_Region] = []
    for quad in failed:
        if _side(quad) < 8 or cv2.contourArea(quad) < 16:  # degenerate (zxing reports 0x0 when it could not size it)
            continue
        region = _Region(quad, shape)
        # A region that is one of the codes already read is not worth another look.
        if any(_inside(r, region.box) for r in read):
            continue
        for other in regions:
            if _overlap(other.box, region.box) > 0.3:
                other.add(quad)
                break
        else:
            regions.append(region)
    regions.sort(key=lambda r: -r.area())
    return regions[:MAX_ROIS]


def _inside(pts: np.ndarray, box) -> bool:
    cx, cy = pts.mean(axis=0)
    return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]


def _overlap(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])) or 1
    return ix * iy / smaller


def _crop(gray: np.ndarray, box) -> np.ndarray | None:
    x0, y0, x1, y1 = box
    crop = gray[y0:y1, x0:x1]
    if min(crop.shape) < MIN_SIDE // 2:
        return None
    factor = ROI_TARGET / max(crop.shape)
    if factor > 1.2:
        crop = cv2.resize(crop, None, fx=min(factor, 6.0), fy=min(factor, 6.0), interpolation=cv2.INTER_CUBIC)
    elif max(crop.shape) > ROI_MAX:
        crop = _at_most(crop, ROI_MAX)
    return np.ascontiguousarray(crop)


def _read_regions(gray: np.ndarray, regions: list[_Region], bends: bool = True) -> list[str]:
    """Each region: crop passes (blur, glare, small codes), then straightened passes (perspective, curvature)."""
    found: list[str] = []
    for region in regions:
        crop = _crop(gray, region.box)
        attempts = [] if crop is None else [_roi_passes(crop)]
        attempts += [_straightened_passes(gray, quad, bends) for quad in region.quads[:QUADS_PER_REGION]]
        for attempt in itertools.chain.from_iterable(attempts):
            texts = attempt()
            if texts:
                found.extend(texts)
                break
    return found


def _as_given(image, gray: np.ndarray) -> np.ndarray:
    """The picture as a user of zxing-cpp would hand it over: uint8 grey or BGR as is, anything else as grey."""
    if isinstance(image, np.ndarray) and image.dtype == np.uint8 and (
            image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        return np.ascontiguousarray(image)
    return gray


def decode_image(image, *, thorough: bool = True) -> list[str]:
    """Every QR code's text in ``image`` (numpy, grey or BGR/BGRA, any numeric dtype), each once, in the order found.

    Returns [] for an empty or too small picture; raises QrImageError for something that is not a
    picture at all. ``thorough=False`` skips zbar's plain read and the whole-picture rescue passes (for
    camera streams); with ``thorough=True`` every code that zxing-cpp or zbar reads on its own is read.
    """
    gray = to_gray(image)
    if gray.ndim != 2 or min(gray.shape) < MIN_SIDE:
        return []
    texts: list[str] = []
    try:
        # 1. The two libraries' plain reads: whatever either reads alone, decode_image reads.
        texts, read, failed = _zxing(_as_given(image, gray))
        if thorough:
            for code in zbar_read(gray):
                texts.append(code.text)
                if len(code.polygon) >= 3:
                    read.append(np.asarray(code.polygon, np.float32))
        # 2. Located but unread: crops, then straightened (perspective, curvature).
        if failed:
            texts.extend(_read_regions(gray, _regions(failed, read, gray.shape), bends=thorough))
        # 3. Nothing at all: whole-picture passes, then codes located by their texture, then by OpenCV.
        if not texts and thorough:
            small = _at_most(gray, WHOLE_PICTURE_SIDE)
            for attempt in _whole_picture_passes(small):
                texts = attempt()
                if texts:
                    break
            for locate in (texture_quads, _opencv_quads):
                if texts:
                    break
                texts = _read_regions(small, _regions(locate(small), [], small.shape))
    except cv2.error:
        # OpenCV refuses some degenerate shapes (e.g. a 1-pixel-high strip after a resize); such a
        # picture has no readable code in it.
        pass
    return list(dict.fromkeys(t for t in texts if t))
