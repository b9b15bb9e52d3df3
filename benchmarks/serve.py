"""The HTTP API under load, while its model changes: `recsys serve` on loopback against in-process search.

    python -m benchmarks.serve [--clients 32] [--seconds 60] [--workers 2] [--json results.json]
    python -m benchmarks.serve --memory MODEL_DIR [--workers 4]

A copy of the default model is served by ``recsys serve --workers N``. ``--clients`` threads, each with
its own connection, first send searches only for a quarter of ``--seconds`` (the hand-written queries),
then a mix for ``--seconds``: searches, searches with explanations, explanations and recommendations
(3 : 1 : 1 : 1). Meanwhile a writer retrains through
``POST /retrain`` (one epoch; the job writes the new model only if its head is better), then adds a title
and removes it again, five times, through ``POST /titles`` and ``DELETE /titles/{id}``, with a retrain
from outside between the third and fourth (``recsys train --out`` the served directory, one epoch: it
writes its model whole, atomically, and the server swaps to it). The mixed
load lasts ``--seconds`` or until the writes end, whichever is later.

With ``--memory``, the model in MODEL_DIR is served by one worker and then by ``--workers``; after 200
requests on fresh connections (so that every worker has searched, explained and recommended), each
process's resident memory (RSS) and proportional share of it (PSS: a page shared by n processes counts
1/n in each) are read from ``/proc``, for the server and its forked workers. Reported: their total PSS
with ``--workers`` against the total with one.

Reported: requests/s, p50 and p99 latency per kind, errors (any status but 200, any failed connection),
and searches/s per core against ``MovieSearch.search`` called in-process on the same queries in the same
run. Every answer carries the model version that answered it; an answer is consistent when every search
for the same query answered by the same version returned the same ranking.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.common import HAND_WRITTEN, ROOT, answers, free_port, machine, server_processes
from recsys import MovieSearch
from recsys.default import default_model

TOKEN = "load-test-token"
MIX = ["search"] * 3 + ["search+explain", "explain", "recommend"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory", metavar="MODEL_DIR", help="measure the workers' memory on this model instead")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    import httpx  # the dev extra installs it

    if args.memory:
        report = {"machine": machine(), "model": args.memory, **_memory(httpx, Path(args.memory), args.workers)}
        print(json.dumps(report, indent=1))
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
        return

    model = MovieSearch.load(default_model(progress=True))
    queries = list(HAND_WRITTEN)
    ids = model.catalog.ids
    in_process = _in_process_rate(model, queries, args.seconds / 4)
    with tempfile.TemporaryDirectory() as scratch:
        served_dir = Path(scratch) / "model"
        shutil.copytree(default_model(), served_dir)
        server = Server(served_dir, args.workers)
        try:
            if not answers(f"{server.url}/health", 300, pause=0.5):
                raise SystemExit(f"the server did not start: {server.process.stderr.read1().decode()[-2000:]}")
            searches, _ = _load(httpx, server.url, queries, ids, None, args.clients, args.seconds / 4, ["search"])
            records, writes = _load(httpx, server.url, queries, ids, served_dir, args.clients, args.seconds, MIX)
        finally:
            server.stop()
    cores = os.cpu_count() or 1
    wall = searches.pop()["seconds"]
    search_rate = len(searches) / wall / cores
    report = {"machine": machine(), "clients": args.clients, "seconds": args.seconds, "workers": args.workers,
              "search only": {"API requests/s per core": round(search_rate, 1),
                              "in-process MovieSearch.search calls/s per core": in_process,
                              "API over in-process": round(search_rate / in_process, 3),
                              "errors": sum(r["status"] != 200 for r in searches),
                              "latency ms (p50, p99)": _latencies(searches)["search"]},
              "mixed, with writes": _summary(records, writes)}  # fmt: skip
    print(json.dumps(report, indent=1, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")


class Server:
    """``recsys serve`` in a child process on a free port."""

    def __init__(self, model_dir: Path, workers: int):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "recsys.cli", "serve", "--model", str(model_dir), "--port", str(self.port),
                   "--workers", str(workers)]  # fmt: skip
        env = {**os.environ, "RECSYS_API_TOKEN": TOKEN}
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self) -> None:
        """Stop the server and its workers."""
        self.process.terminate()
        self.process.wait(timeout=60)


def _memory(httpx, model_dir: Path, workers: int) -> dict:
    """Each worker's RSS and PSS (MB) serving ``model_dir`` with 1 and with ``workers`` workers, after use."""
    found = {}
    for count in (1, workers):
        server = Server(model_dir, count)
        try:
            if not answers(f"{server.url}/health", 600, pause=1.0):
                raise SystemExit(f"the server did not start: {server.process.stderr.read1().decode()[-2000:]}")
            with httpx.Client(base_url=server.url, timeout=120) as session:
                liked = [r["id"] for r in session.get("/search", params={"q": "a", "k": 3}).json()["results"]]
            for number in range(200):  # a fresh connection each: the kernel spreads them over the workers
                with httpx.Client(base_url=server.url, timeout=120) as session:
                    kind = ["search", "search+explain", "recommend"][number % 3]
                    _request(session, kind, HAND_WRITTEN[number % len(HAND_WRITTEN)], liked)
            time.sleep(2)
            processes = server_processes(server.process.pid)
            figures = [_resident(pid) for pid in processes]
            found[f"{count} worker{'s' * (count > 1)}"] = {
                "processes": len(processes), "RSS MB each": [f[0] for f in figures],
                "PSS MB each": [f[1] for f in figures], "PSS MB total": round(sum(f[1] for f in figures), 1),
            }  # fmt: skip
        finally:
            server.stop()
    one, many = (found[key]["PSS MB total"] for key in found)
    return {**found, f"{workers} workers over 1, total PSS": round(many / one, 3)}


