"""``tessera.FeatureStore``: Feast's SDK surface over a Tessera repository (local mode) or
a ``tessera serve`` (remote mode)."""

from __future__ import annotations

import datetime as _dt
import enum
import json
import os
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

import pandas as pd
import pyarrow as pa
import pyarrow.ipc  # noqa: F401  (pa.ipc)

from . import _binary, _frames, errors
from ._http import HTTPClient

TimeLike = Union[_dt.datetime, _dt.date, str, pd.Timestamp]


class PushMode(enum.Enum):
    """Where pushed rows go (Feast's ``PushMode``)."""

    ONLINE = "online"
    OFFLINE = "offline"
    ONLINE_AND_OFFLINE = "online_and_offline"


@dataclass(frozen=True)
class Field:
    """A feature: its name and Tessera type (``int64``, ``float32``, ``string``, …)."""

    name: str
    dtype: str
    description: str = ""


@dataclass(frozen=True)
class FeatureView:
    """An applied feature view, as the registry holds it."""

    name: str
    entities: List[str]
    features: List[Field]
    source: str
    ttl: Optional[str]
    online: bool
    offline: bool
    description: str = ""
    owner: str = ""
    tags: Dict[str, str] = field(default_factory=dict)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def schema(self) -> List[Field]:
        return self.features

    @staticmethod
    def from_json(item: Mapping[str, Any]) -> "FeatureView":
        return FeatureView(
            name=item["name"],
            entities=list(item.get("entities", [])),
            features=[
                Field(f["name"], f.get("type", ""), f.get("description", "")) for f in item.get("features", [])
            ],
            source=item.get("source", ""),
            ttl=item.get("ttl"),
            online=bool(item.get("online", True)),
            offline=bool(item.get("offline", True)),
            description=item.get("description", ""),
            owner=item.get("owner", ""),
            tags=dict(item.get("tags", {})),
            raw=dict(item),
        )


@dataclass(frozen=True)
class FeatureService:
    """An applied feature service: the views (and features) a model reads."""

    name: str
    features: List[Dict[str, Any]]
    description: str = ""
    owner: str = ""
    tags: Dict[str, str] = field(default_factory=dict)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @staticmethod
    def from_json(item: Mapping[str, Any]) -> "FeatureService":
        return FeatureService(
            name=item["name"],
            features=[dict(f) for f in item.get("features", [])],
            description=item.get("description", ""),
            owner=item.get("owner", ""),
            tags=dict(item.get("tags", {})),
            raw=dict(item),
        )


@dataclass(frozen=True)
class Entity:
    name: str
    join_keys: Dict[str, str]
    description: str = ""

    @staticmethod
    def from_json(item: Mapping[str, Any]) -> "Entity":
        keys = item.get("joinKeys", item.get("join_keys", []))
        if isinstance(keys, Mapping):
            join_keys = {str(k): str(v) for k, v in keys.items()}
        else:
            join_keys = {str(k["name"]): str(k.get("type", "")) for k in keys}
        return Entity(name=item["name"], join_keys=join_keys, description=item.get("description", ""))


