"""CSV peers for `tessera bench csv`: DuckDB's read_csv / COPY TO and pyarrow.csv on one file.

Usage: python3 benchmarks/csv_peers.py CSV_PATH OUT_DIR [REPEATS]
The file is driver_stats as Tessera writes it (header, ISO 8601 timestamps).
Prints one JSON object of timings in seconds (best of REPEATS, default 1) and row counts.
"""
import json
import os
import resource
import sys
import time

import duckdb
import pyarrow as pa
import pyarrow.csv as pcsv

COLUMNS = ("{'driver_id': 'BIGINT', 'event_timestamp': 'TIMESTAMPTZ', 'created': 'TIMESTAMPTZ', "
           "'conv_rate': 'FLOAT', 'acc_rate': 'FLOAT', 'avg_daily_trips': 'INTEGER'}")


CPU = {}


def best(repeats, body, key=None):
    """Best wall-clock seconds of `repeats` runs; the CPU seconds of that run go to CPU[key]."""
    runs = []
    for _ in range(repeats):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        body()
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
        runs.append((wall, after.ru_utime - usage.ru_utime + after.ru_stime - usage.ru_stime))
    wall, cpu = min(runs)
    if key:
        CPU[key] = cpu
    return wall


def duckdb_figures(path, out_dir, threads, repeats):
    con = duckdb.connect()
    con.execute(f"SET threads={threads}")
    con.execute("SET TimeZone='UTC'")
    typed = f"CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv('{path}', header=true, columns={COLUMNS})"
    auto = f"CREATE OR REPLACE TABLE a AS SELECT * FROM read_csv('{path}')"
    figures = {
        "read_typed": best(repeats, lambda: con.execute(typed), "read_typed"),
        "read_auto": best(repeats, lambda: con.execute(auto), "read_auto"),
    }
    figures["rows"] = con.sql("SELECT count(*) FROM t").fetchall()[0][0]
    figures["auto_types"] = [str(t) for t in con.sql("SELECT * FROM a LIMIT 0").types]
    target = os.path.join(out_dir, f"duckdb_{threads}.csv")
    figures["write"] = best(repeats, lambda: con.execute(f"COPY t TO '{target}' (HEADER, DELIMITER ',')"), "write")
    figures["cpu"] = dict(CPU)
    os.remove(target)
    con.close()
    return figures


def pyarrow_figures(path, threads, repeats):
    schema = pa.schema([
        ("driver_id", pa.int64()), ("event_timestamp", pa.timestamp("us", tz="UTC")),
        ("created", pa.timestamp("us", tz="UTC")), ("conv_rate", pa.float32()), ("acc_rate", pa.float32()),
        ("avg_daily_trips", pa.int32()),
    ])
    read = pcsv.ReadOptions(use_threads=threads > 1, block_size=8 << 20)
    convert = pcsv.ConvertOptions(column_types=schema)
    wall = best(repeats, lambda: pcsv.read_csv(path, read_options=read, convert_options=convert), "read_typed")
    return {"read_typed": wall, "cpu": {"read_typed": CPU["read_typed"]}}


def main():
    path, out_dir = sys.argv[1], sys.argv[2]
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    pa.set_cpu_count(2)
    result = {
        "bytes": os.path.getsize(path),
        "duckdb_version": duckdb.__version__,
        "pyarrow_version": pa.__version__,
        "duckdb": {str(t): duckdb_figures(path, out_dir, t, repeats) for t in (1, 2)},
        "pyarrow": {str(t): pyarrow_figures(path, t, repeats) for t in (1, 2)},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
