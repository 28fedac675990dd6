#!/usr/bin/env bash
# Stop the WebUI started by start_app.sh, and only it: the pid file names our server
# (unlike `pkill python`, which kills every Python process on the box). Sends SIGTERM so
# the server finishes cleanly (a training job saves its checkpoint), waits, then SIGKILL.
#   bash stop_app.sh [--pid-file FILE] [--timeout SECONDS]
# Environment: OCR_PID_FILE (same default as `python -m app serve`), STOP_TIMEOUT.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pid_file="${OCR_PID_FILE:-$root/outputs/.server.pid}"
timeout="${STOP_TIMEOUT:-30}"
while [ $# -gt 0 ]; do
    case "$1" in
        --pid-file) pid_file="$2"; shift 2 ;;
        --timeout) timeout="$2"; shift 2 ;;
        -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
        *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
done

# Alive = exists and is not a zombie (a finished child whose parent has not reaped it yet).
alive() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != "Z" ]; }

if [ ! -f "$pid_file" ]; then
    echo "WebUI is not running (no pid file at $pid_file)."
    exit 0
fi
pid="$(tr -dc '0-9' < "$pid_file")"
if [ -z "$pid" ] || ! alive "$pid"; then
    echo "WebUI is not running (stale pid file $pid_file removed)."
    rm -f "$pid_file"
    exit 0
fi
# The pid may have been reused by another program since the server died: check it is ours.
cmd="$(ps -o args= -p "$pid" 2>/dev/null || true)"
case "$cmd" in
    *" -m app serve"*) ;;
    *) echo "pid $pid from $pid_file is not the WebUI ($cmd); not touching it." >&2
       exit 1 ;;
esac

echo "stopping the WebUI (pid $pid) ..."
kill -TERM "$pid"
for _ in $(seq 1 $((timeout * 10))); do
    if ! alive "$pid"; then
        rm -f "$pid_file"
        echo "WebUI stopped."
        exit 0
    fi
    sleep 0.1
done
echo "WebUI did not stop within ${timeout}s; sending SIGKILL."
kill -KILL "$pid" 2>/dev/null || true
rm -f "$pid_file"
echo "WebUI killed."
