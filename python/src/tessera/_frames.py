"""Conversions between pandas / pyarrow and what Tessera reads and writes: Parquet files
(local mode), JSON columns (the HTTP API), and pandas frames with nullable dtypes and
timezone-aware UTC timestamps."""

from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import pandas as pd
import pyarrow as pa

from . import errors

Frame = Union[pd.DataFrame, pa.Table, Mapping[str, Sequence[Any]], Sequence[Mapping[str, Any]]]

_NULLABLE = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.UInt8Dtype(),
    pa.uint16(): pd.UInt16Dtype(),
    pa.uint32(): pd.UInt32Dtype(),
    pa.uint64(): pd.UInt64Dtype(),
    pa.float32(): pd.Float32Dtype(),
    pa.float64(): pd.Float64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
    pa.string(): pd.StringDtype(),
    pa.large_string(): pd.StringDtype(),
}


def to_table(data: Frame, what: str = "entity_df") -> pa.Table:
    """A pyarrow table of a DataFrame, a table, a dict of columns or a list of row dicts."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pd.DataFrame):
        return pa.Table.from_pandas(data, preserve_index=False)
    if isinstance(data, Mapping):
        return pa.table({str(k): list(v) for k, v in data.items()})
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return pa.Table.from_pylist([dict(row) for row in data])
    raise errors.InvalidRequest(
        f"{what} is a {type(data).__name__}",
        field=what,
        hint="pass a pandas DataFrame, a pyarrow Table, a dict of columns or a path to a Parquet or CSV file",
    )


def utc_timestamps(table: pa.Table) -> pa.Table:
    """Timestamp columns in microseconds and UTC (naive ones are read as UTC)."""
    if not any(
        (pa.types.is_timestamp(f.type) and f.type != pa.timestamp("us", "UTC")) or pa.types.is_date(f.type)
        for f in table.schema
    ):
        return table
    columns = []
    fields = []
    for field, column in zip(table.schema, table.columns):
        if pa.types.is_timestamp(field.type) and field.type != pa.timestamp("us", "UTC"):
            # A naive time's value is read as UTC (pyarrow keeps the stored instant).
            column = column.cast(pa.timestamp("us", "UTC"), safe=False)
        elif pa.types.is_date(field.type):
            column = column.cast(pa.timestamp("us")).cast(pa.timestamp("us", "UTC"))
        columns.append(column)
        fields.append(pa.field(field.name, column.type, field.nullable, field.metadata))
    return pa.table(columns, schema=pa.schema(fields))


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """A DataFrame with nullable dtypes (a missing integer is <NA>, never 0 or NaN) and
    timezone-aware UTC timestamps."""
    return utc_timestamps(table).to_pandas(types_mapper=_NULLABLE.get)


def _json_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds") + "Z"
    if isinstance(value, _dt.date):
        return value.isoformat() + "T00:00:00Z"
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


def json_columns(data: Frame, what: str = "df") -> Dict[str, List[Any]]:
    """Columns as JSON arrays, as `/push` and `/write-to-online-store` take them:
    timestamps as ISO 8601 in UTC with microseconds, NaN and missing values as null."""
    table = to_table(data, what)
    return {name: [_json_value(v) for v in table.column(name).to_pylist()] for name in table.column_names}


def timestamp_column(table: pa.Table, preferred: Optional[str] = None) -> str:
    """The entity rows' time column: ``preferred``, ``event_timestamp``, or the only
    timestamp column (as Feast infers it)."""
    if preferred:
        if preferred not in table.column_names:
            raise errors.InvalidRequest(
                f"entity_df has no column '{preferred}'", field=f"entity_df.{preferred}",
                hint=f"its columns: {', '.join(table.column_names)}",
            )
        return preferred
    if "event_timestamp" in table.column_names:
        return "event_timestamp"
    stamps = [f.name for f in table.schema if pa.types.is_timestamp(f.type) or pa.types.is_date(f.type)]
    if len(stamps) == 1:
        return stamps[0]
    raise errors.InvalidRequest(
        "entity_df has no event_timestamp column" + (f" (and several timestamp columns: {', '.join(stamps)})" if stamps else ""),
        field="entity_df.event_timestamp",
        hint="add the time each row is labelled at as 'event_timestamp', or pass timestamp_column=...",
    )


def check_entities(table: pa.Table, join_keys: Mapping[str, str], time: str) -> pa.Table:
    """Checks the entity rows before anything runs: every join key present with a type that
    fits it, the time column a timestamp (ISO strings are parsed). Returns the table with
    its times as UTC microseconds."""
    for key, declared in join_keys.items():
        if key not in table.column_names:
            raise errors.InvalidRequest(
                f"entity_df has no column '{key}', the join key of the requested features",
                field=f"entity_df.{key}",
                hint=f"its columns: {', '.join(table.column_names)}",
            )
        actual = table.schema.field(key).type
        integer = declared in ("int32", "int64")
        fits = (
            (integer and pa.types.is_integer(actual))
            or (declared in ("string",) and (pa.types.is_string(actual) or pa.types.is_large_string(actual)))
            or (declared == "bytes" and pa.types.is_binary(actual))
            or pa.types.is_null(actual)
        )
        if not fits:
            shown = "string" if pa.types.is_string(actual) or pa.types.is_large_string(actual) else str(actual)
            raise errors.InvalidRequest(
                f"entity_df column '{key}' is {shown}, but join key '{key}' is {declared}",
                field=f"entity_df.{key}",
                hint="convert the column, for example df['%s'] = df['%s'].astype('%s')"
                % (key, key, "Int64" if integer else "string"),
            )
    kind = table.schema.field(time).type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        try:
            parsed = pd.to_datetime(pd.Series(table.column(time).to_pylist()), utc=True, format="ISO8601")
        except (ValueError, TypeError) as error:
            raise errors.InvalidRequest(
                f"entity_df column '{time}' holds text that is not a time: {error}", field=f"entity_df.{time}"
            ) from None
        table = table.set_column(table.column_names.index(time), time, pa.array(parsed, pa.timestamp("us", "UTC")))
    elif not (pa.types.is_timestamp(kind) or pa.types.is_date(kind)):
        raise errors.InvalidRequest(
            f"entity_df column '{time}' is {kind}, not a timestamp",
            field=f"entity_df.{time}",
            hint="convert it with pandas.to_datetime(..., utc=True)",
        )
    return utc_timestamps(table)


def is_path(data: Any) -> bool:
    return isinstance(data, (str, Path))


def undictionary(table: pa.Table) -> pa.Table:
    """``table`` with dictionary-encoded columns (pandas categoricals) as their values:
    Tessera takes no dictionary-encoded columns."""
    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(field.type.value_type))
    return table


def read_file(path: Path) -> pa.Table:
    """A table from a Parquet, CSV or Arrow IPC (``.arrow`` file, ``.arrows`` stream) file."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pacsv.read_csv(path)
    if suffix in (".arrow", ".arrows"):
        with pa.memory_map(str(path)) as source:
            try:
                return pa.ipc.open_file(source).read_all()
            except pa.ArrowInvalid:
                source.seek(0)
                return pa.ipc.open_stream(source).read_all()
    return pq.read_table(path)
