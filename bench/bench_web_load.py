"""Benchmark: the web pages under 50 concurrent users, beside a static asset of the same server.

Issue 15 bounds the p95 of the main pages, with 1,000 cluster organisations and 100,000
members, at 50 concurrent users, to 3x the p95 of a static asset served by the same server in
the same run (CONTRACTS "Web (15)": same load, same run).

Setup (not timed):

* a SQLite registry (a temporary file) filled by ``bench_api.seed``: 1,000 public cluster
  organisations (a département, a sector, a label each) and 100,000 member firms, 100 per
  cluster, through bulk inserts (SQLAlchemy core);
* 50 cluster managers, one per cluster organisation among the first 50, each with a password;
* a saved detection run for the observatory: the real URSSAF file of the Rouen employment
  zone imported, then ``grappe detect --level commune --permutations 0 --save rouen``;
* ``grappe serve --workers W`` (uvicorn) in a subprocess on a free loopback port; each
  manager signs in through the sign-in form (CSRF token, password), which gives its session.

Three phases on the same server, one after the other:

* ``solo``: one user alone, 30 requests of each kind: the service time of each page;
* ``saturation``: 50 users, each a coroutine with its own keep-alive connection and its own
  cookies (manager i's session), closed loop: a user sends its next request as soon as the
  previous answer is read (the server's queue is never empty);
* ``browsing``: the same 50 users pausing a random time (exponential, mean ``--think``
  seconds, 1 by default) after each answer, as people reading pages do.

In each phase a request is drawn at random among the kinds below, the static asset as often
as any page, so that every kind is measured under the same load at the same time:

* ``gestion``: the manager's home (``/gestion``) and its cluster's dashboard;
* ``adherents``: its cluster's member list, pages 1-5, or a search;
* ``annuaire``: the public directory, with region / label / sector filters and pages;
* ``structure``: a cluster's public profile, 1,000 clusters;
* ``observatoire``: the saved run's page (map and table), a territory and a sector page;
* ``static``: ``/static/grappe.css``.

The first ``--warmup`` seconds of the loaded phases are not counted. Latency is from the
request written to the last byte of the answer read. The client is a bare asyncio HTTP/1.1
reader (status line, headers, Content-Length or chunked body), a few microseconds of CPU per
request, in this process. A user idle for 4 s opens a new connection, as a browser does when
uvicorn has closed the old one.

Prints, per phase and kind: requests, p50, p95, the ratio p95 / p95(static) and the errors
(any status other than 200), with the server's CPU time per request; writes it with the
machine and load average to ``bench/results/web_load.json``.

    python bench/bench_web_load.py [--users 50] [--duration 30] [--warmup 5] [--think 1]
        [--workers 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import http.client
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

HERE = Path(__file__).resolve().parent
BOUND = 3.0
STATIC = "/static/grappe.css"
#: Seconds after which a user reopens its connection rather than reuse it (uvicorn: 5 s).
IDLE = 4.0
PASSWORD = "mot de passe du banc de charge"
RUN = "rouen"
URSSAF_ROUEN = "urssaf_commune_ape_ze2815_rouen.csv"
REGIONS = ["11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94"]
LABELS = ["pole", "grappe", "regional", "none"]
SECTORS = ["25", "28", "10", "20", "62", "C", "J"]


def add_managers(url: str, count: int) -> list[tuple[str, int]]:
    """``count`` managers, manager k of cluster k; their e-mails and clusters."""
    from grappe.registry import LOCAL_ADMIN
    from grappe.registry.accounts import service as accounts
    from grappe.registry.accounts import signin
    from grappe.registry.accounts.schemas import UserCreate
    from grappe.registry.models import Role
    from grappe.storage.sql import make_engine, session_scope

    engine = make_engine(url)
    managers = []
    with session_scope(engine, actor=LOCAL_ADMIN) as session:
        for k in range(1, count + 1):
            email = f"gestion{k:03d}@grappe.fr"
            user = accounts.create_user(
                session, LOCAL_ADMIN, UserCreate(email=email, role=Role.MANAGER, clusters=[k])
            )
            signin.set_password(session, LOCAL_ADMIN, user.id, PASSWORD)
            managers.append((email, k))
    engine.dispose()
    return managers


def save_run(folder: Path, env: dict[str, str]) -> None:
    """Import the Rouen URSSAF file and save its detection for the observatory."""
    shared = os.environ.get("GRAPPE_SHARED_DATA")
    if not shared:
        raise SystemExit("GRAPPE_SHARED_DATA must name the shared data folder (real/ files)")
    source = Path(shared) / "real" / URSSAF_ROUEN
    store = folder / "store"
    for args in (
        ["fabric", "import", str(source), "--format", "urssaf", "--store", str(store)],
        ["detect", "--store", str(store), "--level", "commune", "--permutations", "0",
         "--save", RUN],
    ):
        done = subprocess.run([sys.executable, "-m", "grappe", *args], env=env,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"grappe {' '.join(args[:2])} failed:\n{done.stderr[-3000:]}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(env: dict[str, str], workers: int) -> Iterator[tuple[str, int, subprocess.Popen[bytes]]]:
    """``grappe serve`` on a free loopback port, until the block ends."""
    port = _free_port()
    command = [sys.executable, "-m", "grappe", "serve", "--host", "127.0.0.1", "--port",
               str(port), "--workers", str(workers)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600  # a loaded machine takes minutes to start workers
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the web server did not start") from None
                time.sleep(0.5)
        time.sleep(1.0)  # every worker up, not only the first that answered
        yield base, port, proc
    finally:
        proc.terminate()
        proc.wait(30)


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    found = {}
    for header in response.headers.get_all("set-cookie") or []:
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def sign_in(port: int, email: str) -> str:
    """Sign in through the form as a browser does; the Cookie header of the session."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/connexion")
    page = conn.getresponse()
    jar = _cookies(page)
    html = page.read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if token is None:
        raise RuntimeError("no CSRF token on /connexion")
    body = urllib.parse.urlencode({"email": email, "password": PASSWORD,
                                   "csrf_token": token.group(1), "target": "/gestion"})
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    conn.request("POST", "/connexion", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    answer = conn.getresponse()
    answer.read()
    if answer.status != 303:
        raise RuntimeError(f"sign-in of {email} answered {answer.status}")
    jar |= _cookies(answer)
    conn.close()
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def observatory_paths(port: int) -> list[str]:
    """The run page and some of its territory and sector pages (links read from the page)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", f"/observatoire/{RUN}")
    page = conn.getresponse()
    html = page.read().decode()
    if page.status != 200:
        raise RuntimeError(f"/observatoire/{RUN} answered {page.status}")
    links = sorted(set(re.findall(rf'href="(/observatoire/{RUN}/(?:territoires|secteurs)/[^"]+)"',
                                  html)))
    territories = [link for link in links if "/territoires/" in link][:5]
    sectors = [link for link in links if "/secteurs/" in link][:5]
    if not territories or not sectors:
        raise RuntimeError("the observatory page links no territory or sector page")
    conn.close()
    return [f"/observatoire/{RUN}", f"/observatoire/{RUN}?page=2", *territories, *sectors]


def kinds(cluster: int, observatory: list[str], rng: random.Random) -> dict[str, list[str]]:
    """The paths of each kind of request one user sends (its manager's cluster)."""
    directory = ["/annuaire", "/annuaire?page=7", "/annuaire?page=50"]
    directory += [f"/annuaire?region={r}" for r in REGIONS]
    directory += [f"/annuaire?label={lb}&page=2" for lb in LABELS]
    directory += [f"/annuaire?sector={s}" for s in SECTORS]
    return {
        "gestion": ["/gestion", f"/gestion/{cluster}"],
        "adherents": [f"/gestion/{cluster}/adherents"]
        + [f"/gestion/{cluster}/adherents?page={p}" for p in (2, 3, 4, 5)]
        + [f"/gestion/{cluster}/adherents?q=Entreprise+{cluster - 1:04d}"],
        "annuaire": directory,
        "structure": [f"/structures/{c}" for c in rng.sample(range(1, 1001), 50)],
        "observatoire": observatory,
        "static": [STATIC],
    }


class Recorder:
    """Latencies by kind, errors by kind and status, from ``start`` on."""

    def __init__(self) -> None:
        self.start = float("inf")
        self.latencies: dict[str, list[float]] = {}
        self.errors: dict[str, dict[str, int]] = {}

    def add(self, kind: str, sent: float, latency: float, status: int) -> None:
        if sent < self.start:
            return
        self.latencies.setdefault(kind, []).append(latency)
        if status != 200:
            by_status = self.errors.setdefault(kind, {})
            by_status[str(status)] = by_status.get(str(status), 0) + 1


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 answer; its status and whether the server keeps the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status, headers.get("connection", "").lower() != "close"


async def user(port: int, cookie: str, paths: dict[str, list[str]], stop: float,
               recorder: Recorder, rng: random.Random, think: float = 0.0) -> None:
    """One user: requests one after the other on a keep-alive connection until ``stop``,
    pausing a random time of mean ``think`` seconds (exponential) after each answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    names = sorted(paths)
    if think > 0:  # users do not all start at the same instant
        await asyncio.sleep(rng.uniform(0, think))
    last = time.perf_counter()
    while time.perf_counter() < stop:
        kind = rng.choice(names)
        path = rng.choice(paths[kind])
        if time.perf_counter() - last > IDLE:
            # uvicorn closes a keep-alive connection idle for 5 s; a browser opens a new one
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
                     "Accept-Language: fr\r\n\r\n".encode("latin-1"))
        sent = time.perf_counter()
        try:
            await writer.drain()
            status, keep = await _read_answer(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status, keep = 0, False
        last = time.perf_counter()
        recorder.add(kind, sent, last - sent, status)
        if not keep:
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        if think > 0:
            await asyncio.sleep(rng.expovariate(1.0 / think))
    writer.close()


async def load(port: int, users: list[tuple[str, dict[str, list[str]]]], warmup: float,
               duration: float, seed: int, think: float = 0.0) -> Recorder:
    """All users at once for ``warmup + duration`` seconds; the recorder of the last part."""
    recorder = Recorder()
    started = time.perf_counter()
    recorder.start = started + warmup
    stop = recorder.start + duration
    await asyncio.gather(*(
        user(port, cookie, paths, stop, recorder, random.Random(seed + i), think)
        for i, (cookie, paths) in enumerate(users)
    ))
    return recorder


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0-1), nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (the uvicorn workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    with suppress(OSError):
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


async def solo(port: int, cookie: str, paths: dict[str, list[str]], per_kind: int) -> Recorder:
    """One user alone, ``per_kind`` requests of each kind in turn: the service times."""
    recorder = Recorder()
    recorder.start = 0.0
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for i in range(per_kind):
        for kind, kind_paths in sorted(paths.items()):
            path = kind_paths[i % len(kind_paths)]
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}"
                         "\r\nAccept-Language: fr\r\n\r\n".encode("latin-1"))
            sent = time.perf_counter()
            await writer.drain()
            status, _keep = await _read_answer(reader)
            recorder.add(kind, sent, time.perf_counter() - sent, status)
    writer.close()
    return recorder


def table(recorder: Recorder, seconds: float | None) -> dict[str, Any]:
    """Requests, p50, p95 and p95 / p95(static) of each kind; the static kind last."""
    static_p95 = percentile(recorder.latencies["static"], 0.95)
    rows = {}
    for kind in sorted(recorder.latencies, key=lambda k: (k == "static", k)):
        values = recorder.latencies[kind]
        p95 = percentile(values, 0.95)
        rows[kind] = {
            "requests": len(values), "p50_ms": round(1000 * statistics.median(values), 1),
            "p95_ms": round(1000 * p95, 1), "ratio_p95_static": round(p95 / static_p95, 2),
            "errors": recorder.errors.get(kind, {}),
        }
    total = sum(len(v) for v in recorder.latencies.values())
    return {"requests": total,
            "throughput_rps": round(total / seconds, 1) if seconds else None,
            "kinds": rows,
            "within_bound": all(r["ratio_p95_static"] <= BOUND for r in rows.values())}


def show(title: str, result: dict[str, Any]) -> None:
    """Print one phase's table."""
    rate = f"; {result['throughput_rps']} requests/s" if result["throughput_rps"] else ""
    cpu = result.get("server_cpu_ms_per_request")
    print(f"\n{title}{rate}" + (f"; server CPU {cpu} ms/request" if cpu else ""))
    print(f"{'kind':<14}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'p95/static':>11}  errors")
    for kind, row in result["kinds"].items():
        print(f"{kind:<14}{row['requests']:>9}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}"
              f"{row['ratio_p95_static']:>10.2f}x  {row['errors'] or ''}")
    print(f"p95(page) <= {BOUND:g} x p95(static): {'met' if result['within_bound'] else 'NOT met'}")


def main() -> None:
    """Seed, serve, sign in, load; print and write the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean pause of a browsing user between two requests (s)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--keep", type=Path, help="keep the database and home in this folder")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "web_load.json")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="grappe-web-load-"))
    folder.mkdir(parents=True, exist_ok=True)
    home = folder / "home"
    database = folder / "registry.db"
    url = f"sqlite:///{database}"
    os.environ |= {"GRAPPE_HOME": str(home), "GRAPPE_DATABASE_URL": url}
    env = {**os.environ, "GRAPPE_HOME": str(home), "GRAPPE_DATABASE_URL": url}
    phases: dict[str, Any] = {}
    try:
        started = time.perf_counter()
        if not (folder / "ready").exists():
            from bench_api import CLUSTERS, MEMBERS_PER_CLUSTER, seed

            seed(url)
            add_managers(url, args.users)
            save_run(folder, env)
            (folder / "ready").write_text(f"{CLUSTERS} {MEMBERS_PER_CLUSTER}\n")
        print(f"registry and observatory ready in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
        emails = [f"gestion{k:03d}@grappe.fr" for k in range(1, args.users + 1)]
        with server(env, args.workers) as (_base, port, proc):
            cookies = [sign_in(port, email) for email in emails]
            observatory = observatory_paths(port)
            rng = random.Random(args.seed)
            users = [(cookie, kinds(k, observatory, rng))
                     for k, cookie in enumerate(cookies, start=1)]
            phases["solo"] = table(asyncio.run(solo(port, *users[0], per_kind=30)), None)
            for phase, think in (("saturation", 0.0), ("browsing", args.think)):
                cpu_before = _cpu_seconds(proc.pid)
                recorder = asyncio.run(
                    load(port, users, args.warmup, args.duration, args.seed, think))
                cpu = _cpu_seconds(proc.pid) - cpu_before
                phases[phase] = table(recorder, args.duration)
                # the warm-up's requests are in the CPU time, not in the count: an upper bound
                phases[phase]["server_cpu_ms_per_request"] = round(
                    1000 * cpu / max(phases[phase]["requests"], 1), 2)
                phases[phase]["think_s"] = think
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)

    summary: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "load": os.getloadavg()},
        "clusters": 1000, "members": 100_000, "users": args.users, "workers": args.workers,
        "duration_s": args.duration, "warmup_s": args.warmup, "bound": BOUND, "phases": phases,
    }
    print(f"\n{args.users} users, {args.workers} workers, {args.duration:g} s measured after "
          f"{args.warmup:g} s per phase; load average {summary['machine']['load'][0]:.1f} "
          f"on {os.cpu_count()} CPUs")
    show("one user alone (service times, 30 requests of each kind)", phases["solo"])
    show(f"{args.users} users without pause (saturation)", phases["saturation"])
    show(f"{args.users} users browsing (mean pause {args.think:g} s)", phases["browsing"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
