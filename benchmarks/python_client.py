"""The Python client's speed, with its peers in the same run.

    python benchmarks/python_client.py DATA_DIR [--tessera BIN] [--runs 3] [--lookups 5000]
                                       [--feast-python PYTHON]

DATA_DIR is a workload folder of `tessera bench training-set --size M` (driver_stats.parquet,
entity_df.parquet and its applied repo/). Measures, best of --runs:
- `tessera training-set` (the CLI, its own process) over entity_df.parquet;
- `tessera.FeatureStore(repo_path=...).get_historical_features(entity_df=<DataFrame>, ...).to_df()`
  (local mode: the DataFrame goes to Parquet, the CLI runs, the result comes back as a
  DataFrame with nullable dtypes);
- Feast 0.67's get_historical_features(...).to_df() (benchmarks/training_set_peers.py feast),
  when --feast-python is given;
- the same in remote mode, against a `tessera serve` of the repository (the DataFrame goes
  as a Parquet body to POST /get-historical-features, the training set comes back as
  an Arrow IPC stream);
- with --feast-python, Feast 0.67's in-process get_online_features of 1 entity
  (benchmarks/online_feast_bench.py, its SQLite online store), and its remote client
  (online_store type: remote) against `feast serve` of the same repository
  (benchmarks/online_feast_remote.py);
- get_online_features of 1 entity in remote mode over one kept-alive connection, against a
  `tessera serve` of the repository (materialized first): median and p99.
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time

import pandas as pd

FEATURES = ["driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate", "driver_hourly_stats:avg_daily_trips"]


def best(runs, fn):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--tessera", default=os.environ.get("TESSERA_BIN", ".build/release/tessera"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lookups", type=int, default=5000)
    parser.add_argument("--feast-python")
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python", "src"))
    import tessera

    repo = os.path.join(args.data, "repo")
    entities = os.path.join(args.data, "entity_df.parquet")
    out = os.path.join(tempfile.mkdtemp(prefix="tessera-py-bench-"), "cli.parquet")
    cli = best(args.runs, lambda: subprocess.run(
        [args.tessera, "training-set", "--repo", repo, "--entities", entities, "--features", ",".join(FEATURES),
         "--output", out], check=True, capture_output=True))
    entity_df = pd.read_parquet(entities)
    store = tessera.FeatureStore(repo_path=repo, binary=args.tessera)
    rows = 0

    def local():
        nonlocal rows
        rows = len(store.get_historical_features(entity_df=entity_df, features=FEATURES).to_df())

    python_local = best(args.runs, local)
    feast = None
    feast_online = None
    if args.feast_python:
        peer = subprocess.run(
            [args.feast_python, os.path.join(os.path.dirname(__file__), "training_set_peers.py"), "feast", args.data,
             out + ".feast.parquet"], check=True, capture_output=True, text=True)
        feast = json.loads(peer.stdout.strip().splitlines()[-1])["seconds"]
        # Feast's own in-process lookups (its SQLite online store, 100,000 drivers of the S
        # workload: a lookup's cost does not grow with the store).
        feast_repo = tempfile.mkdtemp(prefix="tessera-py-feast-")
        peer = subprocess.run(
            [args.feast_python, os.path.join(os.path.dirname(__file__), "online_feast_bench.py"),
             feast_repo, "1000000", "100000"],
            check=True, capture_output=True, text=True)
        feast_online = json.loads(peer.stdout.strip().splitlines()[-1])
        # Feast's own remote client (online_store type: remote) against `feast serve` of that repository.
        peer = subprocess.run(
            [args.feast_python, os.path.join(os.path.dirname(__file__), "online_feast_remote.py"),
             feast_repo, "100000", str(min(args.lookups, 2000))],
            check=True, capture_output=True, text=True)
        feast_online.update(json.loads(peer.stdout.strip().splitlines()[-1]))

    subprocess.run([args.tessera, "materialize", "2000-01-01T00:00:00Z", "now", "--repo", repo], check=True,
                   capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([args.tessera, "serve", "--repo", repo, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        tessera._binary.wait_until_healthy(url, server)
        remote = tessera.FeatureStore(url=url)
        drivers = entity_df["driver_id"].unique().tolist()
        rng = random.Random(7)
        for _ in range(500):
            remote.get_online_features(features=FEATURES, entity_rows=[{"driver_id": rng.choice(drivers)}])
        latencies = []
        for _ in range(args.lookups):
            row = [{"driver_id": int(rng.choice(drivers))}]
            start = time.perf_counter()
            remote.get_online_features(features=FEATURES, entity_rows=row).to_dict()
            latencies.append((time.perf_counter() - start) * 1e6)
        latencies.sort()
        median = latencies[len(latencies) // 2]
        p99 = latencies[int(len(latencies) * 0.99)]
        # After the lookups: a server that just built training sets of a million rows has
        # a heap to give back, which the lookups would otherwise measure.
        python_remote = best(args.runs, lambda: remote.get_historical_features(entity_df=entity_df, features=FEATURES).to_df())
        remote.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    store.close()

    print(f"| task | Tessera | reference | ratio | target |")
    print(f"| --- | ---: | --- | ---: | --- |")
    print(f"| get_historical_features(...).to_df(), local, {rows} rows | {python_local:.3f} s | CLI {cli:.3f} s | {python_local / cli:.2f}× the CLI | ≤ 1.2× |")
    print(f"| get_historical_features(...).to_df(), remote (loopback) | {python_remote:.3f} s | CLI {cli:.3f} s | {python_remote / cli:.2f}× the CLI | ≤ 1.5× |")
    if feast is not None:
        print(f"| get_historical_features(...).to_df(), local | {python_local:.3f} s | Feast 0.67 {feast:.3f} s | {feast / python_local:.2f}× faster | ≥ 2.5× |")
        print(f"| get_historical_features(...).to_df(), remote | {python_remote:.3f} s | Feast 0.67 {feast:.3f} s | {feast / python_remote:.2f}× faster | ≥ 2.5× |")
    if feast_online is not None:
        reference = f"Feast 0.67 in process, median {feast_online['lookup_1_median_us']:.0f} µs, p99 {feast_online['lookup_1_p99_us']:.0f} µs"
        speedup = feast_online["lookup_1_median_us"] / median
        ratio = f"{speedup:.2f}× faster" if speedup >= 1 else f"{1 / speedup:.2f}× slower (Feast reads in process, no network)"
    else:
        reference, ratio = "", ""
    print(f"| get_online_features, 1 entity, remote, kept-alive | median {median:.0f} µs, p99 {p99:.0f} µs | {reference} | {ratio} | median ≤ 300 µs |")
    if feast_online is not None and "remote_1_median_us" in feast_online:
        remote_median = feast_online["remote_1_median_us"]
        print(f"| get_online_features, 1 entity, remote | median {median:.0f} µs, p99 {p99:.0f} µs | Feast 0.67 remote client (feast serve), median {remote_median:.0f} µs, p99 {feast_online['remote_1_p99_us']:.0f} µs | {remote_median / median:.2f}× faster | |")
    print(json.dumps({"cli_seconds": cli, "python_local_seconds": python_local, "python_remote_seconds": python_remote,
                      "feast_seconds": feast, "feast_online": feast_online,
                      "online_median_us": median, "online_p99_us": p99, "rows": rows}))


if __name__ == "__main__":
    main()
