/// Python sources run by the interop tests. `canonical` turns a pyarrow table into
/// one string per value in the same notation `ParquetCanonical` (Swift) produces:
/// ints in decimal, floats as their bit patterns, timestamps as UTC microseconds.
enum ParquetOracleScripts {
    static let canonical = #"""
        import json, struct, sys, decimal
        import pyarrow as pa, pyarrow.compute as pc, pyarrow.parquet as pq

        def tessera_type(t):
            if pa.types.is_boolean(t): return "bool"
            if pa.types.is_int8(t) or pa.types.is_int16(t) or pa.types.is_int32(t) or pa.types.is_uint8(t) or pa.types.is_uint16(t): return "int32"
            if pa.types.is_int64(t) or pa.types.is_uint32(t) or pa.types.is_uint64(t): return "int64"
            if pa.types.is_float32(t): return "float32"
            if pa.types.is_float64(t) or pa.types.is_decimal(t): return "float64"
            if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t): return "string"
            if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t): return "bytes"
            if pa.types.is_timestamp(t) or pa.types.is_date(t): return "timestamp"
            if pa.types.is_list(t) or pa.types.is_large_list(t): return "list<" + tessera_type(t.value_type) + ">"
            raise ValueError("no tessera type for %s" % t)

        def micros(arr):
            t = arr.type
            if pa.types.is_date32(t):
                return [None if v is None else v * 86400000000 for v in arr.cast(pa.int32()).to_pylist()]
            if pa.types.is_date64(t):
                return [None if v is None else v * 1000 for v in arr.cast(pa.int64()).to_pylist()]
            raw = arr.cast(pa.int64()).to_pylist()
            unit = t.unit
            def conv(v):
                if v is None: return None
                if unit == "s": return v * 1000000
                if unit == "ms": return v * 1000
                if unit == "us": return v
                return v // 1000
            return [conv(v) for v in raw]

        def scalar_strings(arr):
            t = arr.type
            if pa.types.is_dictionary(t):
                arr = arr.cast(t.value_type); t = arr.type
            if pa.types.is_timestamp(t) or pa.types.is_date(t):
                return [None if v is None else "t%d" % v for v in micros(arr)]
            vals = arr.to_pylist()
            out = []
            for v in vals:
                if v is None: out.append(None); continue
                if pa.types.is_boolean(t): out.append("true" if v else "false")
                elif pa.types.is_integer(t): out.append(str(v))
                elif pa.types.is_float32(t): out.append("f%08x" % struct.unpack("<I", struct.pack("<f", v))[0])
                elif pa.types.is_float64(t): out.append("d%016x" % struct.unpack("<Q", struct.pack("<d", v))[0])
                elif pa.types.is_decimal(t):
                    unscaled = int(v.scaleb(t.scale))
                    out.append("d%016x" % struct.unpack("<Q", struct.pack("<d", float(unscaled) / (10 ** t.scale)))[0])
                elif pa.types.is_string(t) or pa.types.is_large_string(t): out.append("s" + v)
                else: out.append("b" + bytes(v).hex())
            return out

        def column_strings(col):
            arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
            t = arr.type
            if pa.types.is_list(t) or pa.types.is_large_list(t):
                flat = scalar_strings(arr.values) if len(arr) else []
                offsets = arr.offsets.to_pylist()
                out = []
                for i in range(len(arr)):
                    if not arr[i].is_valid: out.append("null"); continue
                    items = flat[offsets[i]:offsets[i + 1]]
                    out.append("[" + ",".join("null" if x is None else x for x in items) + "]")
                return out
            return ["null" if x is None else x for x in scalar_strings(arr)]

        def canonical(table):
            return {"schema": [[f.name, tessera_type(f.type)] for f in table.schema],
                    "rows": table.num_rows,
                    "columns": {name: column_strings(table.column(name)) for name in table.column_names}}
        """#
}

extension ParquetOracleScripts {
    /// Writes a matrix of files with pyarrow and DuckDB into argv[1]; prints a JSON manifest:
    /// for each file its expected canonical content, or the error Tessera must report.
    static let readMatrix =
        canonical + "\n" + #"""
            import os, datetime, duckdb
            import numpy as np
            out = sys.argv[1]
            manifest = {}
            rng = np.random.default_rng(7)
            N = 3000

            def nulls(values, every):
                return [None if i % every == 3 else v for i, v in enumerate(values)]

            ints = rng.integers(-10**6, 10**6, N)
            base = {
                "b": pa.array(nulls([bool(x % 3) for x in ints], 7), pa.bool_()),
                "i8": pa.array(nulls([int(x % 100) for x in ints], 11), pa.int8()),
                "i16": pa.array(nulls([int(x % 30000) for x in ints], 13), pa.int16()),
                "i32": pa.array(nulls([int(x) for x in ints], 5), pa.int32()),
                "i64": pa.array(nulls([int(x) * 1000003 for x in ints], 9), pa.int64()),
                "i64_req": pa.array([int(x) % 50 for x in ints], pa.int64()),
                "f32": pa.array(nulls([float(np.float32(x / 7.0)) for x in ints], 6), pa.float32()),
                "f64": pa.array(nulls([x / 3.0 for x in ints], 8), pa.float64()),
                "s": pa.array(nulls(["v%d" % (x % 200) for x in ints], 4), pa.string()),
                "s_long": pa.array(nulls(["long-string-%d-%s" % (x, "x" * int(x % 17)) for x in ints], 10), pa.string()),
                "bin": pa.array(nulls([bytes([int(x) % 256, 0, 255]) * int(1 + x % 3) for x in ints], 12), pa.binary()),
                "ts": pa.array(nulls([1767225600000000 + int(x) * 1000 for x in ints], 7), pa.timestamp("us", tz="UTC")),
            }
            schema_req = pa.schema([pa.field(n, a.type, nullable=(n != "i64_req")) for n, a in base.items()])
            table = pa.Table.from_arrays(list(base.values()), schema=schema_req)

            def write(name, tbl, **kw):
                path = os.path.join(out, name + ".parquet")
                try:
                    pq.write_table(tbl, path, **kw)
                except Exception as e:
                    print("skip", name, e, file=sys.stderr); return
                manifest[name] = canonical(pq.read_table(path))

            write("plain_none", table, use_dictionary=False, compression="none")
            write("dict_snappy", table, compression="snappy")
            # A compressed PLAIN v1 page whose two nulls' missing values (2 x 4 bytes) take
            # exactly as many bytes as its levels section: its size alone says "no levels".
            write("plain_nulls_as_long_as_levels", pa.table({"f": pa.array([1.0] * 9 + [None, None] + [2.0] * 3,
                  pa.float32())}), use_dictionary=False, compression="snappy", data_page_version="1.0")
            write("dict_v2_zstd", table, compression="zstd", data_page_version="2.0")
            write("plain_v2_gzip", table, compression="gzip", data_page_version="2.0", use_dictionary=False)
            write("lz4raw", table, compression="lz4")
            write("v2_uncompressed_small_pages", table, compression="none", data_page_version="2.0", data_page_size=512)
            write("many_row_groups", table, row_group_size=250, data_page_size=1024, compression="snappy")
            write("delta", table, use_dictionary=False, compression="zstd", column_encoding={
                "i32": "DELTA_BINARY_PACKED", "i64": "DELTA_BINARY_PACKED", "i64_req": "DELTA_BINARY_PACKED",
                "s": "DELTA_BYTE_ARRAY", "s_long": "DELTA_LENGTH_BYTE_ARRAY", "bin": "DELTA_BYTE_ARRAY", "ts": "DELTA_BINARY_PACKED"})
            write("delta_v2", table, use_dictionary=False, data_page_version="2.0", column_encoding={
                "i32": "DELTA_BINARY_PACKED", "i64": "DELTA_BINARY_PACKED", "s": "DELTA_LENGTH_BYTE_ARRAY", "s_long": "DELTA_BYTE_ARRAY"})
            write("bss", table, use_dictionary=False, column_encoding={
                "f32": "BYTE_STREAM_SPLIT", "f64": "BYTE_STREAM_SPLIT", "i32": "BYTE_STREAM_SPLIT", "i64": "BYTE_STREAM_SPLIT"})
            write("bss_flag", table, use_byte_stream_split=["f32", "f64"], compression="snappy")
            big = pa.table({"k": pa.array(["key-%06d-%s" % (i, "p" * (i % 11)) for i in range(20000)]),
                            "n": pa.array([i * 7919 % 100003 for i in range(20000)], pa.int64())})
            write("dict_fallback", big, dictionary_pagesize_limit=2048, data_page_size=4096)
            write("dict_fallback_v2", big, dictionary_pagesize_limit=2048, data_page_version="2.0", compression="zstd")

            ts_raw = [1767225600123456 + i * 86400123457 for i in range(-40, 60)]
            times = pa.table({
                "ms_utc": pa.array([v // 1000 for v in ts_raw], pa.timestamp("ms", tz="UTC")),
                "ms_naive": pa.array(nulls([v // 1000 for v in ts_raw], 5), pa.timestamp("ms")),
                "us_utc": pa.array(ts_raw, pa.timestamp("us", tz="UTC")),
                "us_naive": pa.array(ts_raw, pa.timestamp("us")),
                "ns_utc": pa.array([v * 1000 + 999 for v in ts_raw], pa.timestamp("ns", tz="UTC")),
                "ns_naive": pa.array(nulls([v * 1000 - 1 for v in ts_raw], 4), pa.timestamp("ns")),
                "s_utc": pa.array([v // 1000000 for v in ts_raw], pa.timestamp("s", tz="UTC")),
                "date": pa.array(nulls([v // 86400000000 for v in ts_raw], 6), pa.date32()),
            })
            write("timestamps", times)
            write("timestamps_v2_plain", times, use_dictionary=False, data_page_version="2.0")
            write("int96", times.drop(["date"]), use_deprecated_int96_timestamps=True)
            dec = [decimal.Decimal(int(x)).scaleb(-2) for x in ints[:500]]
            decs = pa.table({
                "d9": pa.array(nulls(dec, 7), pa.decimal128(9, 2)),
                "d18": pa.array([d * 1000000 for d in dec], pa.decimal128(18, 2)),
                "d30": pa.array(nulls([d * 10**15 for d in dec], 9), pa.decimal128(30, 2)),
            })
            write("decimals_flba", decs)
            write("decimals_int", decs, store_decimal_as_integer=True)
            uints = pa.table({
                "u8": pa.array([int(x) % 256 for x in ints[:400]], pa.uint8()),
                "u16": pa.array(nulls([int(x) % 65536 for x in ints[:400]], 3), pa.uint16()),
                "u32": pa.array([4000000000 + int(x) % 294967295 if x % 2 else int(x) % 100 for x in ints[:400]], pa.uint32()),
                "u64": pa.array([int(x) % 2**62 for x in ints[:400]], pa.uint64()),
            })
            write("uints", uints)
            write("uints_plain", uints, use_dictionary=False)
            lists = pa.table({
                "li": pa.array([None if i % 9 == 0 else ([] if i % 7 == 0 else [None if (i + j) % 5 == 0 else i * 10 + j for j in range(i % 4 + 1)]) for i in range(700)], pa.list_(pa.int64())),
                "ls": pa.array([None if i % 8 == 0 else ["s%d" % (i + j) if (i + j) % 6 else None for j in range(i % 3)] for i in range(700)], pa.list_(pa.string())),
                "lf": pa.array([[float(i) / (j + 1) for j in range(i % 5)] for i in range(700)], pa.list_(pa.float64())),
                "lb": pa.array([[bool(j % 2) for j in range(i % 3)] if i % 4 else None for i in range(700)], pa.list_(pa.bool_())),
                "lt": pa.array([[1767225600000000 + i * 1000 + j for j in range(i % 3)] for i in range(700)], pa.list_(pa.timestamp("us", tz="UTC"))),
            })
            lists_req = lists.cast(pa.schema([
                pa.field("li", pa.list_(pa.int64())), pa.field("ls", pa.list_(pa.string())),
                pa.field("lf", pa.list_(pa.field("element", pa.float64(), nullable=False)), nullable=False),
                pa.field("lb", pa.list_(pa.bool_())), pa.field("lt", pa.list_(pa.timestamp("us", tz="UTC")))]))
            write("lists", lists_req)
            write("lists_v2_small_pages", lists_req, data_page_version="2.0", data_page_size=256, row_group_size=300)
            write("lists_plain_legacy_names", lists_req, use_dictionary=False, use_compliant_nested_type=False)
            fixed = pa.table({"fx": pa.array(nulls([bytes([i % 256, (i * 7) % 256, 1]) for i in range(300)], 5), pa.binary(3)),
                              "large_s": pa.array(["x%d" % i for i in range(300)], pa.large_string())})
            write("fixed_binary", fixed)
            write("fixed_binary_plain", fixed, use_dictionary=False, column_encoding={"fx": "PLAIN"})
            write("empty", table.slice(0, 0))
            write("one_row", table.slice(5, 1))
            write("all_nulls", pa.table({"x": pa.array([None] * 100, pa.int64()), "y": pa.array([None] * 100, pa.string())}))

            # DuckDB writes its own way (its own page layout, dictionary and statistics).
            con = duckdb.connect()
            for name, codec in [("duckdb_snappy", "snappy"), ("duckdb_zstd", "zstd"), ("duckdb_uncompressed", "uncompressed")]:
                path = os.path.join(out, name + ".parquet")
                con.execute(f"""COPY (SELECT i::BIGINT AS id, (i % 97)::INTEGER AS small, CASE WHEN i % 5 = 0 THEN NULL ELSE i / 3.0 END::DOUBLE AS d,
                    (i % 13)::FLOAT AS f, 'name-' || (i % 50)::VARCHAR AS s, CASE WHEN i % 4 = 0 THEN NULL ELSE i % 2 = 0 END AS b,
                    TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(i * 37) AS ts, DATE '2020-01-01' + (i % 400)::INTEGER AS day,
                    [i, i + 1, NULL][1:(i % 4)] AS l, (i * 1.25)::DECIMAL(12, 2) AS dec
                    FROM range(5000) t(i)) TO '{path}' (FORMAT parquet, COMPRESSION {codec}, ROW_GROUP_SIZE 2048)""")
                manifest[name] = canonical(pq.read_table(path))

            # Files Tessera must refuse with a clear error.
            errors = {}
            try:
                pq.write_table(table.slice(0, 50), os.path.join(out, "brotli.parquet"), compression="brotli")
                errors["brotli"] = "BROTLI"
            except Exception as e:
                print("no brotli", e, file=sys.stderr)
            pq.write_table(pa.table({"u": pa.array([1, 2**63 + 5, 3], pa.uint64())}), os.path.join(out, "uint64_big.parquet"))
            errors["uint64_big"] = "UINT64"
            pq.write_table(pa.table({"st": pa.array([{"a": 1}], pa.struct([("a", pa.int64())])), "ok": pa.array([1], pa.int64())}),
                           os.path.join(out, "struct.parquet"))
            print(json.dumps({"files": manifest, "errors": errors}))
            """#
}

extension ParquetOracleScripts {
    /// Reads each file in argv with pyarrow and DuckDB; prints their canonical content and
    /// whether each chunk's statistics agree with the values pyarrow reads.
    static let readBack =
        canonical + "\n" + #"""
            import duckdb
            con = duckdb.connect()
            result = {}
            for path in sys.argv[1:]:
                pf = pq.ParquetFile(path)
                table = pf.read()
                problems = []
                for g in range(pf.metadata.num_row_groups):
                    rg = pf.read_row_group(g)
                    for c in range(pf.metadata.num_columns):
                        col = pf.metadata.row_group(g).column(c)
                        name = col.path_in_schema.split(".")[0]
                        if pa.types.is_list(table.schema.field(name).type): continue
                        data = rg.column(name)
                        st = col.statistics
                        if st is None: problems.append("%s rg %d: no statistics" % (name, g)); continue
                        if st.null_count != data.null_count: problems.append("%s rg %d: null_count %s vs %s" % (name, g, st.null_count, data.null_count))
                        mm = pc.min_max(data).as_py()
                        if mm["min"] is None: continue
                        lo, hi = st.min, st.max
                        if pa.types.is_timestamp(data.type):
                            lo, hi = pa.scalar(lo, data.type).as_py(), pa.scalar(hi, data.type).as_py()
                        if lo != mm["min"] or hi != mm["max"]:
                            problems.append("%s rg %d: stats %r..%r vs data %r..%r" % (name, g, lo, hi, mm["min"], mm["max"]))
                duck = con.sql("SELECT * FROM read_parquet('%s')" % path).to_arrow_table()
                result[path] = {"pyarrow": canonical(table), "duckdb": canonical(duck), "stats": problems,
                                "row_groups": pf.metadata.num_row_groups,
                                "codecs": sorted({pf.metadata.row_group(g).column(c).compression for g in range(pf.metadata.num_row_groups) for c in range(pf.metadata.num_columns)}),
                                "encodings": sorted({e for g in range(pf.metadata.num_row_groups) for c in range(pf.metadata.num_columns) for e in pf.metadata.row_group(g).column(c).encodings})}
            print(json.dumps(result))
            """#
}

extension ParquetOracleScripts {
    /// Small valid files in several layouts (argv[1] is the folder): the fuzz test's seeds.
    static let fuzzSeeds = #"""
        import os, sys
        import pyarrow as pa, pyarrow.parquet as pq
        out = sys.argv[1]
        n = 120
        t = pa.table({
            "i": pa.array([None if k % 7 == 0 else k * 3 for k in range(n)], pa.int64()),
            "s": pa.array([None if k % 5 == 0 else "v%d" % (k % 9) for k in range(n)], pa.string()),
            "f": pa.array([k / 4 for k in range(n)], pa.float64()),
            "b": pa.array([k % 3 == 0 for k in range(n)], pa.bool_()),
            "ts": pa.array([1767225600000 + k for k in range(n)], pa.timestamp("ms", tz="UTC")),
            "l": pa.array([None if k % 6 == 0 else list(range(k % 4)) for k in range(n)], pa.list_(pa.int32())),
        })
        pq.write_table(t, os.path.join(out, "dict_snappy.parquet"), row_group_size=50)
        pq.write_table(t, os.path.join(out, "v2_zstd_delta.parquet"), data_page_version="2.0", compression="zstd", use_dictionary=False,
                       column_encoding={"i": "DELTA_BINARY_PACKED", "s": "DELTA_BYTE_ARRAY", "f": "BYTE_STREAM_SPLIT"})
        pq.write_table(t, os.path.join(out, "gzip_plain.parquet"), compression="gzip", use_dictionary=False, data_page_size=200)
        pq.write_table(t.drop(["l"]), os.path.join(out, "int96_lz4.parquet"), compression="lz4", use_deprecated_int96_timestamps=True)
        """#
}

extension ParquetOracleScripts {
    /// A hive-partitioned folder written by pyarrow (argv[1]), a file with sorted timestamps in
    /// small row groups (argv[2]); prints the dataset's canonical content sorted by id, and the
    /// per-row-group statistics pyarrow reports for the timestamp file.
    static let datasetAndStatistics =
        canonical + "\n" + #"""
            import pyarrow.dataset as ds
            folder, stats_path = sys.argv[1], sys.argv[2]
            n = 600
            t = pa.table({
                "id": pa.array(range(n), pa.int64()),
                "at": pa.array([1767225600000000 + i * 60000000 for i in range(n)], pa.timestamp("us", tz="UTC")),
                "name": pa.array(["n%d" % (i % 17) for i in range(n)], pa.string()),
                "year": pa.array([2025 + i % 2 for i in range(n)], pa.int64()),
                "region": pa.array(["eu west" if i % 3 else "us" for i in range(n)], pa.string()),
            })
            pq.write_to_dataset(t, folder, partition_cols=["year", "region"], row_group_size=100)
            d = ds.dataset(folder, format="parquet", partitioning="hive").to_table().sort_by("id")
            s = pa.table({"at": pa.array([1767225600000 + i * 1000 for i in range(1000)], pa.timestamp("ms", tz="UTC")),
                          "v": pa.array([None if i % 10 == 0 else i for i in range(1000)], pa.int32()),
                          "s": pa.array(["k%04d" % i for i in range(1000)], pa.string())})
            pq.write_table(s, stats_path, row_group_size=100)
            md = pq.ParquetFile(stats_path).metadata
            stats = []
            for g in range(md.num_row_groups):
                row = {}
                for c in range(md.num_columns):
                    st = md.row_group(g).column(c).statistics
                    name = md.schema.column(c).name
                    lo, hi = st.min, st.max
                    if name == "at":
                        lo, hi = "t%d" % (pa.scalar(lo, pa.timestamp("ms")).value * 1000), "t%d" % (pa.scalar(hi, pa.timestamp("ms")).value * 1000)
                    elif name == "s":
                        lo, hi = "s" + lo, "s" + hi
                    else:
                        lo, hi = str(lo), str(hi)
                    row[name] = [lo, hi, st.null_count]
                stats.append(row)
            print(json.dumps({"dataset": canonical(d), "stats": stats}))
            """#
}

extension ParquetOracleScripts {
    /// A list column with required elements (3-level), for rewriting into the legacy 2-level form (argv[1]).
    static let requiredElementList = #"""
        import sys
        import pyarrow as pa, pyarrow.parquet as pq
        t = pa.table({"id": pa.array(range(50), pa.int64()),
                      "xs": pa.array([None if i % 7 == 0 else list(range(i % 4)) for i in range(50)],
                                     pa.list_(pa.field("element", pa.int64(), nullable=False)))})
        pq.write_table(t, sys.argv[1], use_dictionary=False)
        r = pa.table({"xs": pa.array([list(range(i % 3)) for i in range(30)],
                                     pa.list_(pa.field("element", pa.int64(), nullable=False)))},
                     schema=pa.schema([pa.field("xs", pa.list_(pa.field("element", pa.int64(), nullable=False)), nullable=False)]))
        pq.write_table(r, sys.argv[2], use_dictionary=False)
        """#
}
