"""The reference workload, made with numpy: the same values as Sources/TesseraWorkload/Workload.swift.

Usage as a script:  python3 benchmarks/workload.py SIZE OUTDIR [--trips]   (SIZE: XS, S, M, L or a row count)
writes OUTDIR/driver_stats.parquet and OUTDIR/entity_df.parquet (with --trips: OUTDIR/trips.parquet
and OUTDIR/trip_labels.parquet) with pyarrow's defaults (snappy, dictionary on), as WORKLOAD.md
prescribes for the peers. The same values as Sources/TesseraWorkload/Workload+Trips.swift.
"""
import sys
import numpy as np

START_US = 1_767_225_600 * 1_000_000
SIZES = {"XS": 100_000, "S": 1_000_000, "M": 10_000_000, "L": 100_000_000}
M64 = np.uint64


def random(seed, stream, rows):
    with np.errstate(over="ignore"):
        z = rows * M64(0x9E3779B97F4A7C15)
        s = (M64(seed) * M64(0x1000000001B3) + M64(stream)) * M64(0xD1B54A32D192ED03)
        z = z ^ s
        z = (z ^ (z >> M64(30))) * M64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> M64(27))) * M64(0x94D049BB133111EB)
        return z ^ (z >> M64(31))


def unit(bits):
    return ((bits >> M64(40)).astype(np.float32) * np.float32(1.0 / 16777216.0)).astype(np.float32)


def driver_stats(n, seed=42, start=0, stop=None):
    stop = n if stop is None else stop
    e = max(1, n // 10)
    rows = np.arange(start, stop, dtype=np.uint64)
    ids = (random(seed, 1, rows) % M64(e)).astype(np.int64)
    event = START_US + (random(seed, 2, rows) % M64(30 * 86400)).astype(np.int64) * 1_000_000
    created = event + (random(seed, 3, rows) % M64(61)).astype(np.int64) * 1_000_000
    return {
        "driver_id": ids,
        "event_timestamp": event,
        "created": created,
        "conv_rate": unit(random(seed, 4, rows)),
        "acc_rate": unit(random(seed, 5, rows)),
        "avg_daily_trips": (random(seed, 6, rows) % M64(1000)).astype(np.int32),
    }


def entity_df(n, seed=42):
    e = max(1, n // 10)
    rows = np.arange(0, max(1, n // 10), dtype=np.uint64)
    return {
        "driver_id": (random(seed, 11, rows) % M64(max(1, e * 11 // 10))).astype(np.int64),
        "event_timestamp": START_US + (random(seed, 12, rows) % M64(31 * 86400)).astype(np.int64) * 1_000_000,
        "label": (random(seed, 13, rows) & M64(1)).astype(np.int64),
    }


TRIPS_SPAN = 30 * 86400
LABELS_SPAN = 31 * 86400


def trip_drivers(n, rows, seed=42):
    return (random(seed, 31, rows) % M64(max(1, n // 100))).astype(np.int64)


def trip_seconds(n, rows):
    # In event order: trip i starts at floor(i * span / n) seconds.
    return (rows.astype(np.int64) * TRIPS_SPAN) // max(1, n)


def trips(n, seed=42, start=0, stop=None):
    """Raw trip events: the trips table of WORKLOAD.md, rows start..<stop."""
    import pyarrow as pa
    stop = n if stop is None else stop
    rows = np.arange(start, stop, dtype=np.uint64)
    r = random(seed, 33, rows)
    fare = ((M64(200) + (r >> M64(8)) % M64(7800)).astype(np.float64)) / 100.0
    status = np.where(random(seed, 35, rows) % M64(10) == M64(0), "cancelled", "completed")
    return {
        "trip_id": rows.astype(np.int64),
        "driver_id": trip_drivers(n, rows, seed),
        "rider_id": (random(seed, 32, rows) % M64(max(1, n // 10))).astype(np.int64),
        "event_timestamp": START_US + trip_seconds(n, rows) * 1_000_000,
        "fare": pa.array(fare, mask=(r % M64(100) == M64(0))),
        "distance_km": (M64(100) + random(seed, 34, rows) % M64(29900)).astype(np.float32) / np.float32(1000),
        "status": status,
    }


def trip_labels(n, seed=42):
    """Labelled driver events: one in five is the label of a trip (its driver and time)."""
    e = max(1, n // 100)
    rows = np.arange(0, max(1, n // 10), dtype=np.uint64)
    own = random(seed, 41, rows) % M64(5) == M64(0)
    trip = random(seed, 42, rows) % M64(max(1, n))
    drivers = np.where(own, trip_drivers(n, trip, seed),
                       (random(seed, 43, rows) % M64(max(1, e * 11 // 10))).astype(np.int64))
    seconds = np.where(own, trip_seconds(n, trip), (random(seed, 44, rows) % M64(LABELS_SPAN)).astype(np.int64))
    return {
        "driver_id": drivers,
        "event_timestamp": START_US + seconds * 1_000_000,
        "label": (random(seed, 45, rows) & M64(1)).astype(np.int64),
    }


def to_table(columns):
    import pyarrow as pa
    arrays = {}
    for name, values in columns.items():
        if name in ("event_timestamp", "created"):
            arrays[name] = pa.array(values, type=pa.timestamp("us", tz="UTC"))
        else:
            arrays[name] = pa.array(values)
    return pa.table(arrays)


def main():
    import os
    import pyarrow.parquet as pq
    size, out = sys.argv[1], sys.argv[2]
    n = SIZES.get(size.upper()) or int(size)
    os.makedirs(out, exist_ok=True)
    if "--trips" in sys.argv:
        pq.write_table(to_table(trips(n)), os.path.join(out, "trips.parquet"))
        pq.write_table(to_table(trip_labels(n)), os.path.join(out, "trip_labels.parquet"))
        return
    pq.write_table(to_table(driver_stats(n)), os.path.join(out, "driver_stats.parquet"))
    pq.write_table(to_table(entity_df(n)), os.path.join(out, "entity_df.parquet"))


if __name__ == "__main__":
    main()
