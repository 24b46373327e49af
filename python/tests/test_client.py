"""The Python client against the real binary and a real server: every call matches what
the CLI and the HTTP API give for the same request, value by value, with types and nulls."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tessera
from tessera import errors

FEATURES = ["driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate", "driver_hourly_stats:avg_daily_trips"]


def post(url: str, path: str, body: Dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request) as answer:
        text = answer.read().decode()
    return json.loads(text) if text else None


def cli_training_set(binary: str, repo: str, tmp: Path, *arguments: str) -> pa.Table:
    out = tmp / "cli.parquet"
    subprocess.run(
        [binary, "training-set", *arguments, "--output", str(out), "--repo", repo], check=True, capture_output=True
    )
    return pq.read_table(out)


def labels(repo: str) -> pd.DataFrame:
    return pq.read_table(os.path.join(repo, "data", "trip_labels.parquet")).to_pandas()


@pytest.fixture()
def local(repo: str, binary: str):
    with tessera.FeatureStore(repo_path=repo, binary=binary) as store:
        yield store


@pytest.fixture()
def remote(server: str):
    with tessera.FeatureStore(url=server) as store:
        yield store


# -- training sets ------------------------------------------------------------------


def test_training_set_from_a_dataframe_equals_the_cli(local, repo, binary, tmp_path):
    entity_df = labels(repo)
    job = local.get_historical_features(entity_df=entity_df, features=FEATURES)
    cli = cli_training_set(binary, repo, tmp_path, "--entities", os.path.join(repo, "data", "trip_labels.parquet"),
                           "--features", ",".join(FEATURES))
    assert job.to_arrow().num_rows == len(entity_df) == cli.num_rows
    ours = job.to_df()
    theirs = tessera._frames.to_pandas(cli)
    pd.testing.assert_frame_equal(ours, theirs)
    # Entity rows keep their order and columns; some rows find their features, some do not.
    assert list(ours["driver_id"]) == list(entity_df["driver_id"])
    assert ours["conv_rate"].notna().any() and ours["conv_rate"].isna().any()


def test_training_set_from_a_path_a_table_and_a_service(local, repo, binary, tmp_path):
    path = os.path.join(repo, "data", "trip_labels.parquet")
    by_path = local.get_historical_features(entity_df=path, features=FEATURES).to_df()
    by_table = local.get_historical_features(entity_df=pq.read_table(path), features=FEATURES).to_df()
    pd.testing.assert_frame_equal(by_path, by_table)
    service = local.get_historical_features(entity_df=path, feature_service="driver_quality").to_df()
    cli = cli_training_set(binary, repo, tmp_path, "--entities", path, "--service", "driver_quality")
    pd.testing.assert_frame_equal(service, tessera._frames.to_pandas(cli))
    full = local.get_historical_features(entity_df=path, features=FEATURES, full_feature_names=True).to_df()
    assert "driver_hourly_stats__conv_rate" in full.columns


def test_training_set_types_are_nullable_and_times_utc(local, repo):
    entity_df = labels(repo).head(50)
    entity_df.loc[len(entity_df)] = {"driver_id": 987654321, "event_timestamp": pd.Timestamp("2026-01-01", tz="UTC"), "label": 1}
    df = local.get_historical_features(entity_df=entity_df, features=FEATURES).to_df()
    assert str(df["avg_daily_trips"].dtype) == "Int32"
    assert str(df["conv_rate"].dtype) == "Float32"
    assert str(df["driver_id"].dtype) == "Int64"
    assert str(df["event_timestamp"].dtype) == "datetime64[us, UTC]"
    # A driver with no rows: nulls, not 0 or NaN in an integer column.
    assert df["avg_daily_trips"].iloc[-1] is pd.NA


def test_microsecond_times_and_lists_survive_a_training_set(binary, tmp_path):
    """Every type, through a repository of its own, against a brute-force point-in-time join."""
    repo = tmp_path / "types"
    (repo / "features").mkdir(parents=True)
    (repo / "data").mkdir()
    (repo / "tessera.yaml").write_text("project: types\n")
    base = dt.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=dt.timezone.utc)
    rows = []
    for i in range(60):
        rows.append({
            "id": i % 7, "ts": base + dt.timedelta(minutes=i, microseconds=i),
            "b": i % 2 == 0, "i32": i - 30, "i64": (i - 30) * 10**12, "f32": i / 8, "f64": i / 3,
            "s": None if i % 5 == 0 else f"v{i}", "n": None if i % 4 == 0 else i,
        })
    table = pa.Table.from_pylist(rows, schema=pa.schema([
        ("id", pa.int64()), ("ts", pa.timestamp("us", "UTC")), ("b", pa.bool_()), ("i32", pa.int32()),
        ("i64", pa.int64()), ("f32", pa.float32()), ("f64", pa.float64()), ("s", pa.string()), ("n", pa.int64()),
    ]))
    pq.write_table(table, repo / "data" / "t.parquet")
    (repo / "features" / "t.yaml").write_text("""
