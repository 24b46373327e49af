"""DuckDB's answers to expressions, for the expression oracle test.

Usage: expression_oracle.py DATA.parquet EXPRESSIONS.txt
Reads one DuckDB SQL expression per line, evaluates each over the Parquet file's rows and
prints one line per expression: the values, tab-separated, each as `null`, `true`/`false`,
an integer, a float's repr, or `s:` and the string; or `error: …` when DuckDB refuses it.
"""
import sys

import duckdb


def show(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return "s:" + str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def main():
    data, expressions = sys.argv[1], sys.argv[2]
    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.execute("SET TimeZone = 'UTC'")  # timestamps are UTC instants, as Tessera's are
    con.execute(f"CREATE TABLE t AS SELECT row_number() OVER () AS rid, * FROM read_parquet('{data}')")
    with open(expressions) as f:
        for line in f:
            sql = line.rstrip("\n")
            try:
                rows = con.execute(f"SELECT {sql} FROM t ORDER BY rid").fetchall()
                print("\t".join(show(r[0]) for r in rows))
            except Exception as e:  # noqa: BLE001 - reported to the test
                print("error: " + str(e).replace("\n", " ")[:300])


if __name__ == "__main__":
    main()
