"""The Feast side of `tessera bench online` (Feast 0.67, local provider, SQLite online store).

Usage: python benchmarks/online_feast_bench.py REPO_DIR ROWS DRIVERS [--postgres PORT PASSWORD]
With --postgres, Feast's PostgreSQL online store (feast[postgres]) on 127.0.0.1:PORT instead of SQLite.
Makes a Feast repository in REPO_DIR with WORKLOAD.md's definitions, writes the newest row of
drivers [0, DRIVERS) of the workload of ROWS driver_stats rows (the same values Tessera
loads, from benchmarks/workload.py) into Feast's online store, times in-process
`get_online_features` for 1 and 100 entities, and prints one JSON object. The caller then
runs `feast serve` in REPO_DIR.
"""
import json
import os
import random
import statistics
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
from online_feast_repo import make_repo  # noqa: E402
from workload import driver_stats  # noqa: E402


def newest_rows(rows, drivers):
    cols = driver_stats(rows)
    df = pd.DataFrame(cols)
    df = df[df.driver_id < drivers]
    # Newest per driver by (event, created), a later row winning ties, as Tessera's store keeps.
    df = df.sort_values(["driver_id", "event_timestamp", "created"], kind="stable").groupby("driver_id").tail(1)
    for name in ("event_timestamp", "created"):
        df[name] = pd.to_datetime(df[name], unit="us", utc=True)
    return df.reset_index(drop=True)


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def repository(repo, rows, drivers, online=None):
    """The Feast repository in REPO with the newest rows as its batch source: (store, rows)."""
    df = newest_rows(rows, drivers)
    stats_path = os.path.join(repo, "data", "driver_stats.parquet")
    os.makedirs(os.path.dirname(stats_path), exist_ok=True)
    df.to_parquet(stats_path)
    return make_repo(repo, "bench", stats_path, online=online), df


def main():
    repo, rows, drivers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    online = None
    if "--postgres" in sys.argv:
        from materialize_peers import postgres_online_store
        port, password = sys.argv[sys.argv.index("--postgres") + 1:][:2]
        online = postgres_online_store(port, password)
    store, df = repository(repo, rows, drivers, online=online)
    start = time.perf_counter()
    store.write_to_online_store("driver_hourly_stats", df)
    write_seconds = time.perf_counter() - start
    features = ["driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate", "driver_hourly_stats:avg_daily_trips"]
    rng = random.Random(7)
    out = {"rows_written": int(len(df)), "write_seconds": write_seconds}
    for entities, iterations in ((1, 3000), (100, 300)):
        times = []
        for i in range(iterations + 100):
            ids = [rng.randrange(drivers) for _ in range(entities)]
            t0 = time.perf_counter()
            store.get_online_features(features=features, entity_rows=[{"driver_id": d} for d in ids]).to_dict()
            if i >= 100:
                times.append((time.perf_counter() - t0) * 1e6)
        out[f"lookup_{entities}_median_us"] = statistics.median(times)
        out[f"lookup_{entities}_p99_us"] = percentile(times, 0.99)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
