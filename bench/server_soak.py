"""Soak the live WebUI server: N `/detect` requests from K concurrent gradio_client clients.

    # start a server (127.0.0.1, free port, temp output folder) and soak it
    .venv/bin/python -m bench.server_soak --requests 1000 --clients 8
    # a server that is already running (start_app.sh): give its pid, or its pid file
    .venv/bin/python -m bench.server_soak --url http://127.0.0.1:7860/ --pid-file outputs/.server.pid \
        --requests 1000 --clients 8 [--auth user:pass]

Each client is its own ``gradio_client.Client`` (its own session, as K users would be)
and sends the bench images (rendered document pages unless ``--images DIR``) in turn.
While they run, the server process's RSS (psutil) is sampled every ``--every`` finished
requests. Prints a table of the samples, then:

- RSS growth after warm-up: median RSS of the last third of the samples taken after the
  first ``--warmup`` requests minus that of the first third (goal: < 50 MB);
- failures: requests that raised or answered ``success: false`` (goal: 0), e.g. refused
  because the queue was full (``--queue-size`` of the server) or over the time limit;
- latency (p50, p95, max, as the clients see it, queue wait included) and throughput.

Exit code 0 when both goals are met. Without trained weights in ``weights/`` a started
server gets a random model (same speed and memory, meaningless boxes), and says so.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Sequence, Tuple

import psutil

ROOT = Path(__file__).resolve().parent.parent

from app.measure.bench_inputs import BenchConfig, bench_images, resolve_weights
from app.measure.tables import text_table

GROWTH_GOAL_MB = 50.0
MB = 1024 * 1024
HEADERS = ("requests", "elapsed s", "server RSS MB", "failures", "judged")


@dataclass
class ServerReading:
    """The server's RSS after ``requests`` finished requests."""

    requests: int
    seconds: float
    rss_mb: float | None
    failures: int


@dataclass
class SoakState:
    """Shared by the client threads: the next request to send, results, samples."""

    total: int
    every: int
    pid: int | None
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_index: int = 0
    done: int = 0
    failures: List[str] = field(default_factory=list)
    latencies: List[float] = field(default_factory=list)
    samples: List[ServerReading] = field(default_factory=list)
    t0: float = field(default_factory=time.perf_counter)

    def take(self) -> int | None:
        with self.lock:
            if self.next_index >= self.total:
                return None
            self.next_index += 1
            return self.next_index - 1

    def finish(self, seconds: float, error: str | None) -> None:
        with self.lock:
            self.done += 1
            self.latencies.append(seconds)
            if error is not None:
                self.failures.append(error)
            if self.done % self.every == 0 or self.done == self.total:
                self.sample()

    def sample(self) -> None:
        self.samples.append(ServerReading(self.done, time.perf_counter() - self.t0, server_rss_mb(self.pid),
                                   len(self.failures)))


def server_rss_mb(pid: int | None) -> float | None:
    """Resident memory of the server process and any children it started, in MB."""
    if pid is None:
        return None
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs) / MB
    except psutil.Error:
        return None


