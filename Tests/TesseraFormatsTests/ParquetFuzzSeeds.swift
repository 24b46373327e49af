import Foundation
import TesseraColumnar
import TesseraCore
import TesseraTesting

@testable import TesseraFormats

/// Valid files for the structured fuzzer, covering every physical type, PLAIN and
/// dictionary encodings, nulls, lists, data pages v1 and v2, FIXED_LEN_BYTE_ARRAY and
/// each codec: `ParquetWriter`'s output under several options, the same rewritten with
/// v2 pages or fixed-length types, and pyarrow's (delta encodings, BYTE_STREAM_SPLIT,
/// INT96, decimals, fixed-size binary, legacy LZ4).
enum ParquetFuzzSeeds {
    struct Seed {
        var name: String
        var bytes: [UInt8]
    }

    static func all() throws -> [Seed] {
        try tessera() + pyarrow()
    }

    static func tessera() throws -> [Seed] {
        let batch = ParquetTestData.batch(rows: 150)
        let schema = ParquetTestData.schema
        func write(_ options: ParquetWriteOptions) throws -> [UInt8] {
            let folder = try TemporaryDirectory("parquet-structured-seeds")
            defer { folder.remove() }
            let path = folder.file("seed.parquet")
            let writer = try ParquetWriter(path: path, schema: schema, options: options)
            try writer.write(batch)
            try writer.close()
            return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        let levels: [(maxDefinition: Int, maxRepetition: Int)] = try {
            let file = try ParquetFile(bytes: try write(ParquetWriteOptions()), name: "levels")
            return file.mapping.leaves.map { ($0.maxDefinition, $0.maxRepetition) }
        }()
        func rewritten(_ bytes: [UInt8], v2: Bool, fixed: Bool) throws -> [UInt8] {
            var layout = try ParquetLayout(bytes)
            if v2 { try layout.convertDataPagesToV2(levels: levels) }
            if fixed { layout.retypeFixedWidthLeavesAsFixedLength() }
            return layout.bytes()
        }
        return [
            Seed(name: "tessera_snappy_dict", bytes: try write(ParquetWriteOptions(rowGroupRows: 60, pageSize: 512))),
            Seed(
                name: "tessera_zstd_plain",
                bytes: try write(ParquetWriteOptions(compression: .zstd, dictionary: false, pageSize: 256))),
            Seed(
                name: "tessera_uncompressed_dict",
                bytes: try write(ParquetWriteOptions(compression: .uncompressed, rowGroupRows: 100))),
            Seed(name: "tessera_gzip_dict", bytes: try write(ParquetWriteOptions(compression: .gzip, pageSize: 1024))),
            Seed(
                name: "tessera_lz4_v2_plain",
                bytes: try rewritten(
                    try write(ParquetWriteOptions(compression: .lz4Raw, dictionary: false, pageSize: 512)), v2: true,
                    fixed: false)),
            Seed(
                name: "tessera_zstd_v2_dict",
                bytes: try rewritten(
                    try write(ParquetWriteOptions(compression: .zstd, rowGroupRows: 80)), v2: true, fixed: false)),
            Seed(
                name: "tessera_flba_snappy_dict",
                bytes: try rewritten(try write(ParquetWriteOptions(rowGroupRows: 75)), v2: false, fixed: true)),
            Seed(
                name: "tessera_flba_v2_uncompressed",
                bytes: try rewritten(
                    try write(ParquetWriteOptions(compression: .uncompressed, dictionary: false, pageSize: 400)),
                    v2: true, fixed: true)),
        ]
    }

    static func pyarrow() throws -> [Seed] {
        let folder = try TemporaryDirectory("parquet-structured-seeds")
        defer { folder.remove() }
        try PythonOracle.run(ParquetOracleScripts.fuzzSeeds, arguments: [folder.path])
        try PythonOracle.run(fixedLengthSeeds, arguments: [folder.path])
        let names = [
            "dict_snappy", "v2_zstd_delta", "gzip_plain", "int96_lz4", "fixed_v2_snappy", "fixed_v1_uncompressed",
        ]
        return try names.map { name in
            Seed(
                name: "pyarrow_\(name)",
                bytes: Array(try Data(contentsOf: folder.url.appendingPathComponent("\(name).parquet"))))
        }
    }

    /// Writes (to the folder argv[1]) fixed-size binary and decimal columns, which pyarrow
    /// stores as FIXED_LEN_BYTE_ARRAY, with nulls, dictionaries and v2 pages.
    static let fixedLengthSeeds = #"""
        import decimal, os, sys
        import pyarrow as pa, pyarrow.parquet as pq
        out = sys.argv[1]
        n = 90
        t = pa.table({
            "fixed": pa.array([None if k % 4 == 0 else bytes([k % 7]) * 16 for k in range(n)], pa.binary(16)),
            "dec": pa.array([None if k % 5 == 0 else decimal.Decimal(k * 37) / 100 for k in range(n)],
                            pa.decimal128(12, 2)),
            "f": pa.array([k * 0.5 for k in range(n)], pa.float32()),
            "l": pa.array([[None if (k + j) % 3 == 0 else "e%d" % j for j in range(k % 3)] for k in range(n)],
                          pa.list_(pa.string())),
        })
        pq.write_table(t, os.path.join(out, "fixed_v2_snappy.parquet"), data_page_version="2.0", row_group_size=40,
                       data_page_size=256)
        pq.write_table(t, os.path.join(out, "fixed_v1_uncompressed.parquet"), use_dictionary=False, compression="none",
                       row_group_size=45)
        """#
}
