"""Peers for `tessera bench training-set`: the same point-in-time join by DuckDB and by Feast.

    python3 benchmarks/training_set_peers.py duckdb DATA_DIR OUT.parquet [--threads N]
    python3 benchmarks/training_set_peers.py feast  DATA_DIR OUT.parquet
    python3 benchmarks/training_set_peers.py feast-postgres DATA_DIR OUT.parquet --postgres HOST:PORT:PASSWORD
        (Feast's PostgreSQL offline store over table driver_stats of database postgres; feast[postgres])
    python3 benchmarks/training_set_peers.py feast-spark DATA_DIR OUT.parquet
        (Feast's Spark offline store on local[2] over driver_stats.parquet; feast[spark]; Spark's start timed)

DATA_DIR holds driver_stats.parquet and entity_df.parquet (benchmarks/workload.py).
Each run is its own process, so the printed peak RSS is the peer's alone. Prints one
JSON object: {"peer", "seconds", "peak_rss_bytes", "rows"}; seconds cover reading the
inputs, the join and writing the output Parquet file.
"""
import json
import os
import resource
import sys
import time

TTL_SECONDS = 2 * 86400


def duckdb_join(data, out, threads, ttl_seconds=TTL_SECONDS):
    import duckdb
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads={int(threads)}")
    stats = os.path.join(data, "driver_stats.parquet")
    entities = os.path.join(data, "entity_df.parquet")
    # Feast's rules: the greatest (event_timestamp, created) not after the entity time,
    # as an ASOF join on a struct; null features when older than t - ttl; input order kept.
    con.execute(f"""
        COPY (
            SELECT e.driver_id, e.event_timestamp, e.label,
                   CASE WHEN s.k.ts >= e.event_timestamp - INTERVAL {int(ttl_seconds)} SECOND THEN s.conv_rate END AS conv_rate,
                   CASE WHEN s.k.ts >= e.event_timestamp - INTERVAL {int(ttl_seconds)} SECOND THEN s.acc_rate END AS acc_rate,
                   CASE WHEN s.k.ts >= e.event_timestamp - INTERVAL {int(ttl_seconds)} SECOND THEN s.avg_daily_trips END AS avg_daily_trips
            FROM (SELECT *, row_number() OVER () AS __rn,
                         {{'ts': event_timestamp, 'c': TIMESTAMPTZ '9999-12-31 00:00:00+00'}} AS k
                  FROM read_parquet('{entities}')) e
            ASOF LEFT JOIN (SELECT driver_id, {{'ts': event_timestamp, 'c': created}} AS k,
                                   conv_rate, acc_rate, avg_daily_trips
                            FROM read_parquet('{stats}')) s
              ON e.driver_id = s.driver_id AND e.k >= s.k
            ORDER BY e.__rn
        ) TO '{out}' (FORMAT parquet)
    """)
    return con.sql(f"SELECT count(*) FROM read_parquet('{out}')").fetchall()[0][0]


FEAST_REPO = """project: bench
registry: {registry}
provider: local
online_store:
  type: sqlite
  path: {online}
offline_store:
  type: duckdb
entity_key_serialization_version: 3
"""

FEAST_DEFS = """
from datetime import timedelta
from feast import Entity, FeatureView, Field, FileSource
from feast.types import Float32, Int32
from feast.value_type import ValueType

driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)
driver_stats = FileSource(path={stats!r}, timestamp_field="event_timestamp",
                          created_timestamp_column="created")
driver_hourly_stats = FeatureView(
    name="driver_hourly_stats", entities=[driver], ttl=timedelta(days=2),
    schema=[Field(name="conv_rate", dtype=Float32), Field(name="acc_rate", dtype=Float32),
            Field(name="avg_daily_trips", dtype=Int32)],
    source=driver_stats, online=True)
"""


def feast_repo(data, workdir, online=None):
    """A Feast repository over the same files, applied once (not timed).

    online: the feature_store.yaml online_store section (default: SQLite in workdir)."""
    os.makedirs(workdir, exist_ok=True)
    text = FEAST_REPO.format(registry=os.path.join(workdir, "registry.db"),
                             online=os.path.join(workdir, "online.db"))
    if online:
        start = text.index("online_store:")
        end = text.index("offline_store:")
        text = text[:start] + online + text[end:]
    with open(os.path.join(workdir, "feature_store.yaml"), "w") as f:
        f.write(text)
    with open(os.path.join(workdir, "definitions.py"), "w") as f:
        f.write(FEAST_DEFS.format(stats=os.path.abspath(os.path.join(data, "driver_stats.parquet"))))
    import subprocess
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "feast"), "apply"], cwd=workdir, check=True,
                   stdout=subprocess.DEVNULL)
    return workdir


def feast_historical(workdir, data, out):
    """Times get_historical_features of the three features for the entity file, in repo workdir."""
    import pandas as pd
    from feast import FeatureStore
    store = FeatureStore(repo_path=workdir)
    start = time.perf_counter()
    entity_df = pd.read_parquet(os.path.join(data, "entity_df.parquet"))
    df = store.get_historical_features(
        entity_df=entity_df,
        features=["driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate",
                  "driver_hourly_stats:avg_daily_trips"]).to_df()
    df.to_parquet(out)
    return len(df), time.perf_counter() - start


