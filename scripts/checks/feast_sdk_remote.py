#!/usr/bin/env python3
"""Feast's own Python SDK as a client of `tessera serve` (CI check).

Feast 0.67 with `online_store: {type: remote, path: URL}` must read, write, push and
materialize through Tessera's feature server exactly as through `feast serve`.

    python feast_sdk_remote.py URL TESSERA_REPO [--token-env VAR] [--expect-denied]

TESSERA_REPO is a repository made by `tessera init` (its driver view and data files); the
Feast client repo declares the same driver definitions, as a Feast user's would. With
--token-env the client sends `Authorization: Bearer $VAR` (auth: oidc, token_env_var);
with --expect-denied every call must fail with the server's 401/403 instead.
Exits non-zero with a message on the first mismatch.
"""
import argparse
import json
import os
import sys
import tempfile
import urllib.request
from datetime import datetime, timedelta, timezone

import pandas as pd
import yaml

FEATURES = ["driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate", "driver_hourly_stats:avg_daily_trips"]


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def client_repo(url, tessera_repo, token_env):
    folder = tempfile.mkdtemp(prefix="feast-client-")
    config = {
        "project": "feast_client",
        "registry": os.path.join(folder, "registry.db"),
        "provider": "local",
        "online_store": {"type": "remote", "path": url},
        "offline_store": {"type": "file"},
        "entity_key_serialization_version": 3,
    }
    if token_env:
        config["auth"] = {"type": "oidc", "token_env_var": token_env}
    with open(os.path.join(folder, "feature_store.yaml"), "w") as f:
        yaml.safe_dump(config, f)
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, PushSource
    from feast.types import Float32, Int32, Int64
    from feast.value_type import ValueType

    driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)
    source = FileSource(
        name="driver_stats", path=os.path.join(tessera_repo, "data", "driver_stats.parquet"),
        timestamp_field="event_timestamp", created_timestamp_column="created")
    push = PushSource(name="driver_stats_push", batch_source=source)
    view = FeatureView(
        name="driver_hourly_stats", entities=[driver], ttl=timedelta(days=2),
        schema=[Field(name="driver_id", dtype=Int64), Field(name="conv_rate", dtype=Float32),
                Field(name="acc_rate", dtype=Float32), Field(name="avg_daily_trips", dtype=Int32)],
        online=True, source=push)
    store = FeatureStore(repo_path=folder)
    store.apply([driver, source, push, view])
    return store


def direct(url, body, token):
    request = urllib.request.Request(url + "/get-online-features", data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def by_name(answer):
    names = answer["metadata"]["feature_names"]
    return {name: result["values"] for name, result in zip(names, answer["results"])}


def rows(drivers, now, trips, conv):
    return pd.DataFrame({
        "driver_id": pd.Series(drivers, dtype="int64"),
        "event_timestamp": [now - timedelta(minutes=5)] * len(drivers),
        "created": [now] * len(drivers),
        "conv_rate": pd.Series([conv] * len(drivers), dtype="float32"),
        "acc_rate": pd.Series([0.5] * len(drivers), dtype="float32"),
        "avg_daily_trips": pd.Series(trips, dtype="int32"),
    })


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("tessera_repo")
    parser.add_argument("--token-env")
    parser.add_argument("--expect-denied", action="store_true")
    args = parser.parse_args()
    token = os.environ.get(args.token_env) if args.token_env else None
    store = client_repo(args.url, os.path.abspath(args.tessera_repo), args.token_env)
    from feast.data_source import PushMode

    now = datetime.now(timezone.utc).replace(microsecond=0)
    if args.expect_denied:
        for name, call in [
            ("get_online_features", lambda: store.get_online_features(features=FEATURES, entity_rows=[{"driver_id": 1}])),
            ("write_to_online_store", lambda: store.write_to_online_store("driver_hourly_stats", rows([1], now, [1], 0.5))),
        ]:
            try:
                call()
            except Exception as error:  # the SDK raises RuntimeError with the server's JSON
                text = str(error)
                if "401" not in text and "403" not in text and "unauthorized" not in text and "forbidden" not in text:
                    fail(f"{name} failed, but not with the server's 401/403: {text[:300]}")
                print(f"ok: {name} denied ({text[:120]})")
                continue
            fail(f"{name} succeeded without a valid key")
        return

    # 1. Reads: the SDK's answer equals the server's own JSON, value for value.
    parquet = pd.read_parquet(os.path.join(args.tessera_repo, "data", "driver_stats.parquet"))
    drivers = [int(d) for d in parquet.sort_values("event_timestamp").tail(50)["driver_id"].unique()[:10]] + [987654321]
    sdk = store.get_online_features(features=FEATURES, entity_rows=[{"driver_id": d} for d in drivers]).to_dict()
    ours = by_name(direct(args.url, {"features": FEATURES, "entities": {"driver_id": drivers}}, token))
    for feature in ["conv_rate", "acc_rate", "avg_daily_trips"]:
        if [None if v is None else round(float(v), 5) for v in sdk[feature]] != [
            None if v is None else round(float(v), 5) for v in ours[feature]]:
            fail(f"{feature}: the SDK read {sdk[feature]} but the server answers {ours[feature]}")
    if sdk["avg_daily_trips"][-1] is not None:
        fail("an unknown driver came back with a value")
    if all(v is None for v in sdk["avg_daily_trips"][:-1]):
        fail("no fresh driver has values: was the repository materialized?")
    print(f"ok: get_online_features matches the server for {len(drivers)} drivers")

    # 2. write_to_online_store (POST /write-to-online-store), read back through the SDK.
    store.write_to_online_store("driver_hourly_stats", rows([900001, 900002], now, [7, 8], 0.25))
    back = store.get_online_features(features=FEATURES, entity_rows=[{"driver_id": 900001}, {"driver_id": 900002}]).to_dict()
    if back["avg_daily_trips"] != [7, 8] or [round(v, 5) for v in back["conv_rate"]] != [0.25, 0.25]:
        fail(f"written rows read back as {back}")
    print("ok: write_to_online_store, read back")

    # 3. push to the online store (the SDK sends it to /write-to-online-store).
    store.push("driver_stats_push", rows([900003], now + timedelta(minutes=1), [42], 0.875), to=PushMode.ONLINE)
    pushed = store.get_online_features(features=FEATURES, entity_rows=[{"driver_id": 900003}]).to_dict()
    if pushed["avg_daily_trips"] != [42]:
        fail(f"pushed row read back as {pushed}")
    print("ok: push(to=ONLINE), read back")

    # 4. materialize_incremental (POST /materialize-incremental) answers as feast serve.
    store.materialize_incremental(end_date=now)
    store.materialize(start_date=now - timedelta(days=1), end_date=now, feature_views=["driver_hourly_stats"])
    print("ok: materialize and materialize_incremental")
    again = store.get_online_features(features=FEATURES, entity_rows=[{"driver_id": 900003}]).to_dict()
    if again["avg_daily_trips"] != [42]:
        fail(f"materializing replaced a newer pushed value: {again}")
    print("ok: a newer pushed value survives materialization")


if __name__ == "__main__":
    main()
