"""OpenVINO against ONNX Runtime on the same int8 model, interleaved in one process (#12.5).

    .venv/bin/python bench/openvino_speed.py --model ~/.cache/cv_resnet18_ocr-detection/onnx/<id>_dynamic_int8.onnx

(the test extras install OpenVINO into .venv; any venv with ``pip install openvino
onnxruntime numpy`` does too). ``backend="auto"`` runs the same comparison, shorter, once per
model on the user's machine and serves OpenVINO where it wins (models/backends/cpu_runtime.py);
this script is the longer look, with the maps' difference.

The model is the int8 file the `auto` backend builds (QDQ, per-channel weights). Both
runtimes get the same random 1 x 3 x H x W input and the same number of threads; runs
alternate, so a busy neighbour slows both alike. Prints the median and 10th percentile
seconds per forward pass and how far the two probability maps are apart.
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="an ONNX file with input 'images'")
    ap.add_argument("--size", default="736x1280", help="H x W of the input (default: a 1280x720 photo)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    try:
        import onnxruntime as ort
        import openvino as ov
    except ImportError as exc:
        raise SystemExit(f"{exc}: pip install openvino onnxruntime") from exc
    h, w = (int(v) for v in args.size.lower().split("x"))
    x = np.random.default_rng(0).standard_normal((1, 3, h, w), dtype=np.float32)
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = args.threads, 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(args.model, so, providers=["CPUExecutionProvider"])
    compiled = ov.Core().compile_model(args.model, "CPU", {"PERFORMANCE_HINT": "LATENCY",
                                                           "INFERENCE_NUM_THREADS": args.threads})
    request = compiled.create_infer_request()
    runs = {f"ONNX Runtime {ort.__version__}": lambda: session.run(None, {"images": x})[0],
            f"OpenVINO {ov.__version__.split('-')[0]}": lambda: request.infer({0: x})[compiled.output(0)]}
    maps = {k: np.array(f()) for k, f in runs.items()}        # first call: warm-up
    times = {k: [] for k in runs}
    for _ in range(args.runs):
        for name, forward in runs.items():
            t0 = time.perf_counter()
            forward()
            times[name].append(time.perf_counter() - t0)
    print("| runtime | input | median s | p10 s |\n|---|---|---:|---:|")
    for name, ts in times.items():
        print(f"| {name} | {h}x{w} | {np.median(ts):.3f} | {np.percentile(ts, 10):.3f} |")
    a, b = maps.values()
    print(f"\nmax |p_a - p_b| = {float(np.abs(a - b).max()):.4f}, mean {float(np.abs(a - b).mean()):.6f}")


if __name__ == "__main__":
    main()