def feast_join(data, out):
    workdir = feast_repo(data, os.path.join(os.path.dirname(os.path.abspath(out)), "feast_repo"))
    return feast_historical(workdir, data, out)


FEAST_POSTGRES_OFFLINE = """offline_store:
  type: postgres
  host: {host}
  port: {port}
  database: postgres
  db_schema: public
  user: postgres
  password: {password}
  sslmode: disable
"""

FEAST_POSTGRES_DEFS = """
from datetime import timedelta
from feast import Entity, FeatureView, Field
from feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source import PostgreSQLSource
from feast.types import Float32, Int32
from feast.value_type import ValueType

driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)
driver_stats = PostgreSQLSource(name="driver_stats", table="driver_stats", timestamp_field="event_timestamp",
                                created_timestamp_column="created")
driver_hourly_stats = FeatureView(
    name="driver_hourly_stats", entities=[driver], ttl=timedelta(days=2),
    schema=[Field(name="conv_rate", dtype=Float32), Field(name="acc_rate", dtype=Float32),
            Field(name="avg_daily_trips", dtype=Int32)],
    source=driver_stats, online=True)
"""


def feast_peer_repo(out, name, offline, definitions):
    """A Feast repository beside `out` with the SQLite online store, `offline` as its
    offline_store section and `definitions` as its Python definitions, applied (not timed)."""
    import subprocess
    workdir = os.path.join(os.path.dirname(os.path.abspath(out)), name)
    os.makedirs(workdir, exist_ok=True)
    text = FEAST_REPO.format(registry=os.path.join(workdir, "registry.db"), online=os.path.join(workdir, "online.db"))
    text = text[:text.index("offline_store:")] + offline + "entity_key_serialization_version: 3\n"
    with open(os.path.join(workdir, "feature_store.yaml"), "w") as f:
        f.write(text)
    with open(os.path.join(workdir, "definitions.py"), "w") as f:
        f.write(definitions)
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "feast"), "apply"], cwd=workdir, check=True,
                   stdout=subprocess.DEVNULL)
    return workdir


def feast_postgres_join(data, out, server):
    """Feast's PostgreSQL offline store: the entity rows uploaded, the join run by the server."""
    host, port, password = server.split(":", 2)
    offline = FEAST_POSTGRES_OFFLINE.format(host=host, port=port, password=password)
    return feast_historical(feast_peer_repo(out, "feast_pg_repo", offline, FEAST_POSTGRES_DEFS), data, out)


FEAST_SPARK_OFFLINE = """offline_store:
  type: spark
  spark_conf:
    spark.master: "local[2]"
    spark.ui.enabled: "false"
    spark.sql.session.timeZone: "UTC"
    spark.sql.shuffle.partitions: "8"
"""

FEAST_SPARK_DEFS = """
from datetime import timedelta
from feast import Entity, FeatureView, Field
from feast.infra.offline_stores.contrib.spark_offline_store.spark_source import SparkSource
from feast.types import Float32, Int32
from feast.value_type import ValueType

driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)
driver_stats = SparkSource(name="driver_stats", path={stats!r}, file_format="parquet",
                           timestamp_field="event_timestamp", created_timestamp_column="created")
driver_hourly_stats = FeatureView(
    name="driver_hourly_stats", entities=[driver], ttl=timedelta(days=2),
    schema=[Field(name="conv_rate", dtype=Float32), Field(name="acc_rate", dtype=Float32),
            Field(name="avg_daily_trips", dtype=Int32)],
    source=driver_stats, online=True)
"""


def feast_spark_join(data, out):
    """Feast's Spark offline store on local[2]; the timing includes its Spark session's start,
    as Tessera's does."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    definitions = FEAST_SPARK_DEFS.format(stats=os.path.abspath(os.path.join(data, "driver_stats.parquet")))
    return feast_historical(feast_peer_repo(out, "feast_spark_repo", FEAST_SPARK_OFFLINE, definitions), data, out)


def main():
    peer, data, out = sys.argv[1], sys.argv[2], sys.argv[3]
    threads = None
    if "--threads" in sys.argv:
        threads = sys.argv[sys.argv.index("--threads") + 1]
    ttl = TTL_SECONDS
    if "--ttl-seconds" in sys.argv:
        ttl = int(sys.argv[sys.argv.index("--ttl-seconds") + 1])
    start = time.perf_counter()
    if peer == "duckdb":
        rows = duckdb_join(data, out, threads, ttl)
        seconds = time.perf_counter() - start
    elif peer == "feast":
        rows, seconds = feast_join(data, out)
    elif peer == "feast-spark":
        rows, seconds = feast_spark_join(data, out)
    elif peer == "feast-postgres":
        rows, seconds = feast_postgres_join(data, out, sys.argv[sys.argv.index("--postgres") + 1])
    else:
        raise SystemExit(f"unknown peer {peer}")
    print(json.dumps({"peer": peer, "seconds": seconds,
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                      "rows": rows}))


if __name__ == "__main__":
    main()
