"""DuckDB evaluating one expression over a Parquet file's rows, for `tessera bench expressions`.

Usage: expression_peers.py DATA.parquet EXPRESSION RUNS
Loads the file into memory, then times `CREATE TABLE r AS SELECT EXPRESSION AS v FROM t` on
one thread (the result materialized, as Tessera materializes its column) RUNS times and
prints JSON: the best seconds, and the row and null counts of the result (to check both agree).
"""
import json
import sys
import time

import duckdb


def main():
    data, expression, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{data}')")
    best = None
    for _ in range(runs):
        start = time.perf_counter()
        con.execute(f"CREATE OR REPLACE TABLE r AS SELECT {expression} AS v FROM t")
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    rows, nulls = con.execute("SELECT count(*), count(*) - count(v) FROM r").fetchone()
    print(json.dumps({"seconds": best, "rows": rows, "nulls": nulls}))


if __name__ == "__main__":
    main()
