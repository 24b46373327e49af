"""The Feast peer for `tessera bench aggregations`: the trips workload's window aggregations
asked of Feast 0.67's get_historical_features.

    python3 benchmarks/aggregation_feast.py DATA_DIR OUT.parquet [--offline-store duckdb|file]

DATA_DIR holds trips.parquet and trip_labels.parquet (benchmarks/workload.py SIZE DIR --trips).
The repository (local provider, DuckDB offline store by default) declares the closest thing
Feast has: a StreamFeatureView over a push source backed by trips.parquet, whose `aggregations`
are the features of driver_trip_aggs (benchmarks/aggregation_peers.py), exact count_distinct
standing in for the approximate one. (A BatchFeatureView would do no better: its aggregations
are not even kept in the registry, which stores it as a plain FeatureView.) Feast keeps the
stream view's specs in the registry, but historical retrieval goes straight to the
offline store's point-in-time join, which never reads them: it looks for a source column
named after each feature. So each feature is probed alone (untimed) to record why it fails,
and only the features that work, if any, are retrieved for every label row and timed
(retrieval, to_df and writing OUT). Prints one JSON object: {"peer", "seconds",
"peak_rss_bytes", "rows", "supported", "unsupported", "notes"}; exits 0 either way.
"""
import json
import os
import resource
import subprocess
import sys
import time
import warnings

WINDOWS = {"1h": 3600, "1d": 86400, "7d": 7 * 86400}

FEAST_REPO = """project: aggbench
registry: {registry}
provider: local
online_store:
  type: sqlite
  path: {online}
offline_store:
  type: {offline}
entity_key_serialization_version: 3
"""

FEAST_DEFS = """
from datetime import timedelta
from feast import Entity, Field, FileSource, PushSource, StreamFeatureView
from feast.aggregation import Aggregation
from feast.types import Float64, Int64
from feast.value_type import ValueType

driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)
trips = FileSource(path={trips!r}, timestamp_field="event_timestamp")
AGGS = {aggs!r}
driver_trip_aggs = StreamFeatureView(
    name="driver_trip_aggs", entities=[driver], ttl=timedelta(days=7), timestamp_field="event_timestamp",
    source=PushSource(name="trips_push", batch_source=trips),
    schema=[Field(name=n, dtype=Int64 if f in ("count", "count_distinct") else Float64)
            for n, (c, f, s) in AGGS.items()],
    aggregations=[Aggregation(column=c, function=f, time_window=timedelta(seconds=s), name=n)
                  for n, (c, f, s) in AGGS.items()],
    online=False)
"""

# Feast's Aggregation functions are sum, max, min, count, mean, count_distinct (its
# docstring); nothing estimates a quantile, so the p90 feature cannot even be declared.
UNDECLARABLE = {"fare_p90_7d": "no percentile/quantile function among Feast's Aggregation functions"}


def declared():
    """name -> (column, Feast function, window seconds), named as aggregation_peers.py does."""
    aggs = {}
    for name, seconds in WINDOWS.items():
        aggs[f"fare_sum_{name}"] = ("fare", "sum", seconds)
        aggs[f"fare_mean_{name}"] = ("fare", "mean", seconds)
        aggs[f"fare_max_{name}"] = ("fare", "max", seconds)
        aggs[f"count_{name}"] = ("trip_id", "count", seconds)  # trip_id is never null: a row count
    aggs["rider_id_approx_count_distinct_7d"] = ("rider_id", "count_distinct", WINDOWS["7d"])
    return aggs


def feast_repo(data, workdir, offline, aggs):
    """A Feast repository over the trips file, applied once (not timed)."""
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "feature_store.yaml"), "w") as f:
        f.write(FEAST_REPO.format(registry=os.path.join(workdir, "registry.db"),
                                  online=os.path.join(workdir, "online.db"), offline=offline))
    with open(os.path.join(workdir, "definitions.py"), "w") as f:
        f.write(FEAST_DEFS.format(trips=os.path.abspath(os.path.join(data, "trips.parquet")), aggs=aggs))
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "feast"), "apply"], cwd=workdir, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return workdir


def reason(error):
    # Ibis and pandas append the source's whole column list; the first sentence says it.
    text = str(error).splitlines()[0].split(". Existing columns")[0]
    return f"{type(error).__name__}: {text[:160]}"


def main():
    data, out = sys.argv[1], sys.argv[2]
    offline = sys.argv[sys.argv.index("--offline-store") + 1] if "--offline-store" in sys.argv else "duckdb"
    import pandas as pd
    from feast import FeatureStore
    # After the import: Feast's modules install their own filters, which would win, and its
    # "experimental" and DuckDB's deprecation warnings would repeat for every probe.
    warnings.filterwarnings("ignore")
    aggs = declared()
    workdir = feast_repo(data, os.path.join(os.path.dirname(os.path.abspath(out)), "feast_agg_repo"), offline, aggs)
    store = FeatureStore(repo_path=workdir)
    labels = pd.read_parquet(os.path.join(data, "trip_labels.parquet"))

    # One feature at a time: a single missing column fails the whole request.
    supported, unsupported = [], dict(UNDECLARABLE)
    for name in aggs:
        try:
            store.get_historical_features(entity_df=labels.head(100),
                                          features=[f"driver_trip_aggs:{name}"]).to_df()
            supported.append(name)
        except Exception as e:
            unsupported[name] = reason(e)

    seconds, rows = 0.0, 0
    if supported:
        start = time.perf_counter()
        df = store.get_historical_features(
            entity_df=labels, features=[f"driver_trip_aggs:{n}" for n in supported]).to_df()
        df.to_parquet(out)
        seconds, rows = time.perf_counter() - start, len(df)

    notes = (f"Feast 0.67, local provider, {offline} offline store. A StreamFeatureView's Aggregation specs "
             "are registered (a BatchFeatureView's are dropped by feast apply) but get_historical_features "
             "ignores them: the passthrough "
             "provider calls the offline store's point-in-time join (latest row with ts <= t within ttl), "
             "which selects a source column named after each feature. Window aggregations run only in "
             "compute engines (local engine: no time_window; Spark/Ray: tumbling windows or hop-aligned "
             "tiles, default hop 5 min, for materialization), and on-demand views aggregate online only, "
             "without windows: never per label row in a training set."
             if not supported else f"Feast 0.67, local provider, {offline} offline store.")
    print(json.dumps({"peer": "feast", "seconds": seconds,
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                      "rows": rows, "supported": supported, "unsupported": unsupported, "notes": notes}))


if __name__ == "__main__":
    main()
