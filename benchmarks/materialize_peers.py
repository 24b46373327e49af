"""Peer for `tessera bench materialize`: Feast 0.67 materializing the same source into its SQLite online store,
or (--redis PORT) into its Redis online store (feast[redis]), or (--postgres PORT PASSWORD) into its
PostgreSQL online store (feast[postgres]), on a server the benchmark started.

    python3 benchmarks/materialize_peers.py feast DATA_DIR WORK_DIR [--redis PORT | --postgres PORT PASSWORD]

DATA_DIR holds driver_stats.parquet (benchmarks/workload.py). Runs in its own process and
prints one JSON object: {"peer", "seconds", "peak_rss_bytes", "rows", "entities"}. The
interval is the whole workload ([2026-01-01, 2026-01-31]); `feast apply` is not timed.
"""
import json
import os
import resource
import sys
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from training_set_peers import feast_repo  # noqa: E402


def postgres_online_store(port, password):
    """Feast's PostgreSQL online store section for the server on 127.0.0.1:PORT."""
    return ("online_store:\n  type: postgres\n  host: 127.0.0.1\n  port: " + str(port) + "\n"
            "  database: postgres\n  db_schema: public\n  user: postgres\n  password: " + password + "\n"
            "  sslmode: disable\n")


def main():
    peer, data, work = sys.argv[1], sys.argv[2], sys.argv[3]
    if peer != "feast":
        raise SystemExit(f"unknown peer {peer}")
    from feast import FeatureStore
    redis_port = sys.argv[sys.argv.index("--redis") + 1] if "--redis" in sys.argv else None
    postgres = sys.argv[sys.argv.index("--postgres") + 1:][:2] if "--postgres" in sys.argv else None
    online = None
    if redis_port:
        online = f"online_store:\n  type: redis\n  connection_string: 127.0.0.1:{redis_port}\n"
    if postgres:
        online = postgres_online_store(*postgres)
    repo = feast_repo(data, os.path.join(work, "feast_repo"), online=online)
    store = FeatureStore(repo_path=repo)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    end = datetime(2026, 1, 31, tzinfo=timezone.utc)
    began = time.perf_counter()
    store.materialize(start_date=start, end_date=end, feature_views=["driver_hourly_stats"])
    seconds = time.perf_counter() - began
    if redis_port:
        import redis
        entities = redis.Redis(host="127.0.0.1", port=int(redis_port)).dbsize()
    elif postgres:
        import psycopg
        with psycopg.connect(host="127.0.0.1", port=int(postgres[0]), user="postgres", password=postgres[1],
                             dbname="postgres") as con:
            table = con.execute("SELECT table_name FROM information_schema.tables "
                                "WHERE table_name LIKE '%driver_hourly_stats'").fetchone()[0]
            entities = con.execute(f'SELECT count(DISTINCT entity_key) FROM "{table}"').fetchone()[0]
    else:
        import sqlite3
        con = sqlite3.connect(os.path.join(repo, "online.db"))
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        table = next(t for t in tables if t.endswith("driver_hourly_stats"))
        entities = con.execute(f"select count(distinct entity_key) from {table}").fetchone()[0]
    import pyarrow.parquet as pq
    rows = pq.ParquetFile(os.path.join(data, "driver_stats.parquet")).metadata.num_rows
    print(json.dumps({"peer": "feast", "seconds": seconds,
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                      "rows": rows, "entities": entities}))


if __name__ == "__main__":
    main()