# ------------------------------------------------------------------------------ server
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workdir: Path, weights: Path, device: str, extra: Sequence[str]) -> Tuple[subprocess.Popen, str, Path]:
    """`python -m app serve` on a free local port; returns (process, url, log file) once it answers."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log = workdir / "server.log"
    cmd = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port), "--weights", str(weights),
           "--device", device, "--pid-file", str(workdir / "server.pid"), "--output-dir", str(workdir / "outputs"),
           "--workdir-root", str(workdir / "workdirs"), "--allowed-roots", str(workdir / "data"), *extra]
    env = dict(os.environ, PYTHONUNBUFFERED="1", GRADIO_ANALYTICS_ENABLED="False")
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200 and "WebUI 服务地址" in log.read_text(errors="replace"):
                    return proc, url, log
        except OSError:
            pass
        time.sleep(0.5)
    stop_server(proc)
    raise RuntimeError(f"the server did not answer within 300 s:\n{log.read_text(errors='replace')}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


# ------------------------------------------------------------------------------ clients
def run_clients(url: str, auth: Tuple[str, str] | None, images: Sequence[Path], state: SoakState,
                clients: int, params: Sequence[Any]) -> None:
    """K threads, each with its own Client, sending requests until ``state.total`` are sent."""
    from gradio_client import Client, handle_file

    def worker() -> None:
        try:
            client = Client(url, auth=auth, verbose=False)
        except Exception as exc:   # cannot even connect: every request it would send fails
            while state.take() is not None:
                state.finish(0.0, f"connect: {type(exc).__name__}: {exc}")
            return
        while (i := state.take()) is not None:
            t0 = time.perf_counter()
            error = None
            try:
                record = client.predict(handle_file(str(images[i % len(images)])), *params, api_name="/detect")
                if not record.get("success"):
                    error = f"success false: {record.get('error')}"
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
            state.finish(time.perf_counter() - t0, error)

    threads = [threading.Thread(target=worker, name=f"client-{k}") for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# ------------------------------------------------------------------------------ report
def growth_mb(samples: Sequence[ServerReading], warmup: int) -> Tuple[float | None, int]:
    """(median RSS of the last third - median of the first third, after warm-up; samples judged)."""
    judged = [s.rss_mb for s in samples if s.requests >= warmup and s.rss_mb is not None]
    if len(judged) < 2:
        return None, len(judged)
    third = max(1, len(judged) // 3)
    return float(statistics.median(judged[-third:]) - statistics.median(judged[:third])), len(judged)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def report(state: SoakState, warmup: int, clients: int, note: str) -> bool:
    rows = [[s.requests, round(s.seconds, 1), None if s.rss_mb is None else round(s.rss_mb, 1), s.failures,
             "yes" if s.requests >= warmup else "warm-up"] for s in state.samples]
    print(note)
    print()
    print(text_table(HEADERS, rows))
    print()
    growth, judged = growth_mb(state.samples, warmup)
    elapsed = state.samples[-1].seconds if state.samples else 0.0
    ok_failures = not state.failures
    if growth is None:
        mem_line, ok_memory = (f"RSS growth after warm-up: not measured ({judged} samples after request {warmup}; "
                               f"give --pid/--pid-file, more --requests or a smaller --every)"), False
    else:
        ok_memory = growth < GROWTH_GOAL_MB
        rss = [s.rss_mb for s in state.samples if s.rss_mb is not None]
        mem_line = (f"RSS growth after warm-up (first {warmup} requests): {growth:+.1f} MB over {judged} samples "
                    f"(goal < {GROWTH_GOAL_MB:g} MB: {'OK' if ok_memory else 'OVER'}); RSS {rss[0]:.0f} MB at start, "
                    f"peak {max(rss):.0f} MB")
    print(mem_line)
    print(f"failures: {len(state.failures)} of {state.done} requests (goal 0: {'OK' if ok_failures else 'FAILED'})")
    for message in sorted(set(state.failures))[:5]:
        print(f"  - {message[:200]}")
    if state.latencies:
        print(f"latency seen by the clients (queue wait included): p50 {percentile(state.latencies, 0.5):.2f} s, "
              f"p95 {percentile(state.latencies, 0.95):.2f} s, max {max(state.latencies):.2f} s; "
              f"throughput {state.done / max(elapsed, 1e-9):.2f} requests/s with {clients} clients")
    return ok_failures and ok_memory


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="a running server (default: start one on a free local port)")
    p.add_argument("--pid", type=int, help="the running server's process id (for RSS)")
    p.add_argument("--pid-file", type=Path, help="or its pid file (outputs/.server.pid)")
    p.add_argument("--auth", metavar="USER:PASS", help="login of a server started with --auth")
    p.add_argument("--requests", "-n", type=int, default=1000, help="requests in all (default 1000)")
    p.add_argument("--clients", "-k", type=int, default=8, help="concurrent clients (default 8)")
    p.add_argument("--warmup", type=int, help="requests not judged for memory (default max(clients, 10%% of N))")
    p.add_argument("--every", type=int, help="sample RSS every this many requests (default N/20)")
    p.add_argument("--images", type=Path, help="folder of images to send (default: rendered document pages)")
    p.add_argument("--limit-side", type=int, default=960, help="size limit sent with each request (256-2048)")
    p.add_argument("--weights", type=Path, help="weights for a started server (default: weights/, else random)")
    p.add_argument("--device", default="auto", help="device of a started server (auto, cpu, cuda)")
    p.add_argument("--server-args", default="", help="more `serve` flags for a started server, e.g. '--queue-size 16'")
    args = p.parse_args(argv)
    if args.requests < 1 or args.clients < 1:
        p.error("--requests and --clients must be at least 1")
    if not 256 <= args.limit_side <= 2048:
        p.error("--limit-side must be between 256 and 2048 (the WebUI's range)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from app.web.settings import parse_auth

    auth = parse_auth(args.auth)
    warmup = args.warmup if args.warmup is not None else max(args.clients, args.requests // 10)
    every = args.every or max(1, args.requests // 20)
    with tempfile.TemporaryDirectory(prefix="server_soak_") as tmp:
        workdir = Path(tmp)
        say = lambda msg: print(msg, file=sys.stderr, flush=True)
        images, images_note = bench_images(BenchConfig(images=args.images, synthetic_images=4), workdir, say)
        proc = None
        if args.url:
            url, pid = args.url, args.pid
            if pid is None and args.pid_file is not None:
                pid = int(args.pid_file.read_text().strip())
            server_note = f"server: {url} (pid {pid if pid else 'unknown: RSS not sampled'})"
        else:
            weights = resolve_weights(args.weights, workdir)
            say(f"starting a server ({weights.note}) ...")
            proc, url, _ = start_server(workdir, weights.path, args.device, args.server_args.split())
            pid = proc.pid
            server_note = f"server: started here, {url} pid {pid}, {weights.note}"
        try:
            state = SoakState(total=args.requests, every=every, pid=pid)
            state.sample()
            say(f"sending {args.requests} requests from {args.clients} clients ...")
            params = (0.2, 0.5, 1.5, args.limit_side, "torch")
            run_clients(url, auth, images, state, args.clients, params)
        finally:
            if proc is not None:
                stop_server(proc)
    load = os.getloadavg()
    note = (f"{server_note}\nimages: {images_note}; size limit {args.limit_side}\n"
            f"{args.requests} requests, {args.clients} concurrent clients, RSS sampled every {every} requests, "
            f"warm-up {warmup} requests\nmachine: {psutil.cpu_count()} CPUs, load average at the end "
            f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)")
    return 0 if report(state, warmup, args.clients, note) else 1


if __name__ == "__main__":
    sys.exit(main())
