"""Produces golden request/response pairs by running real `feast serve` (Feast 0.67).

Usage: python benchmarks/online_feast_golden.py OUTDIR
Writes OUTDIR/<name>.request.json and OUTDIR/<name>.response.json (response bytes exactly as
`feast serve` sent them) for the Swift HTTP tests, which replay the requests against
`tessera serve` holding the same rows.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone

import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
from online_feast_repo import make_repo  # noqa: E402

ROWS = {
    "driver_id": [1001, 1002],
    "event_timestamp": [datetime(2026, 1, 9, 8, 0, 0, tzinfo=timezone.utc),
                        datetime(2026, 1, 9, 10, 0, 0, tzinfo=timezone.utc)],
    "created": [datetime(2026, 1, 9, 8, 0, 5, tzinfo=timezone.utc),
                datetime(2026, 1, 9, 10, 0, 5, tzinfo=timezone.utc)],
    "conv_rate": [0.5, 0.1],
    "acc_rate": [0.25, 0.75],
    "avg_daily_trips": [10, 20],
}

REQUESTS = {
    "single_feature": {"features": ["driver_hourly_stats:conv_rate"], "entities": {"driver_id": [1001, 1002, 5]}},
    "all_features_full_names": {
        "features": ["driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate",
                     "driver_hourly_stats:avg_daily_trips"],
        "entities": {"driver_id": [1001, 5]}, "full_feature_names": True},
    "feature_service": {"feature_service": "driver_quality", "entities": {"driver_id": [1002]}},
}

PUSH = {"push_source_name": "driver_push", "to": "online",
        "df": {"driver_id": [1003], "event_timestamp": ["2026-01-09 12:00:00"], "created": ["2026-01-09 12:00:01"],
               "conv_rate": [0.875], "acc_rate": [0.5], "avg_daily_trips": [7]}}
AFTER_PUSH = {"features": ["driver_hourly_stats:avg_daily_trips"], "entities": {"driver_id": [1003]}}


def post(port, path, body):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return response.status, response.read()


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    repo = tempfile.mkdtemp(prefix="feast-golden-")
    df = pd.DataFrame(ROWS)
    stats_path = os.path.join(repo, "data", "driver_stats.parquet")
    os.makedirs(os.path.dirname(stats_path), exist_ok=True)
    df.to_parquet(stats_path)
    store = make_repo(repo, "golden", stats_path)
    store.write_to_online_store("driver_hourly_stats", df)
    port = 16566
    env = dict(os.environ, PYTHONHASHSEED="0")
    server = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "feast"), "serve", "-p", str(port),
                               "--no-access-log"], cwd=repo, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health")
                break
            except Exception:
                time.sleep(0.2)
        for name, body in REQUESTS.items():
            status, data = post(port, "/get-online-features", body)
            assert status == 200, (name, status)
            with open(os.path.join(out, name + ".request.json"), "w") as f:
                json.dump(body, f)
            with open(os.path.join(out, name + ".response.json"), "wb") as f:
                f.write(data)
        status, data = post(port, "/push", PUSH)
        with open(os.path.join(out, "push.request.json"), "w") as f:
            json.dump(PUSH, f)
        with open(os.path.join(out, "push.response.json"), "wb") as f:
            f.write(json.dumps({"status": status, "body": data.decode()}).encode())
        status, data = post(port, "/get-online-features", AFTER_PUSH)
        with open(os.path.join(out, "after_push.request.json"), "w") as f:
            json.dump(AFTER_PUSH, f)
        with open(os.path.join(out, "after_push.response.json"), "wb") as f:
            f.write(data)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
