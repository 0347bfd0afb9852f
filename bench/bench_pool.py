"""What the Ray backend costs against the local one (issue 21), side by side in one run.

1. The pool's own costs: one raw Ray actor call (a round trip), one message through the pool
   and back (send, the worker's put, receive) one at a time, and per message when a batch of
   them is sent and received together, and per result when a worker puts many at once (the
   results come back in a few batched takes); the same for the local pool; and how long a
   pool of two workers takes from start to its first answer.
2. sort4 `enum` and a short sort4 `alphadev` run (from scratch, cost-model latency, 100
   simulations per move) on each
   backend with 1 and 2 workers, each cut by the same time limit, interleaved (local, ray,
   local, ray ...) so that the load of the shared machine hits both alike: programs explored
   per second of the agent's own elapsed time (which includes starting its workers).
   With one worker the local backend runs it in this process; Ray runs it in one actor.

One Ray instance (ray.init(address="local"), this machine's cores) serves every Ray row; its
start is timed apart. Usage:
  .venv/bin/python bench/bench_pool.py [--limit 30] [--calls 300] [--only overhead,enum,alphadev] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import ray  # noqa: E402

import superopt  # noqa: E402
from superopt.agents.pool import start_pool, using  # noqa: E402
from superopt.agents.raypool import SuperoptWorker  # noqa: E402


def echo(link):
    for message in iter(link.get, None):
        link.put(message)


def burst(link):
    for count in iter(link.get, None):
        for i in range(count):
            link.put(i)


def _round_trips(pool, calls: int) -> float:
    start = time.perf_counter()
    for i in range(calls):
        pool.send(0, i)
        while pool.receive(timeout=5) is None:
            pass
    return (time.perf_counter() - start) / calls


def _batched(pool, calls: int) -> float:
    start = time.perf_counter()
    for i in range(calls):
        pool.send(0, i)
    got = 0
    while got < calls:
        got += pool.receive(timeout=5) is not None
    return (time.perf_counter() - start) / calls


def overhead(calls: int) -> dict:
    out = {}
    actor = SuperoptWorker.remote(0)
    ray.get(actor.where.remote())
    start = time.perf_counter()
    for _ in range(calls):
        ray.get(actor.where.remote())
    out["ray_actor_call_ms"] = 1e3 * (time.perf_counter() - start) / calls
    ray.kill(actor)
    for backend in ("local", "ray"):
        start = time.perf_counter()
        with start_pool(echo, [(), ()], backend=backend, name="echo") as pool:
            pool.send(0, 0)
            while pool.receive(timeout=5) is None:
                pass
            out["%s_pool_start_s" % backend] = time.perf_counter() - start
            out["%s_message_round_trip_ms" % backend] = 1e3 * _round_trips(pool, calls)
            out["%s_message_in_batch_ms" % backend] = 1e3 * _batched(pool, calls)
        with start_pool(burst, [()], backend=backend, name="burst") as pool:   # the worker -> parent direction
            pool.send(0, 1)
            while pool.receive(timeout=5) is None:
                pass
            start = time.perf_counter()
            pool.send(0, 10 * calls)
            for _ in range(10 * calls):
                while pool.receive(timeout=5) is None:
                    pass
            out["%s_result_in_burst_ms" % backend] = 1e3 * (time.perf_counter() - start) / (10 * calls)
    return out


def search(task: str, agent: str, backend: str, workers: int, limit: float) -> dict:
    # alphadev: 100 simulations per move, so that even a short run sends games back
    params = {"from_scratch": True, "latency": "model", "simulations": 100} if agent == "alphadev" else {}
    with using(backend):
        result = superopt.search(task, agent, workers=workers, time_limit=limit, seed=0, params=params)
    return {"task": task, "agent": agent, "backend": backend, "workers": workers, "length": result.length,
            "explored": result.explored, "elapsed_s": round(result.elapsed, 2),
            "programs_per_s": round(result.explored / max(result.elapsed, 1e-9), 1),
            "games": result.extras.get("games"), "lost": result.extras.get("lost")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=float, default=30.0, help="seconds per search")
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--only", default="overhead,enum,alphadev")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    parts = args.only.split(",")
    start = time.perf_counter()
    ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, logging_level="error",
             object_store_memory=256 << 20)
    report = {"ray_init_s": round(time.perf_counter() - start, 2), "cpus": os.cpu_count(),
              "load_average": os.getloadavg()}
    print(json.dumps(report), flush=True)
    try:
        if "overhead" in parts:
            report["overhead"] = {k: round(v, 3) for k, v in overhead(args.calls).items()}
            print(json.dumps(report["overhead"]), flush=True)
        rows = []
        for agent in ("enum", "alphadev"):
            if agent not in parts:
                continue
            for workers in (1, 2):
                for backend in ("local", "ray"):
                    rows.append(search("sort4", agent, backend, workers, args.limit))
                    print(json.dumps(rows[-1]), flush=True)
        report["searches"] = rows
        by = {(r["agent"], r["workers"], r["backend"]): r["programs_per_s"] for r in rows}
        report["ray_over_local"] = {"%s x%d" % (a, w): round(by[(a, w, "ray")] / by[(a, w, "local")], 3)
                                    for (a, w, b) in by if b == "local" and (a, w, "ray") in by and by[(a, w, b)]}
        print(json.dumps(report["ray_over_local"]), flush=True)
    finally:
        ray.shutdown()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
