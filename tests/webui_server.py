"""Start the real WebUI server (`python -m app serve`) in a subprocess for the WebUI tests."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_page(path: Path, seed: int = 0) -> Path:
    """A real JPEG/PNG file: a light page with dark text-like bars."""
    rng = np.random.default_rng(seed)
    img = np.full((240, 320, 3), 235, np.uint8)
    for y in range(20, 220, 30):
        x0 = int(rng.integers(10, 40))
        img[y:y + 12, x0:x0 + int(rng.integers(80, 260))] = 30
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), img)
    return path


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    url: str
    log: Path
    pid_file: Path
    output_dir: Path
    data_dir: Path
    workdir_root: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def start_server(tmp: Path, weights: Path, extra: List[str] | None = None, timeout: float = 180) -> Server:
    """Launch on a free port and wait until the page answers (or fail with the server's log)."""
    port = free_port()
    server = Server(None, port, f"http://127.0.0.1:{port}/", tmp / "server.log", tmp / "server.pid",  # type: ignore[arg-type]
                    tmp / "outputs", tmp / "data", tmp / "workdirs")
    server.data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1", GRADIO_ANALYTICS_ENABLED="False")
    cmd = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--weights", str(weights), "--device", "cpu", "--pid-file", str(server.pid_file),
           "--output-dir", str(server.output_dir), "--workdir-root", str(server.workdir_root),
           "--allowed-roots", str(server.data_dir), *(extra or [])]
    log = open(server.log, "wb")
    server.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"server exited with {server.proc.returncode}:\n{server.output()}")
        try:
            with urllib.request.urlopen(server.url, timeout=5) as r:
                if r.status == 200 and "WebUI 服务地址" in server.output():
                    return server
        except OSError:
            pass
        time.sleep(0.5)
    stop_server(server)
    raise RuntimeError(f"server did not answer within {timeout}s:\n{server.output()}")


def stop_server(server: Server) -> None:
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(30)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(10)


def running_server(tmp: Path, weights: Path, extra: List[str] | None = None) -> Iterator[Server]:
    """Generator for a module-scoped fixture: yields a started server, stops it afterwards."""
    server = start_server(tmp, weights, extra)
    try:
        yield server
    finally:
        stop_server(server)
