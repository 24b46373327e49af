"""Feast 0.67's remote online client against `feast serve`: the figure beside Tessera's
remote `get_online_features` in `benchmarks/python_client.py`.

Usage: python benchmarks/online_feast_remote.py REPO_DIR DRIVERS [LOOKUPS]
REPO_DIR is the repository `online_feast_bench.py` made and loaded. This starts
`feast serve` on it (one worker, loopback), makes a client repository whose online store
is `type: remote` pointing at it (Feast's own HTTP client), times LOOKUPS (2,000)
`get_online_features` of one random driver, stops the server and prints one JSON object.
"""
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

CLIENT_YAML = """project: bench
registry: {registry}
provider: local
online_store:
  type: remote
  path: http://127.0.0.1:{port}
entity_key_serialization_version: 3
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    repo, drivers = sys.argv[1], int(sys.argv[2])
    lookups = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    port = free_port()
    feast = os.path.join(os.path.dirname(sys.executable), "feast")
    server = subprocess.Popen(
        [feast, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"], cwd=repo,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except Exception:
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("feast serve did not start")
                time.sleep(0.5)
        from feast import FeatureStore

        client = tempfile.mkdtemp(prefix="feast-remote-client-")
        with open(os.path.join(client, "feature_store.yaml"), "w") as f:
            f.write(CLIENT_YAML.format(registry=os.path.join(os.path.abspath(repo), "data", "registry.db"), port=port))
        store = FeatureStore(repo_path=client)
        features = ["driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate",
                    "driver_hourly_stats:avg_daily_trips"]
        rng = random.Random(11)
        # A first call checks the answer and warms the client up.
        first = store.get_online_features(features=features, entity_rows=[{"driver_id": 1}]).to_dict()
        assert first["driver_id"] == [1] and first["conv_rate"][0] is not None, first
        times = []
        for _ in range(lookups):
            row = [{"driver_id": rng.randrange(drivers)}]
            start = time.perf_counter()
            store.get_online_features(features=features, entity_rows=row).to_dict()
            times.append((time.perf_counter() - start) * 1e6)
        times.sort()
        print(json.dumps({"remote_1_median_us": statistics.median(times),
                          "remote_1_p99_us": times[min(len(times) - 1, int(0.99 * len(times)))]}))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
