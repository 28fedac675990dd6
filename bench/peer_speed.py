"""Speed next to the PP-OCRv4 mobile detector, on the same real images and the same CPU.

    .venv/bin/python -m bench.peer_speed [--images DIR ...] [--per-folder 20] [--systems default,torch,peer] \
        [--weights W]

Each system runs in its own fresh process (so peak RSS is its own) over the same files:
``median`` / ``p90`` seconds per image from file to boxes (one ``detect`` call per file,
after one warm-up image), ``folder img/s`` (the whole list through ``app.io.batch.run_batch``,
the path of ``python -m app detect DIR --output OUT``, writing JSON, pictures and ICDAR
files; for the peer, its per-file loop without writing), ``folder vs raw inference`` (that
rate over the backend's own rate on the same images, the sum of their inference times:
what the pipeline loses to decoding, post-processing and writing), and peak RSS.

Systems: ``default`` (``TextDetector()`` as a user gets it: ``backend="auto"``), ``lines``
(the same with ``granularity="lines"``: what the default's word/line choice costs), ``once``
(the default with ``zoom_words=1``: scene photos run once, not also enlarged), ``zoomall``
(the default of 2026-11-28: the whole scene photo also read enlarged 1.25x, not a window of
it 1.75x), ``mirror``
(the default of 2026-11-27 to 2026-11-28: scene photos also mirrored in a window, not
enlarged), ``zoommirror`` (both looks), ``mirrorall`` (the mirror look over the whole image
instead of the zoom look, as before 2026-11-27's twentieth stop: ``mirror_margin`` at its
maximum), ``whole``
(the default with a word map computed for every image, as before 2026-11-27: what running it
only where words are wanted saves; the same as ``default`` without a word map), ``apart``
(the word graph run apart for every image that wants words, never the whole graph: the
default of 2026-11-27's fifteenth stop, before ``models.detector.WordShare``), ``linecut``
(the default with ``word_map=False``: scene photos' words cut from the line map), ``torch``
(PyTorch fp32), ``int8`` (the int8 ONNX model that auto builds, run by ONNX Runtime),
``int8all`` (that, with the whole mirror image, as ``mirrorall``), ``openvino`` (the same model run by OpenVINO, when installed: ``requirements-openvino.txt``),
``peer`` (rapidocr-onnxruntime 1.4.4 defaults, detection only; it lives in ``.venv-peer``,
see bench/peer_detect.py, and is skipped with a note when that venv is missing).

Default images: the first ``--per-folder`` files of the street-photo and receipt
validation folders exported by ``python -m bench.export_validation`` (never a test set).
Pause background jobs while measuring: the numbers are only as quiet as the machine.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

# stdlib only at import time: the peer's worker runs this module in .venv-peer
from bench.onnx_speed import peak_rss_mb

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FOLDERS = ("data_cache/val_release2/test_images/icdar2015",
                   "data_cache/val_release2/test_images/wildreceipt")
PEER_PYTHON = ROOT / ".venv-peer" / "bin" / "python"
SYSTEMS = ("default", "lines", "once", "mirror", "zoommirror", "zoomall", "mirrorall", "whole", "apart", "linecut", "torch", "int8", "int8all", "openvino",
           "peer")


def _ours(system: str, files: List[str], weights: str | None = None) -> Dict[str, object]:
    from models import DetectorConfig, TextDetector
    from models.settings import meta_of

    backend = {"default": "auto", "lines": "auto", "once": "auto", "mirror": "auto", "zoommirror": "auto", "zoomall": "auto", "mirrorall": "auto", "whole": "auto", "apart": "auto", "linecut": "auto", "torch": "torch",
               "int8": "onnx", "int8all": "onnx", "openvino": "openvino"}[system]
    whole_mirror = DetectorConfig(mirror_words=True, zoom_words=1.0,
                                  mirror_margin=meta_of(DetectorConfig, "mirror_margin")["max"])
    config = {"lines": DetectorConfig(granularity="lines"), "linecut": DetectorConfig(word_map=False),
              "once": DetectorConfig(zoom_words=1.0, mirror_words=False),
              "mirror": DetectorConfig(zoom_words=1.0, mirror_words=True),
              "zoommirror": DetectorConfig(mirror_words=True),
              "zoomall": DetectorConfig(zoom_words=1.25, zoom_margin=meta_of(DetectorConfig, "zoom_margin")["max"]),
              "mirrorall": whole_mirror, "int8all": whole_mirror}.get(system)
    model = None
    if system in ("int8", "int8all"):
        from models.backends.auto import choose_backend

        choice = choose_backend("cpu", weights)           # the int8 model auto builds, run by ONNX Runtime
        if choice.model is None:
            raise SystemExit(f"no int8 model here: {choice.reason}")
        model = choice.model
    det = TextDetector(config, weights=weights, device="cpu", backend=backend, model=model)
    if system == "whole":   # a word map run with the lines for every image, not only where wanted
        det.backend.word_map_on_demand = False
    if system == "apart":   # the word graph apart for every image that wants words, whatever came before
        det.word_share.mostly_words = lambda: False
    import tempfile

    from app.io.batch import run_batch

    det.detect(files[0])
    per_image, inference = [], []
    for path in files:
        t0 = time.perf_counter()
        inference.append(det.detect(path).timings["inference"])
        per_image.append(time.perf_counter() - t0)
    with tempfile.TemporaryDirectory(prefix="peer-speed-") as out:
        paths = [Path(f) for f in files]
        t0 = time.perf_counter()
        report = run_batch(det, paths, Path(os.path.commonpath(files)), Path(out))
        folder = len(report.records) / (time.perf_counter() - t0)
    label = det.backend_summary + (f" ({Path(weights).name})" if weights else "") + \
        (", granularity lines" if system == "lines" else "") + \
        (", word map run for every image" if system == "whole" else "") + \
        (", word map always apart" if system == "apart" else "") + \
        (", word_map off" if system == "linecut" else "") + \
        (", one look" if system == "once" else "") + \
        (", mirror look instead of zoom look" if system == "mirror" else "") + \
        (", zoom and mirror looks" if system == "zoommirror" else "") + \
        (", the whole image enlarged 1.25x" if system == "zoomall" else "") + \
        (", the whole mirror image" if system in ("mirrorall", "int8all") else "")
    return {"label": label, "times": per_image, "folder_ips": folder,
            "raw_ips": len(files) / sum(inference), "rss_mb": peak_rss_mb()}


def _peer(files: List[str]) -> Dict[str, object]:
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR()

    def run(path: str) -> None:
        engine(path, use_det=True, use_cls=False, use_rec=False)

    run(files[0])
    per_image = []
    for path in files:
        t0 = time.perf_counter()
        run(path)
        per_image.append(time.perf_counter() - t0)
    return {"label": "PP-OCRv4 mobile det (rapidocr-onnxruntime defaults)", "times": per_image,
            "folder_ips": len(files) / sum(per_image), "rss_mb": peak_rss_mb()}


def _worker(system: str, list_file: str, weights: str = "") -> int:
    files = Path(list_file).read_text().split("\n")
    result = _peer(files) if system == "peer" else _ours(system, files, weights or None)
    print("RESULT " + json.dumps(result))
    return 0


def _collect(folders: List[str], per_folder: int) -> List[str]:
    from bench.pseudo_label import image_extensions

    exts = image_extensions()
    files: List[str] = []
    for folder in folders:
        found = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in exts)
        if not found:
            raise SystemExit(f"no images in {folder}; export the validation split first: "
                             f"python -m bench.export_validation scripts/mixes/release2.toml "
                             f"--output data_cache/val_release2")
        files += [str(p.resolve()) for p in found[:per_folder]]
    return files


def _run_system(system: str, list_file: Path, weights: str = "") -> Dict[str, object] | str:
    python = str(PEER_PYTHON) if system == "peer" else sys.executable
    if system == "peer" and not PEER_PYTHON.is_file():
        return "skipped: .venv-peer is missing (see bench/peer_detect.py)"
    proc = subprocess.run([python, "-m", "bench.peer_speed", "--worker", system, str(list_file), weights],
                          cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode or line is None:
        return f"failed: {(proc.stderr or proc.stdout).strip().splitlines()[-1:]}"
    return json.loads(line[len("RESULT "):])


def main(argv: List[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", nargs="+", default=list(DEFAULT_FOLDERS), help="folders of images")
    ap.add_argument("--per-folder", type=int, default=20, help="files taken from each folder (sorted)")
    ap.add_argument("--systems", default="default,torch,peer",
                    help=f"comma-separated, from {', '.join(SYSTEMS)}")
    ap.add_argument("--weights", type=Path, default=None,
                    help="our weights file (default: the release), e.g. a lighter network's")
    ap.add_argument("--worker", nargs="+", metavar="SYSTEM LIST [WEIGHTS]", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return _worker(*args.worker)
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        ap.error(f"unknown system(s) {unknown}; choose from {', '.join(SYSTEMS)}")
    from app.measure.hardware import cpu_model, usable_cores
    from app.measure.tables import markdown_table
    from bench.server_soak import percentile
    from models.cpu_features import cpu_features

    files = _collect(args.images, args.per_folder)
    list_file = ROOT / "data_cache" / "peer_speed_files.txt"
    list_file.parent.mkdir(parents=True, exist_ok=True)
    list_file.write_text("\n".join(files))
    print(f"{len(files)} images from {', '.join(args.images)}")
    print(f"CPU: {cpu_model()}, {usable_cores()} usable cores; {cpu_features().describe()}")
    if args.weights and not args.weights.is_file():
        ap.error(f"--weights {args.weights}: no such file")
    weights = str(args.weights.resolve()) if args.weights else ""
    results = {s: _run_system(s, list_file, weights) for s in systems}
    peer = results.get("peer")
    peer_median = percentile(peer["times"], 0.5) if isinstance(peer, dict) else None
    rows = []
    for system, r in results.items():
        if not isinstance(r, dict):
            rows.append([system, r, "", "", "", "", "", ""])
            continue
        median = percentile(r["times"], 0.5)
        ratio = f"{peer_median / median:.2f}x" if peer_median else "n/a"
        raw = r.get("raw_ips")
        pipeline = f"{r['folder_ips'] / raw:.0%}" if raw else "n/a"
        rows.append([system, r["label"], f"{median:.3f}", f"{percentile(r['times'], 0.9):.3f}",
                     f"{r['folder_ips']:.2f}", pipeline, f"{r['rss_mb']:.0f}", ratio])
    print(markdown_table(("system", "what runs", "median s/img", "p90 s/img", "folder img/s",
                          "folder vs raw inference", "peak RSS MB", "speed vs peer"), rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