def _resident(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of a process in MB, from /proc/PID/smaps_rollup."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        values[name] = int(rest.split()[0]) / 1024
    return round(values["Rss"], 1), round(values["Pss"], 1)


def _load(httpx, url: str, queries: list[str], ids: list[str], served_dir: Path | None, clients: int,
          seconds: float, kinds: list[str]) -> tuple[list[dict], list[dict]]:  # fmt: skip
    """Run the clients (and, given ``served_dir``, the writer); return every request's record and the writes."""
    records: list[dict] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    writing = threading.Event()

    def client(number: int) -> None:
        rng = random.Random(number)
        with httpx.Client(base_url=url, timeout=60) as session:
            while time.monotonic() < stop or writing.is_set():  # the load lasts as long as the writes
                kind, query = rng.choice(kinds), rng.choice(queries)
                started = time.perf_counter()
                try:
                    answer = _request(session, kind, query, rng.sample(ids, 3))
                    status, body = answer.status_code, answer.json()
                except (httpx.HTTPError, ValueError) as err:
                    status, body = 0, {"error": f"{type(err).__name__}: {err}"}
                seconds = time.perf_counter() - started
                ranking = [r["id"] for r in body.get("results", [])] if kind == "search" else None
                record = {"kind": kind, "query": query, "status": status, "seconds": seconds, "ranking": ranking,
                          "version": body.get("model_version"), "error": body.get("error")}  # fmt: skip
                with lock:
                    records.append(record)

    writes: list[dict] = []
    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    if served_dir is not None:
        writing.set()

        def write() -> None:
            try:
                _writer(httpx, url, served_dir, seconds, writes)
            finally:
                writing.clear()

        threads.append(threading.Thread(target=write, daemon=True))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records.append({"kind": "(wall)", "seconds": time.monotonic() - started})
    return records, writes


def _request(session, kind: str, query: str, liked: list[str]):
    if kind == "search":
        return session.get("/search", params={"q": query, "k": 10})
    if kind == "search+explain":
        return session.get("/search", params={"q": query, "k": 10, "explain": "true"})
    if kind == "explain":
        top = session.get("/search", params={"q": query, "k": 1}).json()["results"][0]["id"]
        return session.get("/explain", params={"q": query, "id": top})
    return session.post("/recommend", json={"liked": liked, "k": 10})


def _writer(httpx, url: str, served_dir: Path, seconds: float, writes: list[dict]) -> None:
    """A retrain through the API (one epoch), then five adds and removes and one model replaced on disk."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    title = {"id": "load-test-title", "title": "Orbit of Glass", "year": 2001, "genres": "Science Fiction",
             "description": "Astronauts on a glass space station meet an alien mind that speaks in light."}  # fmt: skip
    pause = seconds / 13
    with httpx.Client(base_url=url, timeout=600) as session:
        time.sleep(pause)
        started = time.perf_counter()
        job = session.post("/retrain", json={"epochs": 1}, headers=auth).json()["job"]
        while (state := session.get(f"/jobs/{job}").json())["status"] == "running":
            time.sleep(1.0)
        writes.append({"write": "POST /retrain (1 epoch)", "status": state["status"], "error": state.get("error"),
                       "seconds": round(time.perf_counter() - started, 1)})  # fmt: skip
        for round_number in range(5):
            time.sleep(pause)
            for method, path, payload in (("post", "/titles", {"json": {"titles": [title]}}),
                                          ("delete", f"/titles/{title['id']}", {})):  # fmt: skip
                started = time.perf_counter()
                answer = getattr(session, method)(path, headers=auth, **payload)
                writes.append({"write": f"{method.upper()} {path}", "status": answer.status_code,
                               "seconds": round(time.perf_counter() - started, 2),
                               "version": answer.json().get("model_version")})  # fmt: skip
            if round_number == 2:  # a retrain from outside that replaces the served model whole
                started = time.perf_counter()
                command = [sys.executable, "-m", "recsys.cli", "train", str(ROOT / "recsys" / "data" / "movies.csv"),
                           "--out", str(served_dir), "--init", str(served_dir), "--epochs", "1", "--quiet"]  # fmt: skip
                done = subprocess.run(command, capture_output=True, text=True)
                seconds = round(time.perf_counter() - started, 1)
                writes.append({"write": "recsys train --out (the served directory, 1 epoch)", "seconds": seconds,
                               "status": done.returncode, "error": done.stderr[-300:] or None})  # fmt: skip


def _summary(records: list[dict], writes: list[dict]) -> dict:
    seconds = next(r["seconds"] for r in records if r["kind"] == "(wall)")
    records = [r for r in records if r["kind"] != "(wall)"]
    errors = [r for r in records if r["status"] != 200]
    rankings = defaultdict(set)
    for record in records:
        if record["ranking"] is not None and record["status"] == 200:
            rankings[(record["version"], record["query"])].add(tuple(record["ranking"]))
    rate = len(records) / seconds
    return {
        "seconds": round(seconds, 1), "requests": len(records), "requests/s": round(rate, 1),
        "requests/s per core": round(rate / (os.cpu_count() or 1), 1),
        "latency ms by kind (p50, p99)": _latencies(records), "errors": len(errors),
        "first errors": [r["error"] for r in errors[:5]],
        "model versions answering": len({r["version"] for r in records if r["version"]}),
        "answers without a model version": sum(not r["version"] for r in records),
        "(version, query) pairs with more than one ranking": sum(len(found) > 1 for found in rankings.values()),
        "writes": writes,
    }  # fmt: skip


def _latencies(records: list[dict]) -> dict[str, tuple[float, float]]:
    by_kind = defaultdict(list)
    for record in records:
        by_kind[record["kind"]].append(record["seconds"])
    return {kind: (_percentile(times, 50), _percentile(times, 99)) for kind, times in by_kind.items()}


def _percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    position = min(len(ordered) - 1, int(round(percent / 100 * (len(ordered) - 1))))
    return round(1000 * ordered[position], 1)


def _in_process_rate(model: MovieSearch, queries: list[str], seconds: float) -> float:
    """``MovieSearch.search`` calls per second per core, called in a loop (torch uses every core)."""
    done, stop = 0, time.monotonic() + seconds
    while time.monotonic() < stop:
        model.search(queries[done % len(queries)], k=10)
        done += 1
    return round(done / seconds / (os.cpu_count() or 1), 1)


if __name__ == "__main__":
    main()
