"""Open-loop HTTP/1.1 load generator for the API benchmark: fixed request rate, latency from the due time.

Why not httpx: at 200 requests/s an httpx client spends ~1 ms of CPU per request, half a core
of a 2-core machine taken away from the server it measures. This client is a bare asyncio
protocol over keep-alive sockets (no HTTP library): it writes pre-built request bytes and
only parses the status line and ``Content-Length`` of the answers, a few microseconds each.

Open loop and coordinated omission
----------------------------------
Request ``i`` is *due* at ``start + i / rate``, whatever happened to the previous ones
(``loop.call_at`` schedules every request up front). At its due time it goes out on an idle
keep-alive connection; when all ``--connections`` are busy it waits in a FIFO backlog
and leaves as soon as one frees. Its latency is measured from the **due time** to the last
byte of the answer, so time spent queued — in the backlog, in the server's accept queue or
its thread pool — is counted: a server that stalls for 1 s sees every request due during
that second charged with the stall, which a closed-loop tool (``wrk``, ``ab``) would instead
hide by not sending them (the "coordinated omission" of Gil Tene; ``wrk2`` does what we do,
but is not packaged in Debian). The client's own lateness (actual send time minus due time,
e.g. when the machine's CPUs are busy) is measured too and reported as ``send_lag``: it is
*included* in the latencies, which makes the figures pessimistic, never optimistic.

Bounds: ``rate * duration`` requests at most, to one loopback address; a request without an
answer ``--timeout`` seconds after the last due time counts as a timeout error, and the run
stops then whatever happens.

Usage: ``python bench/loadgen.py --url http://127.0.0.1:8000 --rate 200 --duration 60
--path /health [--path ...] [--header "Authorization: Bearer ..."]``; prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import math
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

LOOPBACK_PREFIXES = ("127.", "localhost", "::1", "[::1]")
HEADER_END = b"\r\n\r\n"


@dataclass
class Tally:
    """What the run observed; latencies and send lags in seconds."""

    latencies: list[float] = field(default_factory=list)
    dues: list[float] = field(default_factory=list)  # due time of each latency, same order
    send_lags: list[float] = field(default_factory=list)
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    transport_errors: int = 0
    timeouts: int = 0
    max_in_flight: int = 0
    max_backlog: int = 0
    first_due: float = 0.0
    last_done: float = 0.0


class Connection(asyncio.Protocol):
    """One keep-alive connection carrying one request at a time (no pipelining)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.request: tuple[int, float] | None = None  # (index, due time)
        self.expected = -1  # total bytes of the answer once its headers are read
        self.status = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def send(self, index: int, due: float, payload: bytes) -> None:
        assert self.transport is not None
        self.request = (index, due)
        self.buffer.clear()
        self.expected = -1
        self.transport.write(payload)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.expected < 0:
            end = self.buffer.find(HEADER_END)
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            try:
                self.status = int(head[9:12])
                start = head.index(b"\r\ncontent-length:") + 17
                stop = head.find(b"\r\n", start)
                length = int(head[start : stop if stop >= 0 else len(head)])
            except ValueError:
                # no Content-Length (chunked) or a garbled answer: the server broke the contract
                self.fail()
                return
            self.expected = end + len(HEADER_END) + length
        if len(self.buffer) >= self.expected:
            request, self.request = self.request, None
            if request is not None:
                self.client.done(self, request[1], self.status)

    def fail(self) -> None:
        request, self.request = self.request, None
        if self.transport is not None:
            self.transport.close()
        if request is not None:
            self.client.failed(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.client.lost(self, in_flight=self.request is not None)
        self.request = None


class Client:
    """Schedules the requests, hands them to idle connections, records the outcome."""

    def __init__(self, host: str, port: int, payloads: list[bytes], connections: int, tally: Tally) -> None:
        self.host, self.port = host, port
        self.payloads = payloads
        self.size = connections
        self.tally = tally
        self.idle: list[Connection] = []
        self.busy: set[Connection] = set()
        self.backlog: collections.deque[tuple[int, float]] = collections.deque()
        self.outstanding = 0
        self.finished: asyncio.Future[None] | None = None
        self.loop = asyncio.get_running_loop()

    async def open(self) -> None:
        for _ in range(self.size):
            await self._connect()

    async def _connect(self) -> None:
        try:
            _, protocol = await self.loop.create_connection(lambda: Connection(self), self.host, self.port)
        except OSError:
            self.tally.transport_errors += 1  # server gone: the backlog then times out
            return
        self.idle.append(protocol)
        self._drain()

    def due(self, index: int, due: float) -> None:
        self.backlog.append((index, due))
        self.tally.max_backlog = max(self.tally.max_backlog, len(self.backlog))
        self._drain()

    def _drain(self) -> None:
        while self.backlog and self.idle:
            index, due = self.backlog.popleft()
            connection = self.idle.pop()
            self.busy.add(connection)
            self.tally.max_in_flight = max(self.tally.max_in_flight, len(self.busy))
            self.tally.send_lags.append(self.loop.time() - due)
            connection.send(index, due, self.payloads[index % len(self.payloads)])

    def done(self, connection: Connection, due: float, status: int) -> None:
        now = self.loop.time()
        self.tally.latencies.append(now - due)
        self.tally.dues.append(due)
        self.tally.statuses[status] += 1
        self.tally.last_done = now
        self.busy.discard(connection)
        self.idle.append(connection)
        self._settle()
        self._drain()

    def failed(self, connection: Connection) -> None:
        self.tally.transport_errors += 1
        self.busy.discard(connection)
        self._settle()

    def lost(self, connection: Connection, *, in_flight: bool) -> None:
        if in_flight:
            self.tally.transport_errors += 1
            self._settle()
        self.busy.discard(connection)
        if connection in self.idle:
            self.idle.remove(connection)
        if self.finished is not None and not self.finished.done():
            # replace it, so a server closing keep-alive connections does not starve the run
            self.loop.create_task(self._connect())

    def _settle(self) -> None:
        self.outstanding -= 1
        if self.outstanding == 0 and self.finished is not None and not self.finished.done():
            self.finished.set_result(None)

    def close(self) -> None:
        for connection in [*self.idle, *self.busy]:
            if connection.transport is not None:
                connection.transport.close()


async def run(
    url: str,
    paths: list[str],
    *,
    rate: float,
    duration: float,
    headers: list[str],
    connections: int = 64,
    timeout: float = 10.0,
) -> Tally:
    """Send ``rate * duration`` GET requests cycling over ``paths``, open loop; return the tally."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 80
    if not host.startswith(LOOPBACK_PREFIXES):
        raise SystemExit(f"{host}: loopback addresses only (this is a load test)")
    if rate <= 0 or duration <= 0 or not paths:
        raise SystemExit("rate, duration and at least one path are required")
    extra = "".join(f"{h}\r\n" for h in headers)
    payloads = [
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode("latin-1") for path in paths
    ]
    tally = Tally()
    client = Client(host, port, payloads, connections, tally)
    await client.open()
    loop = asyncio.get_running_loop()
    total = math.ceil(rate * duration)
    client.outstanding = total
    client.finished = loop.create_future()
    start = loop.time() + 0.2
    tally.first_due = start
    for i in range(total):
        due = start + i / rate
        loop.call_at(due, client.due, i, due)
    deadline = start + total / rate + timeout
    try:
        await asyncio.wait_for(client.finished, timeout=deadline - loop.time())
    except TimeoutError:
        tally.timeouts = client.outstanding
    finally:
        client.finished = None
        client.close()
    return tally


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by the nearest-rank method (no interpolation)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def slow_seconds(tally: Tally, slow_ms: float, top: int = 5) -> list[dict[str, float]]:
    """The seconds of the run (by due time) with the most answers slower than ``slow_ms``.

    Tells a stall (all slow answers in one or two seconds: a pause of the server or of the
    machine) from a steady excess (slow answers spread over the whole run).
    """
    buckets: dict[int, list[float]] = {}
    for due, latency in zip(tally.dues, tally.latencies, strict=True):
        if latency * 1000 > slow_ms:
            buckets.setdefault(int(due - tally.first_due), []).append(latency * 1000)
    worst = sorted(buckets.items(), key=lambda item: (-len(item[1]), item[0]))[:top]
    return [{"second": s, "slow": len(v), "max_ms": round(max(v), 1)} for s, v in worst]


def summary(tally: Tally, rate: float, duration: float, slow_ms: float = 50.0) -> dict[str, object]:
    """Latency percentiles (ms), achieved rate, errors and the client's own send lag."""
    ms = [v * 1000 for v in tally.latencies]
    lag = [v * 1000 for v in tally.send_lags]
    ok = tally.statuses.get(200, 0)
    span = tally.last_done - tally.first_due
    return {
        "target_rate": rate,
        "duration_s": duration,
        "scheduled": math.ceil(rate * duration),
        "completed": len(ms),
        "ok": ok,
        "achieved_rate": round(len(ms) / span, 1) if span > 0 else None,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "non_200": len(ms) - ok,
        "transport_errors": tally.transport_errors,
        "timeouts": tally.timeouts,
        "latency_ms": {
            name: round(percentile(ms, q), 2)
            for name, q in (("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9), ("max", 100))
        },
        "send_lag_ms": {
            name: round(percentile(lag, q), 2) for name, q in (("p50", 50), ("p99", 99), ("max", 100))
        },
        "slow_ms": slow_ms,
        "slower_than_slow_ms": sum(1 for v in ms if v > slow_ms),
        "seconds_with_slow_answers": len(
            {int(d - tally.first_due) for d, v in zip(tally.dues, ms, strict=True) if v > slow_ms}
        ),
        "worst_seconds": slow_seconds(tally, slow_ms),
        "max_in_flight": tally.max_in_flight,
        "max_backlog": tally.max_backlog,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="http://127.0.0.1:PORT (loopback only)")
    parser.add_argument("--path", action="append", default=[], help="request path (repeatable)")
    parser.add_argument("--paths-file", help="file of request paths, one a line (adds to --path)")
    parser.add_argument("--header", action="append", default=[], help="'Name: value' (repeatable)")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections")
    parser.add_argument("--timeout", type=float, default=10.0, help="grace after the last due time")
    parser.add_argument("--slow-ms", type=float, default=50.0, help="latency counted as slow (ms)")
    args = parser.parse_args(argv)
    paths = list(args.path)
    if args.paths_file:
        with open(args.paths_file, encoding="utf-8") as handle:
            paths += [line.strip() for line in handle if line.strip()]
    started = time.time()
    tally = asyncio.run(
        run(
            args.url,
            paths,
            rate=args.rate,
            duration=args.duration,
            headers=args.header,
            connections=args.connections,
            timeout=args.timeout,
        )
    )
    result = summary(tally, args.rate, args.duration, args.slow_ms)
    result["started_unix"] = round(started, 1)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
