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
from dataclasses import replace
from pathlib import Path

from app.web import wording as W
from app.web.settings import AppSettings, LimitSettings, ModelSettings, ServerSettings, StorageSettings

from .options import add_options, config_from_args, fail

log = logging.getLogger("app.serve")
GROUPS = (ServerSettings, ModelSettings, StorageSettings, LimitSettings)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the WebUI (default http://0.0.0.0:7860)",
                       description="Every option can also come from the environment variable "
                                   "named in brackets; the flag wins.")
    for cls in GROUPS:
        add_options(p, cls)
    p.set_defaults(run=run)


def _resolved(path: Path) -> Path:
    return Path(path).expanduser().resolve()


def settings_from_args(args: argparse.Namespace) -> AppSettings:
    """The server's settings: each flag, else its ``OCR_*`` variable, else the default;
    folders made absolute (the server checks every path against them)."""
    server, model, storage, limits = (config_from_args(cls, args) for cls in GROUPS)
    return AppSettings(
        server=replace(server, pid_file=_resolved(server.pid_file)),
        limits=limits,
        storage=replace(storage, output_dir=_resolved(storage.output_dir),
                        workdir_root=_resolved(storage.workdir_root),
                        allowed_roots=tuple(_resolved(r) for r in storage.allowed_roots)),
        model=model)


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
        return fail(exc)

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
