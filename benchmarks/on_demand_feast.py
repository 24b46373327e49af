"""The Feast side of `tessera bench on-demand` (Feast 0.67, local provider, SQLite online store).

Usage: python benchmarks/on_demand_feast.py REPO_DIR ROWS DRIVERS
Makes the Feast repository of `online_feast_repo.py` plus a request source and an on-demand
feature view with the four features Tessera's benchmark computes (Feast's "python" mode, its
fastest), writes the newest driver_stats row of drivers [0, DRIVERS) into the online store,
times in-process `get_online_features` of 3 plain features, and of the same 3 plus the 4
on-demand ones, for 1 and 100 entity rows, checks the on-demand values against the formulas,
and prints one JSON object.
"""
import json
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from online_feast_bench import percentile, repository  # noqa: E402


def main():
    repo, rows, drivers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    from feast import Field, RequestSource
    from feast.on_demand_feature_view import on_demand_feature_view
    from feast.types import Bool, Float64, String

    store, df = repository(repo, rows, drivers)
    view = store.get_feature_view("driver_hourly_stats")
    request = RequestSource(name="ride_request", schema=[Field(name="fare_estimate", dtype=Float64)])

    @on_demand_feature_view(
        sources=[view, request],
        schema=[Field(name="expected_value", dtype=Float64), Field(name="acceptance_gap", dtype=Float64),
                Field(name="busy", dtype=Bool), Field(name="fare_band", dtype=String)],
        mode="python")
    def ride_scoring(inputs):
        out = {"expected_value": [], "acceptance_gap": [], "busy": [], "fare_band": []}
        for conv, acc, trips, fare in zip(inputs["conv_rate"], inputs["acc_rate"], inputs["avg_daily_trips"],
                                          inputs["fare_estimate"]):
            out["expected_value"].append(None if conv is None or fare is None else conv * fare)
            out["acceptance_gap"].append(None if conv is None or acc is None else acc - conv)
            out["busy"].append(None if trips is None else trips >= 10)
            out["fare_band"].append(None if fare is None else
                                    "short" if fare < 15 else "medium" if fare < 40 else "long")
        return out

    store.apply([request, ride_scoring])
    store.write_to_online_store("driver_hourly_stats", df)
    plain = ["driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate", "driver_hourly_stats:avg_daily_trips"]
    on_demand = plain + [f"ride_scoring:{name}" for name in
                         ("expected_value", "acceptance_gap", "busy", "fare_band")]
    rng = random.Random(7)
    out = {"rows_written": int(len(df))}
    for entities, iterations in ((1, 2000), (100, 200)):
        for label, features in (("plain", plain), ("on_demand", on_demand)):
            times = []
            for i in range(iterations + 50):
                rows_ = [{"driver_id": rng.randrange(drivers), "fare_estimate": 5 + rng.random() * 75}
                         for _ in range(entities)]
                t0 = time.perf_counter()
                result = store.get_online_features(features=features, entity_rows=rows_).to_dict()
                if i >= 50:
                    times.append((time.perf_counter() - t0) * 1e6)
            if label == "on_demand":
                for k, row in enumerate(rows_):
                    conv = result["conv_rate"][k]
                    want = None if conv is None else conv * row["fare_estimate"]
                    assert result["expected_value"][k] == want, (result["expected_value"][k], want)
            out[f"{label}_{entities}_median_us"] = statistics.median(times)
            out[f"{label}_{entities}_p99_us"] = percentile(times, 0.99)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
