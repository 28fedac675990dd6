"""Files onto the GPU for :mod:`models.gpu_stream`: JPEGs decoded by nvJPEG, the rest on the CPU.

nvJPEG comes through ``torchvision.io.decode_jpeg`` where torchvision imports (it is optional:
the CPU build of torch here has none, and a CPU box never needs it). A file nvJPEG should not
or cannot take (not a JPEG, CMYK, over the pixel limit, broken) goes to the CPU decoder of
:mod:`models.preprocess`, which gives the usual checks and error messages.
"""
from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Sequence, Tuple

import torch
from PIL import ExifTags, Image

from .config import DetectorConfig
from .preprocess import ImageDecodeError, load_image_for_detection

#: JPEG files start with an SOI marker followed by another marker.
JPEG_MAGIC = b"\xff\xd8\xff"
#: PIL modes nvJPEG decodes to RGB as PIL would (CMYK / YCCK JPEGs go to the CPU decoder).
GPU_JPEG_MODES = ("RGB", "L")


def nvjpeg_decoder():
    """torchvision's ``decode_jpeg`` and its RGB read mode, or None where torchvision does
    not import (the CPU build of torch: the product never needs it)."""
    try:
        from torchvision.io import ImageReadMode, decode_jpeg
    except Exception:   # ImportError, or a torchvision built for another torch (RuntimeError)
        return None
    return decode_jpeg, ImageReadMode.RGB


def apply_orientation(image: torch.Tensor, orientation: int) -> torch.Tensor:
    """A CHW image turned as its EXIF ``orientation`` (1-8) asks, as PIL's ``exif_transpose``."""
    if orientation == 2:
        return image.flip(2)
    if orientation == 3:
        return image.flip(1, 2)
    if orientation == 4:
        return image.flip(1)
    if orientation == 5:
        return image.transpose(1, 2)
    if orientation == 6:
        return torch.rot90(image, -1, dims=(1, 2))
    if orientation == 7:
        return image.transpose(1, 2).flip(1, 2)
    if orientation == 8:
        return torch.rot90(image, 1, dims=(1, 2))
    return image


@dataclass
class Loaded:
    """One image after loading: on the device (CHW uint8) or an error."""

    index: int
    name: str
    image: torch.Tensor | None = None
    orig_size: Tuple[int, int] = (0, 0)        # (height, width) of the original
    error: str | None = None
    decode_s: float = 0.0
    on_gpu: bool = False
    ready: Any = None         # CUDA: an event on the loader's stream after the image was written


class GpuLoader:
    """Reads and decodes chunks of files onto ``device``; called from several threads.

    Args:
        device: where the images go (a CUDA device; on a CPU everything is CPU-decoded).
        gpu_decode: use nvJPEG where torchvision imports.
    """

    def __init__(self, device: torch.device, gpu_decode: bool = True) -> None:
        self.device = device
        self.decoder = nvjpeg_decoder() if (gpu_decode and device.type == "cuda") else None
        self._local = threading.local()       # each loader thread's CUDA stream

    def load_chunk(self, items: Sequence[Tuple[int, str, Path]], cfg: DetectorConfig) -> List[Loaded]:
        """Read and decode a few files: JPEGs in one nvJPEG call, the rest on the CPU.

        On CUDA the loader works on a stream of its own and marks each image with an event:
        nvJPEG writes its output on a private stream, ordered only after the stream that
        allocated it, so outputs allocated on the main thread's stream could land in memory
        that stream's queued kernels have yet to read (seen on an H200 as changing boxes)."""
        if self.device.type != "cuda":
            return self._load(items, cfg)
        stream = getattr(self._local, "stream", None)
        if stream is None:
            stream = self._local.stream = torch.cuda.Stream(self.device)
        with torch.cuda.stream(stream):
            out = self._load(items, cfg)
            ready = torch.cuda.Event()
            ready.record(stream)
        for item in out:
            item.ready = ready
        return out

    def _load(self, items: Sequence[Tuple[int, str, Path]], cfg: DetectorConfig) -> List[Loaded]:
        out: List[Loaded] = []
        gpu: List[Tuple[Loaded, bytes, int]] = []
        for index, name, path in items:
            t0 = time.perf_counter()
            item = Loaded(index, name)
            try:
                data = Path(path).read_bytes()
            except OSError:      # missing, a folder, unreadable: the CPU loader says which
                self._cpu_decode(item, path, cfg, t0)
                out.append(item)
                continue
            orientation = self._gpu_orientation(data, cfg) if self.decoder is not None else None
            if orientation is not None:
                item.decode_s = time.perf_counter() - t0
                gpu.append((item, data, orientation))
            else:
                self._cpu_decode(item, data, cfg, t0)
            out.append(item)
        if gpu:
            self._gpu_decode(gpu, cfg)
        return out

    @staticmethod
    def _gpu_orientation(data: bytes, cfg: DetectorConfig) -> int | None:
        """The EXIF orientation (1-8) of a JPEG that nvJPEG may take (a readable header, RGB
        or grey, within the pixel limit), else None: anything else goes to the CPU decoder,
        which explains what is wrong. Only the header is read."""
        if not data.startswith(JPEG_MAGIC):
            return None
        try:
            with Image.open(io.BytesIO(data)) as img:
                w, h = img.size
                if img.mode not in GPU_JPEG_MODES or not 0 < w * h <= cfg.max_megapixels * 1e6:
                    return None
                try:
                    orientation = int(img.getexif().get(ExifTags.Base.Orientation, 1))
                except Exception:     # a broken EXIF block: the picture as stored, as on the CPU
                    orientation = 1
                return orientation if 1 <= orientation <= 8 else 1
        except Exception:
            return None

    def _gpu_decode(self, gpu: List[Tuple[Loaded, bytes, int]], cfg: DetectorConfig) -> None:
        """One nvJPEG call for the chunk's JPEGs (its CUDA path ignores EXIF: turned here)."""
        decode_jpeg, rgb = self.decoder
        t0 = time.perf_counter()
        # nvJPEG writes on its own stream as soon as it is called: memory this stream freed
        # (a turned image's original) must be truly free by then
        torch.cuda.current_stream(self.device).synchronize()
        tensors = [torch.frombuffer(bytearray(d), dtype=torch.uint8) for _, d, _ in gpu]
        try:
            images = decode_jpeg(tensors, mode=rgb, device=self.device)
        except Exception:      # one bad file fails the whole call: decode them one by one
            images = []
            for t in tensors:
                try:
                    images.append(decode_jpeg(t, mode=rgb, device=self.device))
                except Exception:
                    images.append(None)
        share = (time.perf_counter() - t0) / len(gpu)
        for (item, data, orientation), image in zip(gpu, images):
            if image is None:
                self._cpu_decode(item, data, cfg, time.perf_counter())
                continue
            image = apply_orientation(image, orientation)
            item.image, item.on_gpu = image, True
            item.orig_size = (int(image.shape[1]), int(image.shape[2]))
            item.decode_s += share

    def _cpu_decode(self, item: Loaded, source: bytes | Path, cfg: DetectorConfig, t0: float) -> None:
        try:
            rgb, orig = load_image_for_detection(source, cfg, name=item.name)
        except ImageDecodeError as exc:
            item.error = str(exc)
            return
        rgb = rgb if rgb.flags.writeable else rgb.copy()    # PIL's arrays are read-only
        item.image = torch.from_numpy(rgb).to(self.device).permute(2, 0, 1)
        item.orig_size = (int(orig[0]), int(orig[1]))
        item.decode_s += time.perf_counter() - t0
