"""Peers for `tessera bench aggregations`: the trips workload's window aggregations by DuckDB.

    python3 benchmarks/aggregation_peers.py duckdb DATA_DIR OUT.parquet [--threads N] [--oracle]
        [--formulation range-join|window]

DATA_DIR holds trips.parquet and trip_labels.parquet (benchmarks/workload.py SIZE DIR --trips).
The 14 features of driver_trip_aggs for every label row, in label order, with the window
rule of docs/semantics.md: rows of the same driver with t - W <= event_timestamp < t.

  range-join  one join of labels to the trips of the widest window, grouped per label row,
              one FILTER per window (fastest here, memory grows with the join).
  window      labels unioned with trips, RANGE frames ending before the label
              (slower, bounded memory).

Without --oracle the sketches are DuckDB's own (approx_count_distinct, quantile_disc), as a
user would write them (an empty window's distinct count is null, as in Tessera). With --oracle they are exact: count(DISTINCT) and the value of rank
floor(q * (n - 1)) of the sorted window, which Tessera's sketches must approach within their
documented errors. Prints one JSON object: {"peer", "seconds", "peak_rss_bytes", "rows"}.
"""
import json
import os
import resource
import sys
import time

WINDOWS = {"1h": 3600, "1d": 86400, "7d": 7 * 86400}


def features(oracle, frame=None):
    """The select list; `frame` is a FILTER per window (range join) or None (window form)."""
    out = []
    for name, seconds in WINDOWS.items():
        f = frame(seconds)
        out += [
            f"sum(t.fare) {f} AS fare_sum_{name}",
            f"avg(t.fare) {f} AS fare_mean_{name}",
            f"max(t.fare) {f} AS fare_max_{name}",
            f"count(t.event_timestamp) {f} AS count_{name}",
        ]
    f = frame(WINDOWS["7d"])
    if oracle:
        out.append(f"nullif(count(DISTINCT t.rider_id) {f}, 0) AS rider_id_approx_count_distinct_7d")
        out.append(
            f"list_sort(list(t.fare) {f})[CAST(floor(0.9 * (count(t.fare) {f} - 1)) AS BIGINT) + 1] AS fare_p90_7d")
    else:
        out.append(f"nullif(approx_count_distinct(t.rider_id) {f}, 0) AS rider_id_approx_count_distinct_7d")
        out.append(f"quantile_disc(t.fare, 0.9) {f} AS fare_p90_7d")
    return out


def range_join(con, trips, labels, out, oracle):
    select = ",\n               ".join(features(
        oracle, lambda s: f"FILTER (WHERE t.event_timestamp >= l.event_timestamp - INTERVAL {s} SECOND)"))
    con.execute(f"""
        COPY (
            SELECT any_value(l.driver_id) AS driver_id, any_value(l.event_timestamp) AS event_timestamp,
                   any_value(l.label) AS label,
               {select}
            FROM (SELECT row_number() OVER () AS rn, * FROM read_parquet('{labels}')) l
            LEFT JOIN read_parquet('{trips}') t
              ON t.driver_id = l.driver_id AND t.event_timestamp < l.event_timestamp
             AND t.event_timestamp >= l.event_timestamp - INTERVAL {WINDOWS['7d']} SECOND
            GROUP BY l.rn ORDER BY l.rn
        ) TO '{out}' (FORMAT parquet)
    """)


def window_form(con, trips, labels, out, oracle):
    # Labels sort after trips of the same instant and the frame excludes the current row's
    # peers, so a label never sees a trip at its own time.
    cols = []
    for name, seconds in WINDOWS.items():
        w = (f"OVER (PARTITION BY driver_id ORDER BY event_timestamp RANGE BETWEEN INTERVAL {seconds} SECOND "
             f"PRECEDING AND CURRENT ROW EXCLUDE GROUP)")
        cols += [f"sum(fare) {w} AS fare_sum_{name}", f"avg(fare) {w} AS fare_mean_{name}",
                 f"max(fare) {w} AS fare_max_{name}", f"count(trip) {w} AS count_{name}"]
    w = (f"OVER (PARTITION BY driver_id ORDER BY event_timestamp RANGE BETWEEN INTERVAL {WINDOWS['7d']} SECOND "
         f"PRECEDING AND CURRENT ROW EXCLUDE GROUP)")
    if oracle:
        cols.append(f"nullif(count(DISTINCT rider_id) {w}, 0) AS rider_id_approx_count_distinct_7d")
        cols.append(f"list_sort(list(fare) {w})[CAST(floor(0.9 * (count(fare) {w} - 1)) AS BIGINT) + 1] AS fare_p90_7d")
    else:
        cols.append(f"nullif(approx_count_distinct(rider_id) {w}, 0) AS rider_id_approx_count_distinct_7d")
        cols.append(f"quantile_disc(fare, 0.9) {w} AS fare_p90_7d")
    select = ",\n                   ".join(cols)
    names = [c.rsplit(" AS ", 1)[1] for c in cols]
    con.execute(f"""
        COPY (
            SELECT driver_id, event_timestamp, label, {", ".join(names)} FROM (
                SELECT *, {select} FROM (
                    SELECT driver_id, event_timestamp, fare, rider_id, 1 AS trip, NULL::BIGINT AS label,
                           NULL::BIGINT AS rn FROM read_parquet('{trips}')
                    UNION ALL
                    SELECT driver_id, event_timestamp, NULL, NULL, NULL, label, row_number() OVER ()
                    FROM read_parquet('{labels}'))
            ) WHERE rn IS NOT NULL ORDER BY rn
        ) TO '{out}' (FORMAT parquet)
    """)


def main():
    peer, data, out = sys.argv[1], sys.argv[2], sys.argv[3]
    if peer != "duckdb":
        raise SystemExit(f"unknown peer {peer} (the Feast peer is benchmarks/aggregation_feast.py)")
    import duckdb
    con = duckdb.connect()
    if "--threads" in sys.argv:
        con.execute(f"SET threads={int(sys.argv[sys.argv.index('--threads') + 1])}")
    con.execute("SET preserve_insertion_order=true")
    formulation = "range-join"
    if "--formulation" in sys.argv:
        formulation = sys.argv[sys.argv.index("--formulation") + 1]
    oracle = "--oracle" in sys.argv
    trips = os.path.join(data, "trips.parquet")
    labels = os.path.join(data, "trip_labels.parquet")
    start = time.perf_counter()
    if formulation == "range-join":
        range_join(con, trips, labels, out, oracle)
    elif formulation == "window":
        window_form(con, trips, labels, out, oracle)
    else:
        raise SystemExit(f"unknown formulation {formulation}")
    seconds = time.perf_counter() - start
    rows = con.sql(f"SELECT count(*) FROM read_parquet('{out}')").fetchall()[0][0]
    print(json.dumps({"peer": f"duckdb {formulation}", "seconds": seconds,
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "rows": rows}))


if __name__ == "__main__":
    main()
