"""Soak: `reewatch run` on 1,000 loopback feeds for 10 minutes; memory and CPU as it goes.

    .venv/bin/python benchmarks/soak.py [--feeds 1000] [--minutes 10] [--interval 60] [--database-url URL]

The feeds (20 items each, sector news with one policy story in ten) are served by a small
asyncio HTTP server in its own process, with ETags. A tenth of them gain a new item every few
minutes, as real feeds do; 1% fail, each its own way: HTTP 500, 404, 429 with Retry-After, an
HTML page, an empty body, a dropped connection, a redirect loop, no answer (read timeout),
malformed XML, a body over the size cap. The service runs as it would in production (its own
process tree: the main process, and the forkserver and parse workers when it starts them), on a
fresh SQLite file unless --database-url names an empty database, with prices replayed from the
shipped sample and alerts on the console (discarded).

Sampled every second from /proc: the tree's resident memory (RSS, summed over its processes,
so pages they share count in each) and its proportional share (PSS, shared pages divided among
them: what the tree really costs), and its CPU time. Printed as JSON: per polling cycle
(`--interval` seconds) the CPU seconds used and the peak and closing RSS; the peak over the run;
and as the baseline, measured in the same run first, the same service with a single feed.
Targets: peak RSS under 300 MB, and flat (the last cycles within 10% of the second).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.ingest import TOPICS  # noqa: E402
from benchmarks.loopback import split_requests  # noqa: E402

FAULTS = ("500", "404", "429", "html", "empty", "drop", "redirect", "silent", "malformed", "huge")
ITEMS = 20
#: Every tenth feed gains an item this often.
CHANGE_EVERY = 180.0
PAGE = 4096


def feed_body(feed: int, generation: int) -> bytes:
    """The feed's latest `ITEMS` items; `generation` new ones have been added since the start."""
    items = []
    for n in range(generation, generation + ITEMS):
        title, lede = TOPICS[n % len(TOPICS)]
        items.append(
            f"<item><title>{title.format(n=n)} &#8212; feed {feed}</title>"
            f"<link>https://news{feed}.example.test/2025/{n}</link>"
            f'<guid isPermaLink="false">feed{feed}-item{n}</guid>'
            f"<pubDate>Thu, 09 Oct 2025 {n % 24:02d}:{n % 60:02d}:00 GMT</pubDate>"
            f"<description>&lt;p&gt;{lede} Analysts said the move matters for the sector.&lt;/p&gt;</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Soak feed {feed}</title><link>https://news{feed}.example.test/</link>" + "".join(items) + "</channel></rss>"
    ).encode()


class _Http(asyncio.Protocol):
    def __init__(self, server: SoakServer):
        self.server = server
        self.buffer = b""
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        requests, self.buffer = split_requests(self.buffer + data)
        for path, headers in requests:
            answer = self.server.respond(path, headers)
            if answer is None:  # drop the connection, or never answer
                if path.endswith("/drop"):
                    self.transport.close()
                return
            self.transport.write(answer)


class SoakServer:
    def __init__(self, feeds: int, started: float):
        self.feeds = feeds
        self.started = started
        self.cache: dict[tuple[int, int], tuple[bytes, bytes]] = {}

    def respond(self, path: str, headers: dict[bytes, bytes]) -> bytes | None:
        parts = path.strip("/").split("/")
        if parts[0] == "fault":
            return self.fault(parts[1])
        feed = int(parts[1])
        generation = int((time.monotonic() - self.started) / CHANGE_EVERY) if feed % 10 == 0 else 0
        key = (feed, generation)
        if key not in self.cache:
            body = feed_body(feed, generation)
            self.cache[key] = (body, b'"' + hashlib.sha1(body).hexdigest()[:16].encode() + b'"')
        body, etag = self.cache[key]
        if headers.get(b"if-none-match") == etag:
            return b"HTTP/1.1 304 Not Modified\r\nETag: " + etag + b"\r\n\r\n"
        return self.ok(body, b"application/rss+xml; charset=utf-8", etag)

    @staticmethod
    def ok(body: bytes, content_type: bytes, etag: bytes | None = None) -> bytes:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type + b"\r\nContent-Length: " + str(len(body)).encode()
        if etag:
            head += b"\r\nETag: " + etag
        return head + b"\r\n\r\n" + body

    def fault(self, kind: str) -> bytes | None:
        if kind == "500":
            return b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops"
        if kind == "404":
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        if kind == "429":
            return b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n"
        if kind == "html":
            return self.ok(b"<!doctype html><html><body><h1>Welcome</h1></body></html>", b"text/html")
        if kind == "empty":
            return self.ok(b"", b"application/rss+xml")
        if kind == "redirect":
            return b"HTTP/1.1 302 Found\r\nLocation: /fault/redirect\r\nContent-Length: 0\r\n\r\n"
        if kind == "malformed":
            return self.ok(b'<?xml version="1.0"?><rss><channel><title>Broken<item><title>half', b"application/rss+xml")
        if kind == "huge":
            return self.ok(b"<rss>" + b"x" * 6_000_000 + b"</rss>", b"application/rss+xml")
        return None  # drop, silent


def serve(feeds: int, port_queue, stop_event) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = SoakServer(feeds, time.monotonic())
        listener = await loop.create_server(lambda: _Http(server), "127.0.0.1", 0, backlog=1024)
        port_queue.put(listener.sockets[0].getsockname()[1])
        await loop.run_in_executor(None, stop_event.wait)
        listener.close()

    asyncio.run(main())


