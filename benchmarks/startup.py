"""Start-up time: how long the command line and the service take before they do anything.

    .venv/bin/python benchmarks/startup.py [--runs 5]

Each figure is the median wall time of `--runs` fresh processes, beside `python -c pass` (the
interpreter's own start, measured in the same run):

  python_pass        the interpreter alone: the floor
  import_cli         `python -c "import service.cli"`: what every command pays
  help               `reewatch --help`, to its exit
  run_first_poll     `reewatch run` with one loopback feed: from the process start to the feed
                     server seeing its first request (a fresh SQLite file each run, so the
                     migrations run too; prices replay the shipped sample)
  run_first_stored   the same run, to the feed's items being in the database

Targets (on an idle 2-core machine): --help under 0.5 s, the first poll under 1.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Start-up wire</title>'
    + b"".join(
        f"<item><guid>start-{n}</guid><title>Copper output steady at mine {n}</title>"
        f"<link>https://wire.startup.example/{n}</link></item>".encode()
        for n in range(5)
    )
    + b"</channel></rss>"
)


class FirstRequest:
    """A loopback feed host that notes when each request arrives."""

    def __init__(self) -> None:
        self.times: list[float] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                outer.times.append(time.monotonic())
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(FEED)))
                self.end_headers()
                self.wfile.write(FEED)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/feed"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REEWATCH_", "SLACK_", "SMTP_", "DATABASE_URL", "PRICE_"))}
    env.update(extra)
    return env


def timed(command: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.monotonic()
    subprocess.run(command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def first_poll(folder: Path) -> tuple[float, float]:
    """Seconds from starting `reewatch run` to its first feed request, and to the items stored."""
    host = FirstRequest()
    rules = folder / "rules"
    if rules.exists():
        shutil.rmtree(rules)
    shutil.copytree(ROOT / "rules", rules)
    (rules / "feeds.yaml").write_text(f"- name: wire\n  url: {host.url}\n  interval: 60s\n")
    (rules / "digests.yaml").unlink(missing_ok=True)
    database = folder / "startup.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    env = clean_env(
        DATABASE_URL=f"sqlite:///{database}",
        REEWATCH_RULES_DIR=str(rules),
        REEWATCH_VAR_DIR=str(folder / "var"),
        PRICE_SOURCE="replay",
        REEWATCH_PRICE_REPLAY_FILE=str(ROOT / "service" / "demo" / "prices.csv"),
        REEWATCH_PARSE_WORKERS="0",
    )
    started = time.monotonic()
    process = subprocess.Popen(
        [str(Path(PYTHON).parent / "reewatch"), "run"], env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = started + 60
        while not host.times and time.monotonic() < deadline:
            time.sleep(0.002)
        if not host.times:
            raise RuntimeError("reewatch run never polled its feed")
        polled = host.times[0] - started
        stored = None
        while stored is None and time.monotonic() < deadline:
            try:
                with sqlite3.connect(database) as db:
                    if db.execute("SELECT count(*) FROM articles").fetchone()[0] == 5:
                        stored = time.monotonic() - started
            except sqlite3.OperationalError:
                pass
            time.sleep(0.005)
        if stored is None:
            raise RuntimeError("reewatch run never stored the feed's items")
        return polled, stored
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        host.close()


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    reewatch = str(Path(PYTHON).parent / "reewatch")
    env = clean_env()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        samples: dict[str, list[float]] = {k: [] for k in ("python_pass", "import_cli", "help", "run_first_poll", "run_first_stored")}
        # In turns, so a busy moment on the machine weighs on every figure alike.
        for _ in range(args.runs):
            samples["python_pass"].append(timed([PYTHON, "-c", "pass"], env, folder))
            samples["import_cli"].append(timed([PYTHON, "-c", "import service.cli"], env, ROOT))
            samples["help"].append(timed([reewatch, "--help"], env, folder))
            polled, stored = first_poll(folder)
            samples["run_first_poll"].append(polled)
            samples["run_first_stored"].append(stored)
    result = {"runs": args.runs, "cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]}
    result["median_seconds"] = {name: median(values) for name, values in samples.items()}
    result["max_seconds"] = {name: round(max(values), 3) for name, values in samples.items()}
    result["targets"] = {
        "help_under_0.5s": result["median_seconds"]["help"] < 0.5,
        "first_poll_under_1.5s": result["median_seconds"]["run_first_poll"] < 1.5,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