class RetrievalJob:
    """A training set (Feast's ``RetrievalJob``): ``to_df()`` or ``to_arrow()``."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def to_arrow(self) -> pa.Table:
        return self._table

    def to_df(self) -> pd.DataFrame:
        """The rows as a DataFrame: nullable dtypes, timezone-aware UTC timestamps."""
        return _frames.to_pandas(self._table)


class OnlineResponse:
    """Online features (Feast's ``OnlineResponse``): ``to_dict()`` or ``to_df()``."""

    def __init__(self, answer: Mapping[str, Any]) -> None:
        self.raw = answer
        self.feature_names: List[str] = list(answer.get("metadata", {}).get("feature_names", []))
        self._results: List[Mapping[str, Any]] = list(answer.get("results", []))

    def to_dict(self, include_event_timestamps: bool = False) -> Dict[str, List[Any]]:
        """Column name → values (join keys first); missing values are None. With
        ``include_event_timestamps``, each feature's event times as ``NAME__ts``."""
        out: Dict[str, List[Any]] = {}
        for name, result in zip(self.feature_names, self._results):
            out[name] = list(result.get("values", []))
            if include_event_timestamps:
                out[f"{name}__ts"] = [_parse_time(t) for t in result.get("event_timestamps", [])]
        return out

    def statuses(self) -> Dict[str, List[str]]:
        """Column name → each row's status (``PRESENT``, ``NOT_FOUND``, ``NULL_VALUE``, …)."""
        return {name: list(r.get("statuses", [])) for name, r in zip(self.feature_names, self._results)}

    def to_df(self, include_event_timestamps: bool = False) -> pd.DataFrame:
        columns = self.to_dict(include_event_timestamps)
        return _frames.to_pandas(pa.table({name: pa.array(values) for name, values in columns.items()}))


def _parse_time(text: Any) -> Optional[pd.Timestamp]:
    if text is None:
        return None
    return pd.Timestamp(text).tz_convert("UTC") if pd.Timestamp(text).tzinfo else pd.Timestamp(text, tz="UTC")


def _iso(time: TimeLike) -> str:
    if isinstance(time, str):
        return time
    stamp = pd.Timestamp(time)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FeatureStore:
    """A Tessera feature store, local or remote.

    ``FeatureStore(repo_path="quickstart")`` runs the engine on this machine: training sets
    and materializations through the ``tessera`` binary (data passes as Parquet files), online
    reads, pushes and registry reads through a private ``tessera serve`` of the repository,
    started on first use. ``FeatureStore(url="http://127.0.0.1:6566")`` talks to a running
    server over HTTP.
    """

    def __init__(
        self,
        repo_path: Optional[Union[str, Path]] = None,
        *,
        url: Optional[str] = None,
        api_key: Optional[str] = None,
        timeout: float = 300.0,
        binary: Optional[str] = None,
    ) -> None:
        if repo_path is not None and url is not None:
            raise errors.InvalidRequest("pass repo_path (local mode) or url (remote mode), not both")
        self.api_key = api_key if api_key is not None else os.environ.get("TESSERA_API_KEY")
        self.timeout = timeout
        self.url = url
        self.repo_path: Optional[str] = None
        self._binary: Optional[str] = None
        self._server: Optional[_binary.PrivateServer] = None
        if url is not None:
            self._http: Optional[HTTPClient] = HTTPClient(url, self.api_key, timeout)
        else:
            repo = Path(repo_path if repo_path is not None else ".").expanduser().resolve()
            if not (repo / "tessera.yaml").is_file():
                raise errors.NotFound(
                    f"{repo} is not a Tessera repository (no tessera.yaml)",
                    hint="create one with `tessera init DIR`, or pass url= for a running server",
                )
            self.repo_path = str(repo)
            self._binary = _binary.find_binary(binary, near=repo)
            self._http = None

    # -- plumbing ---------------------------------------------------------------

    @property
    def is_local(self) -> bool:
        return self.repo_path is not None

    def _client(self) -> HTTPClient:
        if self._http is None:
            assert self._binary is not None and self.repo_path is not None
            self._server = _binary.PrivateServer(self._binary, self.repo_path)
            self._http = HTTPClient(self._server.start(), self.api_key, self.timeout)
        return self._http

    def _cli(self, *arguments: str) -> str:
        assert self._binary is not None and self.repo_path is not None
        return _binary.run(self._binary, [*arguments, "--repo", self.repo_path], timeout=self.timeout)

    def close(self) -> None:
        """Closes the connection and stops the private server (local mode)."""
        if self._http is not None:
            self._http.close()
        if self._server is not None:
            self._server.stop()
            self._server = None
            self._http = None

    def __enter__(self) -> "FeatureStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FeatureStore(url={self.url!r})" if self.url else f"FeatureStore(repo_path={self.repo_path!r})"

    # -- registry -----------------------------------------------------------------

    def _items(self, kind: str) -> List[Mapping[str, Any]]:
        answer = self._client().request("GET", f"/registry/{kind}")
        return list(answer.get("items", [])) if isinstance(answer, Mapping) else []

    def list_feature_views(self) -> List[FeatureView]:
        return [FeatureView.from_json(item) for item in self._items("feature-views")]

    def get_feature_view(self, name: str) -> FeatureView:
        return FeatureView.from_json(self._client().request("GET", f"/registry/feature-views/{name}"))

    def list_feature_services(self) -> List[FeatureService]:
        return [FeatureService.from_json(item) for item in self._items("feature-services")]

    def get_feature_service(self, name: str) -> FeatureService:
        return FeatureService.from_json(self._client().request("GET", f"/registry/feature-services/{name}"))

    def list_entities(self) -> List[Entity]:
        return [Entity.from_json(item) for item in self._items("entities")]

    def _join_keys(self, features: Optional[Sequence[str]], service: Optional[str]) -> Dict[str, str]:
        """The join keys of the feature views a request reads (with their types)."""
        views = {view.name: view for view in self.list_feature_views()}
        names: List[str] = []
        if service is not None:
            names = [str(f.get("view")) for f in self.get_feature_service(service).features]
        for ref in features or []:
            view = ref.split(":", 1)[0]
            if ":" not in ref:
                raise errors.InvalidRequest(f"'{ref}' is not a feature reference", field="features", hint="write 'view:feature'")
            names.append(view)
        entities = {entity.name: entity for entity in self.list_entities()}
        keys: Dict[str, str] = {}
        for name in names:
            if name not in views:
                continue  # on-demand views, or unknown names the engine reports with close names
            for entity in views[name].entities:
                keys.update(entities[entity].join_keys if entity in entities else {})
        return keys

    # -- training sets ------------------------------------------------------------

    def get_historical_features(
        self,
        entity_df: Union[_frames.Frame, str, Path],
        features: Optional[Union[Sequence[str], FeatureService]] = None,
        full_feature_names: bool = False,
        *,
        feature_service: Optional[Union[str, FeatureService]] = None,
        timestamp_column: Optional[str] = None,
    ) -> RetrievalJob:
        """A point-in-time-correct training set: every entity row with the features as they
        were known at its time. ``entity_df`` is a DataFrame, a pyarrow Table, or a path to
        a Parquet or CSV file; ``features`` are ``view:feature`` references (or pass
        ``feature_service``)."""
        if isinstance(features, FeatureService):
            feature_service, features = features, None
        service = feature_service.name if isinstance(feature_service, FeatureService) else feature_service
        if (features is None) == (service is None):
            raise errors.InvalidRequest(
                "pass features=[...] or feature_service=..., one of them", field="features"
            )
        if isinstance(features, str):
            features = [features]
        if not self.is_local:
            return self._remote_training_set(entity_df, features, service, full_feature_names, timestamp_column)
        with tempfile.TemporaryDirectory(prefix="tessera-") as folder:
            # Arrow IPC both ways: no Parquet encode and decode between this process and the binary.
            output = os.path.join(folder, "training.arrows")
            arguments = ["training-set", "--output", output, "--json"]
            if _frames.is_path(entity_df):
                arguments += ["--entities", str(Path(str(entity_df)).expanduser().resolve())]
                if timestamp_column:
                    arguments += ["--timestamp-column", timestamp_column]
            else:
                table = _frames.to_table(entity_df)  # type: ignore[arg-type]
                time = _frames.timestamp_column(table, timestamp_column)
                table = _frames.check_entities(table, self._join_keys(features, service), time)
                path = os.path.join(folder, "entities.arrows")
                with pa.OSFile(path, "wb") as sink, pa.ipc.new_stream(sink, _frames.undictionary(table).schema) as writer:
                    writer.write_table(_frames.undictionary(table))
                arguments += ["--entities", path, "--timestamp-column", time]
            if service is not None:
                arguments += ["--service", service]
            else:
                arguments += ["--features", ",".join(features or [])]
            if full_feature_names:
                arguments.append("--full-feature-names")
            self._cli(*arguments)
            with pa.memory_map(output) as source:
                return RetrievalJob(pa.ipc.open_stream(source).read_all())

    def _remote_training_set(
        self,
        entity_df: Union[_frames.Frame, str, Path],
        features: Optional[Sequence[str]],
        service: Optional[str],
        full_feature_names: bool,
        timestamp_column: Optional[str],
    ) -> RetrievalJob:
        """``POST /get-historical-features``: the entity rows go as an Arrow IPC stream (no
        Parquet encode here or decode there), the training set comes back as one."""
        if _frames.is_path(entity_df):
            path = Path(str(entity_df)).expanduser()
            table = _frames.read_file(path)
        else:
            table = _frames.to_table(entity_df)  # type: ignore[arg-type]
        time = _frames.timestamp_column(table, timestamp_column)
        table = _frames.check_entities(table, self._join_keys(features, service), time)
        table = _frames.undictionary(table)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        query = {"timestamp_column": time, "full_feature_names": "true" if full_feature_names else "false"}
        if service is not None:
            query["feature_service"] = service
        else:
            query["features"] = ",".join(features or [])
        answer = self._client().request_bytes(
            "POST", "/get-historical-features?" + urllib.parse.urlencode(query), sink.getvalue().to_pybytes(),
            "application/vnd.apache.arrow.stream",
        )
        return RetrievalJob(pa.ipc.open_stream(pa.py_buffer(answer)).read_all())

    # -- online ---------------------------------------------------------------------

    def get_online_features(
        self,
        features: Optional[Union[Sequence[str], FeatureService]] = None,
        entity_rows: Optional[Union[Sequence[Mapping[str, Any]], Mapping[str, Sequence[Any]]]] = None,
        full_feature_names: bool = False,
        *,
        feature_service: Optional[Union[str, FeatureService]] = None,
        request_context: Optional[Mapping[str, Sequence[Any]]] = None,
    ) -> OnlineResponse:
        """The latest feature values of ``entity_rows`` (a list of ``{join_key: value}``
        dicts, or a dict of columns), from the online store."""
        if isinstance(features, FeatureService):
            feature_service, features = features, None
        service = feature_service.name if isinstance(feature_service, FeatureService) else feature_service
        if entity_rows is None:
            raise errors.InvalidRequest("entity_rows is required", field="entity_rows", hint="[{'driver_id': 1001}]")
        if isinstance(entity_rows, Mapping):
            entities = {str(k): [_frames._json_value(v) for v in vs] for k, vs in entity_rows.items()}
        else:
            names: List[str] = []
            for row in entity_rows:
                names += [k for k in row if k not in names]
            entities = {k: [_frames._json_value(row.get(k)) for row in entity_rows] for k in names}
        body: Dict[str, Any] = {"entities": entities, "full_feature_names": full_feature_names}
        if service is not None:
            body["feature_service"] = service
        else:
            body["features"] = [features] if isinstance(features, str) else list(features or [])
        if request_context:
            body["request_context"] = {k: [_frames._json_value(v) for v in vs] for k, vs in request_context.items()}
        return OnlineResponse(self._client().request("POST", "/get-online-features", body))

    def push(
        self,
        push_source_name: str,
        df: _frames.Frame,
        allow_registry_cache: bool = True,
        to: Union[PushMode, str] = PushMode.ONLINE,
    ) -> None:
        """Writes rows to the views a push source feeds (``to``: online, offline, or both)."""
        target = to.value if isinstance(to, PushMode) else str(to)
        self._client().request(
            "POST", "/push", {"push_source_name": push_source_name, "df": _frames.json_columns(df), "to": target}
        )

    def write_to_online_store(
        self, feature_view_name: str, df: _frames.Frame, allow_registry_cache: bool = True
    ) -> None:
        """Writes rows straight into one view's online store (newest row per entity wins)."""
        self._client().request(
            "POST", "/write-to-online-store", {"feature_view_name": feature_view_name, "df": _frames.json_columns(df)}
        )

    # -- materialization ---------------------------------------------------------------

    def materialize(
        self, start_date: TimeLike, end_date: TimeLike, feature_views: Optional[Sequence[str]] = None
    ) -> None:
        """Loads the latest row per entity with event time in [start_date, end_date] into
        the online store (and rebuilds window-aggregation state)."""
        if self.is_local:
            arguments = ["materialize", _iso(start_date), _iso(end_date)]
            if feature_views:
                arguments += ["--views", ",".join(feature_views)]
            self._cli(*arguments)
            return
        body: Dict[str, Any] = {"start_ts": _iso(start_date), "end_ts": _iso(end_date)}
        if feature_views:
            body["feature_views"] = list(feature_views)
        self._client().request("POST", "/materialize", body)

    def materialize_incremental(self, end_date: TimeLike, feature_views: Optional[Sequence[str]] = None) -> None:
        """Loads what arrived since each view's last materialization, up to ``end_date``."""
        if self.is_local:
            arguments = ["materialize-incremental", _iso(end_date)]
            if feature_views:
                arguments += ["--views", ",".join(feature_views)]
            self._cli(*arguments)
            return
        body: Dict[str, Any] = {"end_ts": _iso(end_date)}
        if feature_views:
            body["feature_views"] = list(feature_views)
        self._client().request("POST", "/materialize-incremental", body)