def tree(root: int) -> list[int]:
    """`root` and every process descended from it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def by_process(root: int) -> list[dict]:
    """Each process of the tree: what it is (its command line, shortened) and its RSS and PSS."""
    found = []
    for pid in tree(root):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        sizes = {line.split(":")[0]: int(line.split()[1]) / 1024 for line in rollup.splitlines() if line[:4] in ("Rss:", "Pss:")}
        found.append({"process": command[-90:], "rss_mb": round(sizes.get("Rss", 0), 1), "pss_mb": round(sizes.get("Pss", 0), 1)})
    return found


def sample(root: int) -> tuple[float, float, float, int]:
    """RSS and PSS of the tree in MB, its CPU seconds, and how many processes it has."""
    rss = pss = cpu = 0.0
    pids = tree(root)
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        for line in rollup.splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1]) / 1024
            elif line.startswith("Pss:"):
                pss += int(line.split()[1]) / 1024
        cpu += (int(stat[11]) + int(stat[12]) + int(stat[13]) + int(stat[14])) / ticks
    return rss, pss, cpu, len(pids)


def write_rules(folder: Path, urls: list[str], interval: int) -> Path:
    rules = folder / "rules"
    if not rules.exists():
        import shutil

        shutil.copytree(ROOT / "rules", rules)
        (rules / "digests.yaml").unlink(missing_ok=True)
    lines = [f"- name: f{n}\n  url: {url}\n  interval: {interval}s\n  kind: sector\n" for n, url in enumerate(urls)]
    (rules / "feeds.yaml").write_text("".join(lines))
    return rules


def run_service(folder: Path, rules: Path, database_url: str, seconds: float, interval: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REEWATCH_", "SLACK_", "SMTP_", "DATABASE_URL", "PRICE_"))}
    env.update(
        DATABASE_URL=database_url,
        REEWATCH_RULES_DIR=str(rules),
        REEWATCH_VAR_DIR=str(folder / "var"),
        PRICE_SOURCE="replay",
        REEWATCH_PRICE_REPLAY_FILE=str(ROOT / "service" / "demo" / "prices.csv"),
        REEWATCH_READ_TIMEOUT="5",
        REEWATCH_LOG_LEVEL="WARNING",
    )
    started = time.monotonic()
    with (folder / "service.log").open("w") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "reewatch"), "run"], env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=log
        )
    samples: list[tuple] = []
    processes: list[dict] = []
    try:
        while time.monotonic() - started < seconds:
            time.sleep(1.0)
            if process.poll() is not None:
                raise RuntimeError(f"reewatch run exited:\n{(folder / 'service.log').read_text()[-3000:]}")
            samples.append((time.monotonic() - started, *sample(process.pid)))
            if not processes or samples[-1][1] >= max(s[1] for s in samples):
                processes = by_process(process.pid)  # where the memory is at the peak
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=90)
    cycles = []
    for start in range(0, int(seconds), interval):
        window = [s for s in samples if start <= s[0] < start + interval]
        if len(window) < 2:
            continue
        cycles.append(
            {
                "cycle": len(cycles) + 1,
                "cpu_seconds": round(window[-1][3] - window[0][3], 2),
                "rss_peak_mb": round(max(s[1] for s in window), 1),
                "rss_end_mb": round(window[-1][1], 1),
                "pss_peak_mb": round(max(s[2] for s in window), 1),
                "processes": max(s[4] for s in window),
            }
        )
    return {
        "peak_rss_mb": round(max(s[1] for s in samples), 1),
        "peak_pss_mb": round(max(s[2] for s in samples), 1),
        "cpu_seconds": round(samples[-1][3], 1),
        "at_peak": processes,
        "cycles": cycles,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--interval", type=int, default=60, help="every feed's polling interval, seconds")
    parser.add_argument("--baseline-seconds", type=float, default=45)
    parser.add_argument("--database-url", default=None, help="an empty database (default: a fresh SQLite file)")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    port_queue, stop_event = context.Queue(), context.Event()
    server = context.Process(target=serve, args=(args.feeds, port_queue, stop_event), daemon=True)
    server.start()
    port = port_queue.get(timeout=30)
    failing = max(1, args.feeds // 100)
    urls = [f"http://127.0.0.1:{port}/fault/{FAULTS[n % len(FAULTS)]}" for n in range(failing)]
    urls += [f"http://127.0.0.1:{port}/feed/{n}" for n in range(failing, args.feeds)]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            rules = write_rules(folder, urls[failing : failing + 1], args.interval)
            baseline = run_service(folder, rules, f"sqlite:///{folder / 'baseline.db'}", args.baseline_seconds, args.interval)
            rules = write_rules(folder, urls, args.interval)
            soak = run_service(folder, rules, args.database_url or f"sqlite:///{folder / 'soak.db'}", args.minutes * 60, args.interval)
    finally:
        stop_event.set()
        server.join(timeout=10)
    ends = [c["rss_end_mb"] for c in soak["cycles"]]
    flat = len(ends) >= 3 and max(ends[2:]) <= ends[1] * 1.10
    print(
        json.dumps(
            {
                "feeds": args.feeds,
                "failing_feeds": failing,
                "interval_seconds": args.interval,
                "minutes": args.minutes,
                "baseline_one_feed": {k: baseline[k] for k in ("peak_rss_mb", "peak_pss_mb", "at_peak")},
                "soak": soak,
                "target_peak_rss_under_300mb": soak["peak_rss_mb"] < 300,
                "target_flat": flat,
                "cpus": os.cpu_count(),
                "load_average": [round(x, 2) for x in os.getloadavg()],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
