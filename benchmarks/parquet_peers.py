"""Peer timings for `tessera bench parquet`: pyarrow and DuckDB on the same Parquet file.

Usage: python3 benchmarks/parquet_peers.py FILE [REPEAT]
Prints one JSON object: for each task the best wall time in seconds over REPEAT runs
and the peak RSS in bytes of a fresh process that ran it (each task runs in its own
subprocess, so one task's memory does not inflate another's).
"""
import json
import os
import resource
import subprocess
import sys
import time


def task(name, path, out_dir):
    import pyarrow.parquet as pq
    if name == "pyarrow_read_1thread":
        return lambda: pq.read_table(path, use_threads=False)
    if name == "pyarrow_read_threads":
        return lambda: pq.read_table(path)
    if name == "duckdb_select_arrow":
        import duckdb
        con = duckdb.connect()
        return lambda: con.sql(f"SELECT * FROM read_parquet('{path}')").to_arrow_table()
    if name == "duckdb_aggregate_scan":
        import duckdb
        con = duckdb.connect()
        q = (f"SELECT count(*), sum(driver_id), max(event_timestamp), max(created), sum(conv_rate), "
             f"sum(acc_rate), sum(avg_daily_trips) FROM read_parquet('{path}')")
        return lambda: con.sql(q).fetchall()
    if name == "pyarrow_write_snappy":
        table = pq.read_table(path)
        target = os.path.join(out_dir, "pyarrow_write.parquet")
        return lambda: pq.write_table(table, target, compression="snappy")
    raise SystemExit("unknown task " + name)


def measure(name, path, repeat, out_dir):
    body = task(name, path, out_dir)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        body()
        best = min(best, time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"seconds": best, "peak_rss": peak}


TASKS = ["pyarrow_read_1thread", "pyarrow_read_threads", "duckdb_select_arrow", "duckdb_aggregate_scan",
         "pyarrow_write_snappy"]


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "--one":
        name, path, repeat, out_dir = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
        print(json.dumps(measure(name, path, repeat, out_dir)))
        return
    path = sys.argv[1]
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    out_dir = os.path.dirname(os.path.abspath(path))
    results = {}
    for name in TASKS:
        try:
            output = subprocess.run([sys.executable, __file__, "--one", name, path, str(repeat), out_dir],
                                    check=True, capture_output=True, text=True).stdout
            results[name] = json.loads(output)
        except Exception as error:  # a missing peer (duckdb not installed) must not hide the others
            results[name] = {"error": str(error)}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
