"""Benchmarks that print tables, run from the repository root as ``python -m bench.<name>``
(not in CI): latency per stage, PyTorch vs ONNX Runtime speed, training speed, the live
server's memory under load, post-processing tuning, and helpers for evaluation sets."""
