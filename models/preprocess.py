"""Image decoding, validation, resizing and normalisation.

Everything a user can upload passes through :func:`load_image`, which either returns an
``HxWx3`` RGB ``uint8`` array (EXIF-rotated) or raises :class:`ImageDecodeError` with a
message that names the file and the reason. :func:`resize_for_model` keeps the aspect
ratio, scales so the chosen side meets the size policy, then *pads* (never stretches)
to multiples of 32, so a single scale factor per axis maps boxes back exactly.
"""
from __future__ import annotations

import functools
import io
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Tuple, Union

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageOps

from .config import DetectorConfig

ImageSource = Union[str, os.PathLike, bytes, bytearray, np.ndarray, Image.Image]

STRIDE = 32


class ImageDecodeError(ValueError):
    """An input that is not a usable image; the message names the file and the reason."""


def _describe(source: object, name: str | None) -> str:
    if name:
        return name
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    if isinstance(source, (bytes, bytearray)):
        return f"<{len(source)} bytes>"
    return f"<{type(source).__name__}>"


def _sniff_non_image(head: bytes) -> str | None:
    """Name well-known non-image formats so the error says what the file really is."""
    h = head.lstrip()[:64].lower()
    if head.startswith(b"%PDF"):
        return "it is a PDF document, not an image (convert its pages to PNG first)"
    if h.startswith(b"<svg") or (h.startswith(b"<?xml") and b"svg" in head[:512].lower()):
        return "it is an SVG vector drawing, not a raster image"
    if h.startswith(b"<!doctype html") or h.startswith(b"<html"):
        return "it is an HTML page, not an image"
    if head.startswith(b"PK\x03\x04"):
        return "it is a ZIP archive, not an image"
    return None


def load_image(source: ImageSource, max_megapixels: float = 40.0, name: str | None = None) -> np.ndarray:
    """Decode ``source`` (path, bytes, numpy array or PIL image) to RGB uint8, EXIF-rotated.

    Raises:
        ImageDecodeError: zero-byte, truncated, non-image, over-limit or unreadable input.
    """
    return _decode(source, max_megapixels, name)[0]


def load_image_for_detection(source: ImageSource, cfg: DetectorConfig,
                             name: str | None = None) -> Tuple[np.ndarray, Tuple[int, int]]:
    """Decode ``source`` for the network: returns the RGB image and the original (height, width).

    A JPEG far larger than the size policy lets the network see is decoded at 1/2, 1/4 or
    1/8 scale by libjpeg itself (PIL's ``draft``), never below that size: a 12-megapixel
    phone photo decodes in 81 ms instead of 211 ms here, for the same boxes. The returned
    image is then smaller than the original; boxes stay in original pixels (the size returned).
    """
    def needed(h: int, w: int) -> Tuple[int, int]:
        rh, rw = target_size(h, w, cfg)
        side = max(rh, rw)      # square: right whatever the EXIF rotation turns out to be
        return side, side

    return _decode(source, cfg.max_megapixels, name, needed)


def load_image_at_least(source: ImageSource, long_side: int, max_megapixels: float = 40.0,
                        name: str | None = None) -> np.ndarray:
    """:func:`load_image`, but a JPEG at least twice as large is decoded at 1/2, 1/4 or 1/8
    scale by libjpeg, its long side never below ``long_side``: pictures to draw on, cheaply."""
    def needed(h: int, w: int) -> Tuple[int, int]:
        r = min(1.0, long_side / max(h, w))
        return max(1, round(h * r)), max(1, round(w * r))

    return _decode(source, max_megapixels, name, needed)[0]