entities:
  - name: thing
    join_keys: {id: int64}
sources:
  - name: t
    type: file
    path: data/t.parquet
    timestamp_field: ts
feature_views:
  - name: v
    entities: [thing]
    source: t
    schema: {b: bool, i32: int32, i64: int64, f32: float32, f64: float64, s: string, n: int64}
  - name: w
    entities: [thing]
    source: t
    aggregations:
      - column: n
        functions: [last_n(3), count]
        windows: [1h]
""")
    subprocess.run([binary, "apply", "--repo", str(repo)], check=True, capture_output=True)
    times = [base + dt.timedelta(minutes=m, microseconds=u) for m, u in [(10, 10), (10, 11), (33, 0), (59, 59), (70, 5)]]
    entity_df = pd.DataFrame({"id": [3, 3, 5, 6, 0], "event_timestamp": pd.to_datetime(times)})
    store = tessera.FeatureStore(repo_path=str(repo), binary=binary)
    names = ["v:b", "v:i32", "v:i64", "v:f32", "v:f64", "v:s", "v:n", "w:n_last_3_1h", "w:n_count_1h"]
    got = store.get_historical_features(entity_df=entity_df, features=names).to_arrow().to_pylist()
    for row, (key, t) in zip(got, zip(entity_df["id"], times)):
        assert row["event_timestamp"] == t  # microseconds kept
        before = [r for r in rows if r["id"] == key and r["ts"] <= t]
        latest = max(before, key=lambda r: r["ts"]) if before else None
        for name in ["b", "i32", "i64", "f32", "f64", "s", "n"]:
            assert row[name] == (latest[name] if latest else None), (name, key, t)
        window = [r for r in rows if r["id"] == key and t - dt.timedelta(hours=1) <= r["ts"] < t]
        values = [r["n"] for r in sorted(window, key=lambda r: r["ts"]) if r["n"] is not None]
        assert row["n_count_1h"] == len(values)
        assert row["n_last_3_1h"] == (list(reversed(values))[:3] if values else None)
    df = store.get_historical_features(entity_df=entity_df, features=names).to_df()
    assert str(df["b"].dtype) == "boolean" and str(df["s"].dtype).startswith("string")
    store.close()


# -- online --------------------------------------------------------------------------


def test_online_features_equal_the_http_api(remote, server, repo):
    drivers = [int(d) for d in labels(repo)["driver_id"].head(5)] + [123456789]
    answer = post(server, "/get-online-features", {"features": FEATURES, "entities": {"driver_id": drivers}})
    response = remote.get_online_features(features=FEATURES, entity_rows=[{"driver_id": d} for d in drivers])
    names = answer["metadata"]["feature_names"]
    assert response.feature_names == names
    as_dict = response.to_dict()
    for name, result in zip(names, answer["results"]):
        assert as_dict[name] == result["values"]
        assert response.statuses()[name] == result["statuses"]
    assert as_dict["conv_rate"][-1] is None and response.statuses()["conv_rate"][-1] == "NOT_FOUND"
    df = response.to_df()
    assert list(df["driver_id"]) == drivers and df["conv_rate"].isna().iloc[-1]


def test_local_mode_serves_what_the_server_serves(local, remote, repo):
    rows = [{"driver_id": int(d)} for d in labels(repo)["driver_id"].head(8)]
    a = local.get_online_features(features=FEATURES, entity_rows=rows).to_dict()
    b = remote.get_online_features(features=FEATURES, entity_rows=rows).to_dict()
    assert a == b
    c = remote.get_online_features(feature_service="driver_quality", entity_rows=rows).to_dict()
    assert c["conv_rate"] == b["conv_rate"]


def test_push_then_read_back(remote):
    now = pd.Timestamp.now(tz="UTC").floor("s") - pd.Timedelta(seconds=5)
    event_df = pd.DataFrame({
        "driver_id": [770001, 770002], "event_timestamp": [now, now + pd.Timedelta(microseconds=250)],
        "created": [now, now], "conv_rate": [0.25, 0.75], "acc_rate": [0.5, 0.125], "avg_daily_trips": [7, 9],
    })
    remote.push("driver_stats_push", event_df, to=tessera.PushMode.ONLINE)
    got = remote.get_online_features(features=FEATURES, entity_rows=[{"driver_id": 770001}, {"driver_id": 770002}])
    values = got.to_dict(include_event_timestamps=True)
    assert values["conv_rate"] == [0.25, 0.75] and values["avg_daily_trips"] == [7, 9]
    assert values["conv_rate__ts"][1] == now + pd.Timedelta(microseconds=250)


def test_write_to_online_store_then_read_back(remote):
    now = pd.Timestamp.now(tz="UTC").floor("s")
    remote.write_to_online_store("driver_hourly_stats", pd.DataFrame({
        "driver_id": [880001], "event_timestamp": [now], "conv_rate": [0.5], "acc_rate": [0.25], "avg_daily_trips": [3],
    }))
    got = remote.get_online_features(features=FEATURES, entity_rows=[{"driver_id": 880001}]).to_dict()
    assert got["avg_daily_trips"] == [3] and got["acc_rate"] == [0.25]


def test_materialize_both_ways(local, remote):
    remote.materialize_incremental(end_date=dt.datetime.now(dt.timezone.utc))
    remote.materialize(dt.datetime(2000, 1, 1), dt.datetime.now(dt.timezone.utc), feature_views=["driver_hourly_stats"])
    local.materialize_incremental(end_date=dt.datetime.now(dt.timezone.utc), feature_views=["driver_hourly_stats"])


def test_registry_reads_match_the_http_api(remote, local, server):
    with urllib.request.urlopen(server + "/registry/feature-views") as answer:
        items = json.loads(answer.read())["items"]
    assert [v.name for v in remote.list_feature_views()] == [i["name"] for i in items]
    assert [v.name for v in local.list_feature_views()] == [i["name"] for i in items]
    view = remote.get_feature_view("driver_hourly_stats")
    assert view.entities == ["driver"] and view.ttl == "2d"
    assert [(f.name, f.dtype) for f in view.features] == [("conv_rate", "float32"), ("acc_rate", "float32"), ("avg_daily_trips", "int32")]
    assert "driver_quality" in [s.name for s in remote.list_feature_services()]
    assert any(e.join_keys == {"driver_id": "int64"} for e in remote.list_entities())


# -- Feast's notebook code ----------------------------------------------------------


def test_feast_quickstart_code_runs(repo, binary):
    """What Feast's quickstart notebook does, with tessera.FeatureStore and this repository's names."""
    store = tessera.FeatureStore(repo_path=repo, binary=binary)
    entity_df = pd.DataFrame.from_dict({
        "driver_id": [1, 2, 3],
        "event_timestamp": [dt.datetime.now() - dt.timedelta(hours=h) for h in (1, 5, 10)],
        "label_driver_reported_satisfaction": [1, 5, 3],
    })
    training_df = store.get_historical_features(
        entity_df=entity_df,
        features=["driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate", "driver_hourly_stats:avg_daily_trips"],
    ).to_df()
    assert list(training_df.columns)[:3] == ["driver_id", "event_timestamp", "label_driver_reported_satisfaction"]
    store.materialize_incremental(end_date=dt.datetime.now())
    feature_vector = store.get_online_features(
        features=["driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate"],
        entity_rows=[{"driver_id": 1}, {"driver_id": 2}],
    ).to_dict()
    assert set(feature_vector) == {"driver_id", "conv_rate", "acc_rate"} and feature_vector["driver_id"] == [1, 2]
    event_df = pd.DataFrame.from_dict({
        "driver_id": [1001], "event_timestamp": [dt.datetime.now() - dt.timedelta(seconds=3)],
        "created": [dt.datetime.now() - dt.timedelta(seconds=3)],
        "conv_rate": [1.0], "acc_rate": [1.0], "avg_daily_trips": [1000],
    })
    store.push("driver_stats_push", event_df, to=tessera.PushMode.ONLINE_AND_OFFLINE)
    after = store.get_online_features(features=["driver_hourly_stats:avg_daily_trips"], entity_rows=[{"driver_id": 1001}])
    assert after.to_dict()["avg_daily_trips"] == [1000]
    store.close()


# -- bad input ------------------------------------------------------------------------


def test_unknown_names_raise_not_found_with_close_names(remote, local, repo):
    with pytest.raises(errors.NotFound) as caught:
        remote.get_online_features(features=["driver_hourly_stats:conv_rat"], entity_rows=[{"driver_id": 1}])
    assert "did you mean 'conv_rate'?" in str(caught.value) and caught.value.field == "features[0]"
    with pytest.raises(errors.NotFound) as caught:
        local.get_historical_features(entity_df=labels(repo).head(3), features=["driver_hourly_stats:conv_rat"])
    assert "conv_rat" in str(caught.value) and "conv_rate" in str(caught.value)
    with pytest.raises(errors.NotFound):
        remote.get_feature_view("driver_stats_hourly")


def test_bad_entity_frames_are_refused_before_anything_runs(local):
    now = pd.Timestamp.now(tz="UTC")
    with pytest.raises(errors.InvalidRequest) as caught:
        local.get_historical_features(entity_df=pd.DataFrame({"driver": [1], "event_timestamp": [now]}), features=FEATURES)
    assert caught.value.field == "entity_df.driver_id" and "driver_id" in str(caught.value)
    with pytest.raises(errors.InvalidRequest) as caught:
        local.get_historical_features(entity_df=pd.DataFrame({"driver_id": ["x"], "event_timestamp": [now]}), features=FEATURES)
    assert "is string, but join key 'driver_id' is int64" in str(caught.value)
    with pytest.raises(errors.InvalidRequest) as caught:
        local.get_historical_features(entity_df=pd.DataFrame({"driver_id": [1]}), features=FEATURES)
    assert "event_timestamp" in str(caught.value)
    with pytest.raises(errors.InvalidRequest) as caught:
        local.get_historical_features(entity_df=pd.DataFrame({"driver_id": [1], "event_timestamp": [3]}), features=FEATURES)
    assert "not a timestamp" in str(caught.value)


def test_bad_pushes_and_dead_servers_are_clear(remote):
    with pytest.raises(errors.InvalidRequest) as caught:
        remote.push("driver_stats_push", pd.DataFrame({"driver_id": [1], "event_timestamp": [pd.Timestamp.now(tz="UTC")]}))
    assert "missing column" in str(caught.value)
    dead = tessera.FeatureStore(url="http://127.0.0.1:9", timeout=2)
    with pytest.raises(errors.ConnectionFailed) as caught:
        dead.list_feature_views()
    assert "127.0.0.1:9" in str(caught.value)


def test_a_missing_binary_says_how_to_build_it(repo, monkeypatch):
    with pytest.raises(errors.BinaryNotFound) as caught:
        tessera.FeatureStore(repo_path=repo, binary="/nonexistent/tessera")
    assert "swift build -c release --product tessera" in str(caught.value)


def test_api_keys_are_sent_and_roles_enforced(binary, tmp_path):
    from conftest import free_port, run

    repo = tmp_path / "secured"
    run(binary, "init", str(repo), "--rows", "300")
    printed = run(binary, "api-key", "create", "--name", "notebook", "--role", "reader", "--file",
                  str(repo / "secrets" / "api-keys.yaml"))
    key = next(word for word in printed.split() if word.startswith("tsk_"))
    with open(repo / "tessera.yaml", "a") as config:
        config.write("feature_server:\n  auth:\n    api_keys_file: secrets/api-keys.yaml\n")
    run(binary, "apply", "--repo", str(repo))
    port = free_port()
    process = subprocess.Popen([binary, "serve", "--repo", str(repo), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        assert tessera._binary.wait_until_healthy(url, process)
        with pytest.raises(errors.Unauthorized):
            tessera.FeatureStore(url=url).list_feature_views()
        reader = tessera.FeatureStore(url=url, api_key=key)
        assert "driver_hourly_stats" in [v.name for v in reader.list_feature_views()]
        got = reader.get_online_features(features=FEATURES, entity_rows=[{"driver_id": 1}]).to_dict()
        assert got["driver_id"] == [1]
        with pytest.raises(errors.Forbidden):
            reader.push("driver_stats_push", pd.DataFrame({
                "driver_id": [1], "event_timestamp": [pd.Timestamp.now(tz="UTC")], "conv_rate": [0.5],
                "acc_rate": [0.5], "avg_daily_trips": [1]}))
        reader.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_version_is_tesseras(binary):
    printed = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    assert printed == tessera.__version__
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert f'version = "{tessera.__version__}"' in pyproject


def test_remote_training_sets_equal_local_ones(remote, local, repo, server):
    path = os.path.join(repo, "data", "trip_labels.parquet")
    entity_df = labels(repo)
    ours = remote.get_historical_features(entity_df=entity_df, features=FEATURES).to_df()
    pd.testing.assert_frame_equal(ours, local.get_historical_features(entity_df=entity_df, features=FEATURES).to_df())
    by_service = remote.get_historical_features(entity_df=path, feature_service="driver_activity_v1", full_feature_names=True)
    local_service = local.get_historical_features(entity_df=path, feature_service="driver_activity_v1", full_feature_names=True)
    assert by_service.to_arrow().equals(local_service.to_arrow())
    # What the endpoint itself answers: an Arrow IPC stream, and JSON errors.
    body = open(path, "rb").read()
    request = urllib.request.Request(
        server + "/get-historical-features?features=driver_hourly_stats:conv_rate", data=body, method="POST",
        headers={"Content-Type": "application/vnd.apache.parquet"})
    with urllib.request.urlopen(request) as answer:
        assert answer.headers["Content-Type"] == "application/vnd.apache.arrow.stream"
        # Streamed, a record batch at a time: no length known up front.
        assert answer.headers.get("Transfer-Encoding") == "chunked"
        assert answer.headers.get("Content-Length") is None
        table = pa.ipc.open_stream(answer.read()).read_all()
    assert table.column_names == ["driver_id", "event_timestamp", "label", "conv_rate"]
    # The same rows as an Arrow IPC body (what the client sends) give the same table.
    sink = pa.BufferOutputStream()
    rows = pq.read_table(path)
    with pa.ipc.new_stream(sink, rows.schema) as writer:
        writer.write_table(rows, max_chunksize=1000)
    request = urllib.request.Request(
        server + "/get-historical-features?features=driver_hourly_stats:conv_rate", data=sink.getvalue().to_pybytes(),
        method="POST", headers={"Content-Type": "application/vnd.apache.arrow.stream"})
    with urllib.request.urlopen(request) as answer:
        assert pa.ipc.open_stream(answer.read()).read_all().equals(table)
    # A categorical column in the entity frame goes as its values.
    with_city = entity_df.assign(city=pd.Categorical(["sf", "nyc"] * (len(entity_df) // 2) + ["sf"] * (len(entity_df) % 2)))
    remote_city = remote.get_historical_features(entity_df=with_city, features=FEATURES).to_df()
    local_city = local.get_historical_features(entity_df=with_city.assign(city=with_city.city.astype(str)), features=FEATURES).to_df()
    assert list(remote_city["city"].astype(str)) == list(local_city["city"].astype(str))
    pd.testing.assert_frame_equal(remote_city.drop(columns="city"), local_city.drop(columns="city"))
    with pytest.raises(errors.NotFound) as caught:
        remote.get_historical_features(entity_df=entity_df, features=["driver_hourly_stats:conv_rat"])
    assert "did you mean 'conv_rate'?" in str(caught.value)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(
            server + "/get-historical-features?features=driver_hourly_stats:conv_rate", data=b"{}", method="POST"))
    assert refused.value.code == 415
