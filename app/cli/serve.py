"""`python -m app serve`: the WebUI on http://0.0.0.0:7860 (what start_app.sh runs).

Loads one detector, builds the page, serves until SIGTERM/SIGINT (`bash stop_app.sh`,
Ctrl-C), then stops cleanly: the server closes, a running training job saves its
checkpoint, the pid file goes away.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from app.web import wording as W
from app.web.settings import (
    AppSettings,
    LimitSettings,
    ModelSettings,
    ServerSettings,
    StorageSettings,
    env_default,
    parse_auth,
    parse_roots,
)

log = logging.getLogger("app.serve")
D_SERVER, D_LIMITS, D_STORAGE = ServerSettings(), LimitSettings(), StorageSettings()


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the WebUI (default http://0.0.0.0:7860)",
                       description="Every option can also come from the environment variable "
                                   "named in brackets; the flag wins.")
    e = lambda name, fallback: env_default(name, fallback)   # a flag's default from its OCR_* variable
    p.add_argument("--host", default=e("host", D_SERVER.host), help="interface to listen on [OCR_HOST]")
    p.add_argument("--port", type=int, default=int(e("port", D_SERVER.port)), help="port [OCR_PORT]")
    p.add_argument("--auth", default=e("auth", None), metavar="USER:PASS",
                   help="require this login (recommended on 0.0.0.0) [OCR_AUTH]")
    p.add_argument("--weights", default=e("weights", None),
                   help="safetensors weights (default weights/db_resnet18.safetensors) [OCR_WEIGHTS]")
    p.add_argument("--device", default=e("device", "auto"), help="auto, cpu or cuda [OCR_DEVICE]")
    p.add_argument("--onnx-model", default=e("onnx_model", None),
                   help="exported .onnx for the ONNX Runtime backend choice [OCR_ONNX_MODEL]")
    p.add_argument("--backend", choices=["auto", "torch"], default=e("backend", "auto"),
                   help="default backend: auto = int8 ONNX Runtime on CPU (built in the background "
                        "once per weights; PyTorch serves until then), PyTorch on CUDA; torch [OCR_BACKEND]")
    p.add_argument("--allowed-roots", default=e("allowed_roots", None), metavar="DIR[:DIR...]",
                   help=f"server folders users may read in the batch and training tabs "
                        f"(default {':'.join(str(r) for r in D_STORAGE.allowed_roots)}) [OCR_ALLOWED_ROOTS]")
    p.add_argument("--concurrency", type=int, default=int(e("concurrency", D_LIMITS.concurrency)),
                   help="detections running at once; more wait in the queue [OCR_CONCURRENCY]")
    p.add_argument("--queue-size", type=int, default=int(e("queue_size", D_LIMITS.queue_size)),
                   help="requests that may wait; more are refused [OCR_QUEUE_SIZE]")
    p.add_argument("--time-limit", type=float, default=float(e("time_limit", D_LIMITS.time_limit_s)),
                   help="seconds per single-image request [OCR_TIME_LIMIT]")
    p.add_argument("--long-time-limit", type=float,
                   default=float(e("long_time_limit", D_LIMITS.long_time_limit_s)),
                   help="seconds per batch submission or ONNX export [OCR_LONG_TIME_LIMIT]")
    p.add_argument("--max-file-size", default=e("max_file_size", D_LIMITS.max_file_size),
                   help="largest upload, e.g. 25mb [OCR_MAX_FILE_SIZE]")
    p.add_argument("--batch-cap", type=int, default=int(e("batch_cap", D_LIMITS.batch_cap)),
                   help="files per batch upload [OCR_BATCH_CAP]")
    p.add_argument("--output-dir", default=e("output_dir", str(D_STORAGE.output_dir)),
                   help="where results are written [OCR_OUTPUT_DIR]")
    p.add_argument("--workdir-root", default=e("workdir_root", str(D_STORAGE.workdir_root)),
                   help="where training runs are written [OCR_WORKDIR_ROOT]")
    p.add_argument("--pid-file", default=e("pid_file", str(D_SERVER.pid_file)),
                   help="pid file that stop_app.sh reads [OCR_PID_FILE]")
    p.set_defaults(run=run)


def settings_from_args(args: argparse.Namespace) -> AppSettings:
    roots = parse_roots(args.allowed_roots) if args.allowed_roots is not None else D_STORAGE.allowed_roots
    return AppSettings(
        server=ServerSettings(host=args.host, port=args.port, auth=parse_auth(args.auth),
                              pid_file=Path(args.pid_file).expanduser().resolve()),
        limits=LimitSettings(concurrency=args.concurrency, queue_size=args.queue_size,
                             time_limit_s=args.time_limit, long_time_limit_s=args.long_time_limit,
                             max_file_size=str(args.max_file_size), batch_cap=args.batch_cap),
        storage=StorageSettings(output_dir=Path(args.output_dir).expanduser().resolve(),
                                workdir_root=Path(args.workdir_root).expanduser().resolve(),
                                allowed_roots=tuple(r.resolve() for r in roots)),
        model=ModelSettings(weights=Path(args.weights) if args.weights else None, device=args.device,
                            onnx_model=Path(args.onnx_model) if args.onnx_model else None,
                            backend=args.backend))


def _address_block(settings: AppSettings) -> str:
    s = settings.server
    lines = ["=" * 60, W.ADDRESS.format(url=s.url)]
    if s.local_url != s.url:
        lines.append(W.ADDRESS_LOCAL.format(url=s.local_url))
    lines += [W.ADDRESS_STOP.format(pid_file=s.pid_file), "=" * 60]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_args(args)
    except ValueError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2

    logging.getLogger("httpx").setLevel(logging.WARNING)   # Gradio's own start-up probes
    from app.io import pidfile
    from app.web.context import WebContext
    from app.web.service import DetectorService
    from app.web.webui import build_ui, launch

    try:
        pidfile.claim(settings.server.pid_file)
    except RuntimeError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    ctx = None
    try:
        if settings.server.exposed_without_auth:
            log.warning("%s", W.WARN_NO_AUTH.format(host=settings.server.host, port=settings.server.port))
        ctx = WebContext(settings, DetectorService(settings.model))
        if not ctx.service.ready:
            log.warning("%s", W.WARN_NO_WEIGHTS.format(problem=ctx.service.problem))
        demo = build_ui(ctx)
        try:
            launch(ctx, demo)
        except OSError as exc:
            print(f"ERROR: cannot listen on {settings.server.host}:{settings.server.port}: {exc}", file=sys.stderr)
            return 1
        print(_address_block(settings), flush=True)
        while not stop.wait(1.0):
            pass
        print("stopping the WebUI ...", flush=True)
        ctx.jobs.shutdown(timeout=20)   # within stop_app.sh's 30 s before SIGKILL
        ctx.service.close(timeout=8)
        demo.close()
        return 0
    finally:
        pidfile.release(settings.server.pid_file)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