def _decode(source: ImageSource, max_megapixels: float, name: str | None,
            needed: Callable[[int, int], Tuple[int, int]] | None = None) -> Tuple[np.ndarray, Tuple[int, int]]:
    """The checked decode behind :func:`load_image`; ``needed(h, w)`` (when given) is the
    smallest (height, width) a JPEG may be reduced to while decoding."""
    label = _describe(source, name)
    if isinstance(source, np.ndarray):
        arr = _array_to_rgb(source, label, max_megapixels)
        return arr, arr.shape[:2]
    if isinstance(source, Image.Image):
        arr = _pil_to_rgb(source, label, max_megapixels)
        return arr, arr.shape[:2]
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise ImageDecodeError(f"{label}: file not found")
        if not path.is_file():
            raise ImageDecodeError(f"{label}: not a regular file")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImageDecodeError(f"{label}: cannot be read ({exc.strerror or exc})") from exc
    elif isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        raise ImageDecodeError(f"{label}: unsupported input type {type(source).__name__}")
    if not data:
        raise ImageDecodeError(f"{label}: the file is empty (0 bytes)")
    reason = _sniff_non_image(data[:1024])
    if reason:
        raise ImageDecodeError(f"{label}: {reason}")
    max_pixels = int(max_megapixels * 1e6)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > max_pixels:
                raise ImageDecodeError(
                    f"{label}: image is {w}x{h} = {w * h / 1e6:.1f} megapixels, above the "
                    f"limit of {max_megapixels:g} megapixels (raise max_megapixels to allow it)")
            if needed is not None and img.format in ("JPEG", "MPO"):   # MPO: many phones' JPEGs
                need_h, need_w = needed(h, w)
                if w >= 2 * need_w and h >= 2 * need_h:
                    img.draft(None, (need_w, need_h))   # libjpeg's DCT scaling, never below the size asked
            img.load()
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"{label}: image is too large to decode safely ({exc})") from exc
    except Image.UnidentifiedImageError as exc:
        raise ImageDecodeError(f"{label}: not a recognised image format") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        msg = str(exc)
        if "truncated" in msg.lower() or isinstance(exc, EOFError):
            raise ImageDecodeError(f"{label}: the image data is truncated or corrupt ({msg})") from exc
        raise ImageDecodeError(f"{label}: the image cannot be decoded ({msg})") from exc
    decoded_w, decoded_h = img.size
    arr = _pil_to_rgb(img, label, max_megapixels)
    turned = arr.shape[:2] != (decoded_h, decoded_w)     # EXIF rotation by 90 or 270 degrees
    return arr, ((w, h) if turned else (h, w))


def _pil_to_rgb(img: Image.Image, label: str, max_megapixels: float) -> np.ndarray:
    w, h = img.size
    if w * h > max_megapixels * 1e6:
        raise ImageDecodeError(f"{label}: image is {w}x{h}, above the limit of {max_megapixels:g} megapixels")
    if w < 1 or h < 1:
        raise ImageDecodeError(f"{label}: image has no pixels ({w}x{h})")
    try:
        # Only when the EXIF says the picture is turned: exif_transpose copies the whole image
        # even when there is nothing to turn (1.3 ms of a 5 ms decode for a 1280x720 photo,
        # together with convert("RGB") on an RGB image, below).
        if img.getexif().get(ExifTags.Base.Orientation, 1) != 1:
            img = ImageOps.exif_transpose(img)  # the first frame of animations / multi-page files
    except Exception:  # a broken EXIF block must not make the picture unusable
        pass
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        hi = arr.max() if arr.size else 0.0
        scale = 255.0 / 65535.0 if hi > 255 else 1.0
        arr = np.clip(arr * scale, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(arr[..., None], 3, axis=2))
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        # Composite on white: transparent text on a transparent canvas must stay visible.
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    return np.ascontiguousarray(np.asarray(img if img.mode == "RGB" else img.convert("RGB"), dtype=np.uint8))


