"""A Feast repository with the same definitions as Tessera's online tests and benchmark.

Used by `online_feast_golden.py` (golden request/response pairs for the HTTP tests) and
by `tessera bench online` (the `feast serve` peer). Feast 0.67: local provider, SQLite
online store, DuckDB offline store.
"""
import os
from datetime import timedelta

FEATURE_STORE_YAML = """project: {project}
registry: data/registry.db
provider: local
online_store:
  type: sqlite
  path: data/online.db
offline_store:
  type: duckdb
entity_key_serialization_version: 3
"""


def make_repo(path, project, stats_path, online=None):
    """Writes feature_store.yaml, applies driver / driver_hourly_stats (ttl 2 days) and
    the driver_quality service, and returns the FeatureStore. `online`: another
    online_store section (default: SQLite in the repository)."""
    from feast import Entity, FeatureService, FeatureStore, FeatureView, Field, FileSource, PushSource
    from feast.types import Float32, Int32
    from feast.value_type import ValueType

    os.makedirs(os.path.join(path, "data"), exist_ok=True)
    with open(os.path.join(path, "feature_store.yaml"), "w") as f:
        text = FEATURE_STORE_YAML.format(project=project)
        if online:
            start = text.index("online_store:")
            end = text.index("offline_store:")
            text = text[:start] + online + text[end:]
        f.write(text)
    driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)
    stats = FileSource(name="driver_stats", path=stats_path, timestamp_field="event_timestamp",
                       created_timestamp_column="created")
    push = PushSource(name="driver_push", batch_source=stats)
    view = FeatureView(
        name="driver_hourly_stats", entities=[driver], ttl=timedelta(days=2),
        schema=[Field(name="conv_rate", dtype=Float32), Field(name="acc_rate", dtype=Float32),
                Field(name="avg_daily_trips", dtype=Int32)],
        online=True, source=push)
    service = FeatureService(name="driver_quality", features=[view[["conv_rate", "acc_rate"]]])
    store = FeatureStore(repo_path=path)
    store.apply([driver, stats, push, view, service])
    return store
