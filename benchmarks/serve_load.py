"""Load test of `seqcore serve`: C concurrent clients for S seconds, a new version exported mid-run.

Copies EXPORT_BASE (the sentiment export) to a temporary folder, starts the
server on it in a subprocess on 127.0.0.1 (a free port), and runs
`--clients` client threads, each with a keep-alive connection, sending
one-review `:predict` requests back to back for `--seconds`. Halfway
through, a new version is exported into the served base: with `--run RUN_DIR`
by `seqcore sentiment export` (the real thing), otherwise by copying the
latest version the way the export routine publishes (hidden temporary
folder, then one rename). Prints one JSON object: throughput, p50 / p99
latency, the error count (any non-200 answer or failed connection), and
when the new version was exported and first served. Everything stops by
itself; loopback only.

Run:

    python benchmarks/serve_load.py --export-base exports/sentiment --run runs/sentiment \\
        --clients 16 --seconds 60 > serve_load.json
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import REVIEWS  # noqa: E402


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port, path, timeout=5):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def publish_copy(base):
    """A new version folder, copied from the latest and published with one rename."""
    versions = sorted(int(p.name) for p in base.iterdir() if p.name.isdigit())
    new = versions[-1] + 1
    temporary = Path(tempfile.mkdtemp(prefix=f".{new}.tmp-", dir=base))
    shutil.copytree(base / str(versions[-1]), temporary, dirs_exist_ok=True)
    os.replace(temporary, base / str(new))
    return new


def client_loop(port, deadline, index, latencies, errors, lock):
    body_cache = [json.dumps({"instances": [review]}).encode() for review in REVIEWS]
    connection, count = None, index
    while time.monotonic() < deadline:
        body = body_cache[count % len(body_cache)]
        count += 1
        begin = time.perf_counter()
        try:
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("POST", "/v1/models/sentiment:predict", body,
                               {"Content-Type": "application/json"})
            response = connection.getresponse()
            payload = response.read()
            elapsed = time.perf_counter() - begin
            ok = response.status == 200 and b'"predictions"' in payload
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors.append(f"{response.status}: {payload[:200].decode(errors='replace')}")
        except Exception as error:  # a failed connection counts as an error
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
            if connection is not None:
                connection.close()
            connection = None
    if connection is not None:
        connection.close()


def percentile(values, q):
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export-base", default="exports/sentiment")
    parser.add_argument("--run", default=None, help="run directory to export the mid-run version from")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--swap-at", type=float, default=None, help="seconds in (default: half way)")
    parser.add_argument("--server-args", default="", help="extra `seqcore serve` options")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="serve-load-"))
    base = work / "sentiment"
    source = Path(args.export_base)
    for version in sorted(p for p in source.iterdir() if p.name.isdigit()):
        shutil.copytree(version, base / version.name)
    port = free_port()
    command = [sys.executable, "-c", "from seqcore.cli.serve import serve; serve(prog_name='seqcore serve')",
               f"sentiment={base}", "--port", str(port), *args.server_args.split()]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=open(work / "server.log", "w"))
    try:
        start_deadline = time.monotonic() + 120
        while True:
            try:
                if get(port, "/v1/models/sentiment")[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > start_deadline:
                raise SystemExit(f"server did not start; see {work / 'server.log'}")
            time.sleep(0.2)
        before = int(get(port, "/v1/models/sentiment")[1]["model_version_status"][0]["version"])

        latencies, errors, lock = [], [], threading.Lock()
        begin = time.monotonic()
        deadline = begin + args.seconds
        threads = [threading.Thread(target=client_loop, args=(port, deadline, i, latencies, errors, lock))
                   for i in range(args.clients)]
        for thread in threads:
            thread.start()

        swap = {"version_before": before}
        swap_at = args.seconds / 4 if args.swap_at is None else args.swap_at

        def export_new_version():
            time.sleep(max(0.0, swap_at))
            swap["export_started_s"] = round(time.monotonic() - begin, 2)
            if args.run:
                subprocess.run([sys.executable, "-m", "apps.sentiment", "export", args.run, str(base)],
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                swap["how"] = f"seqcore sentiment export {args.run}"
            else:
                publish_copy(base)
                swap["how"] = "copy of the latest version, published by rename"
            swap["exported_s"] = round(time.monotonic() - begin, 2)

        def watch_version():
            while time.monotonic() < deadline:
                try:
                    served = int(get(port, "/v1/models/sentiment/metadata")[1]["model_spec"]["version"])
                except OSError:
                    served = before
                if served > before:
                    swap["version_after"] = served
                    swap["served_s"] = round(time.monotonic() - begin, 2)
                    return
                time.sleep(0.2)

        helpers = [threading.Thread(target=export_new_version), threading.Thread(target=watch_version)]
        for thread in helpers:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - begin
        for thread in helpers:
            thread.join(timeout=300)
        final = get(port, "/v1/models/sentiment/metadata")[1]["model_spec"]["version"]
        result = {
            "clients": args.clients,
            "seconds": round(elapsed, 1),
            "cpu_cores": os.cpu_count(),
            "requests_ok": len(latencies),
            "errors": len(errors),
            "error_samples": sorted(set(errors))[:5],
            "throughput_rps": round(len(latencies) / elapsed, 1),
            "latency_ms": {
                "p50": round(1000 * percentile(latencies, 50), 1) if latencies else None,
                "p99": round(1000 * percentile(latencies, 99), 1) if latencies else None,
                "max": round(1000 * max(latencies), 1) if latencies else None,
            },
            "new_version": {**swap, "served_at_end": int(final),
                            "picked_up_during_run": "served_s" in swap},
            "server_args": args.server_args,
        }
        print(json.dumps(result, indent=2))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