def _array_to_rgb(arr: np.ndarray, label: str, max_megapixels: float) -> np.ndarray:
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4) or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ImageDecodeError(f"{label}: expected an HxW, HxWx3 or HxWx4 array, got shape {arr.shape}")
    if arr.shape[0] * arr.shape[1] > max_megapixels * 1e6:
        raise ImageDecodeError(f"{label}: image is {arr.shape[1]}x{arr.shape[0]}, above the limit of {max_megapixels:g} megapixels")
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating) and arr.max(initial=0) <= 1.0:
            arr = arr * 255.0
        elif arr.dtype == np.uint16:
            arr = arr / 257.0
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    elif arr.shape[2] == 4:
        alpha = arr[..., 3:4].astype(np.float32) / 255.0
        arr = (arr[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(arr)


@dataclass(frozen=True)
class ResizeInfo:
    """How an image was mapped into the network input: ``x_in = x_orig * scale_x``."""

    orig_h: int
    orig_w: int
    resized_h: int      # content size before padding
    resized_w: int
    input_h: int        # padded size fed to the network (multiples of 32)
    input_w: int

    @property
    def scale_x(self) -> float:
        return self.resized_w / self.orig_w

    @property
    def scale_y(self) -> float:
        return self.resized_h / self.orig_h


def target_size(h: int, w: int, cfg: DetectorConfig) -> Tuple[int, int]:
    """Content size (h, w) after the size policy; aspect kept, long side capped."""
    if cfg.limit_type == "max":
        ratio = min(1.0, cfg.limit_side / max(h, w))
        floor = cfg.min_short_ratio * cfg.limit_side
        if min(h, w) * ratio < floor:                  # a tall receipt or scan: keep its small text
            ratio = min(1.0, floor / min(h, w))
        grow = min(cfg.max_upscale, cfg.min_long_ratio * cfg.limit_side / max(h, w))
        ratio = max(ratio, grow)                       # a small graphic: its text gets pixels
    elif cfg.limit_type == "long":
        ratio = cfg.limit_side / max(h, w)          # small images grow: small text gets pixels
    else:
        ratio = max(1.0, cfg.limit_side / min(h, w))
    ratio = min(ratio, cfg.max_side / max(h, w))
    rh = max(1, int(round(h * ratio)))
    rw = max(1, int(round(w * ratio)))
    return rh, rw


def pad_to_stride(n: int, stride: int = STRIDE) -> int:
    return max(stride, int(math.ceil(n / stride)) * stride)


def resize_for_model(image: np.ndarray, cfg: DetectorConfig,
                     pad_to: Tuple[int, int] | None = None,
                     orig_size: Tuple[int, int] | None = None) -> Tuple[np.ndarray, ResizeInfo]:
    """Resize (aspect kept) and pad to multiples of 32, or to ``pad_to`` (fixed-shape models).

    With ``pad_to`` the content is scaled down further if needed to fit inside it.
    ``orig_size`` (height, width) is the original's size when ``image`` was decoded smaller
    (:func:`load_image_for_detection`): the size policy and the mapping back use it.
    Returns the padded uint8 image and the mapping back to the original.
    """
    h, w = image.shape[:2]
    orig_h, orig_w = orig_size if orig_size is not None else (h, w)
    rh, rw = target_size(orig_h, orig_w, cfg)
    if pad_to is not None:
        fit = min(1.0, pad_to[0] / rh, pad_to[1] / rw)
        if fit < 1.0:
            rh, rw = max(1, int(rh * fit)), max(1, int(rw * fit))
        ih, iw = pad_to
    else:
        ih, iw = pad_to_stride(rh), pad_to_stride(rw)
    if (rh, rw) != (h, w):
        interp = cv2.INTER_AREA if rh < h else cv2.INTER_LINEAR
        resized = cv2.resize(image, (rw, rh), interpolation=interp)
    else:
        resized = image
    padded = np.zeros((ih, iw, 3), dtype=np.uint8)
    padded[:rh, :rw] = resized
    # Pad with the mean colour so the padding normalises to exactly zero.
    mean_rgb = np.array(cfg.mean) * 255.0
    if ih > rh:
        padded[rh:, :] = mean_rgb.round().astype(np.uint8)
    if iw > rw:
        padded[:, rw:] = mean_rgb.round().astype(np.uint8)
    return padded, ResizeInfo(orig_h, orig_w, rh, rw, ih, iw)


def normalize(image: np.ndarray, cfg: DetectorConfig) -> np.ndarray:
    """uint8 HxWx3 RGB -> float32 3xHxW with ImageNet mean/std.

    A uint8 channel has only 256 values, so each plane goes through a 256-entry float32
    table straight into its slot of the output: one pass per channel instead of widening,
    subtracting, scaling and transposing the whole image (5x faster at 1280 x 736, the
    same float32 values bit for bit).
    """
    out = np.empty((3,) + image.shape[:2], dtype=np.float32)
    for c, (plane, table) in enumerate(zip(cv2.split(image), _normalize_tables(tuple(cfg.mean), tuple(cfg.std)))):
        cv2.LUT(plane, table, dst=out[c])
    return out


@functools.lru_cache(maxsize=8)
def _normalize_tables(mean: Tuple[float, ...], std: Tuple[float, ...]) -> Tuple[np.ndarray, ...]:
    """Per channel, the normalised float32 value of every uint8 level."""
    m = np.asarray(mean, dtype=np.float32) * 255.0
    inv_std = 1.0 / (np.asarray(std, dtype=np.float32) * 255.0)
    levels = np.arange(256, dtype=np.float32)
    return tuple(((levels - m[c]) * inv_std[c]).astype(np.float32) for c in range(3))


def prepare(image: np.ndarray, cfg: DetectorConfig, pad_to: Tuple[int, int] | None = None,
            orig_size: Tuple[int, int] | None = None) -> Tuple[np.ndarray, ResizeInfo]:
    """Resize + pad + normalise: the network input (3xHxW float32) and its mapping."""
    padded, info = resize_for_model(image, cfg, pad_to, orig_size)
    return normalize(padded, cfg), info
