import PostgresNIO
import TesseraCore
import TesseraOnline
import TesseraPostgres

extension PostgresOnlineStore: BackendProbing {
    /// Connects (creating the tables if missing), times `SELECT 1`, reads the server's
    /// version, and writes and reads a probe row in a transaction it rolls back.
    public func probe(role: String) -> [BackendCheck] {
        var checks = BackendChecks(role: role)
        guard
            checks.connect(
                "\(place) answers as \(endpoint.user) on database \(endpoint.database)",
                {
                    () throws(OnlineStoreError) in try run("SELECT 1")
                })
        else { return checks.all }
        let versions = try? run(
            "SELECT current_setting('server_version_num'), current_setting('server_version')"
        ).first.map { try $0.decode((String, String).self) }
        if let (number, version) = versions ?? nil, let numeric = Int(number), numeric >= 110_000 {
            checks.add("version", .ok, "PostgreSQL \(version) (11 or later needed)")
        } else {
            checks.add(
                "version", .failed,
                "PostgreSQL \((versions ?? nil)?.1 ?? "of unknown version"): Tessera needs 11 or later (identity columns, ON CONFLICT)"
            )
        }
        let (permissions, milliseconds) = Measure.timed { () throws(OnlineStoreError) in
            try connections.withConnection({ [self] in storeError($0) }) { (connection) throws(OnlineStoreError) in
                try run("BEGIN", on: connection)
                defer { _ = try? run("ROLLBACK", on: connection) }
                let made = try run(
                    "INSERT INTO \(unescaped: tables.views)(name) VALUES ('tessera doctor probe') RETURNING id",
                    on: connection)
                let id = try decode("view id") { try made.first?.decode(Int32.self) ?? 0 }
                try run(
                    """
                    INSERT INTO \(unescaped: tables.rows)(view_id, key, event_ts, created_ts, layout, value)
                    VALUES (\(id), '\\x00'::bytea, 0, 0, 0, '\\x00'::bytea)
                    """, on: connection)
                try run("SELECT count(*) FROM \(unescaped: tables.rows) WHERE view_id = \(id)", on: connection)
                try run("SELECT count(*) FROM \(unescaped: tables.states) WHERE view_id = \(id)", on: connection)
            }
        }
        switch permissions {
        case .success:
            checks.add(
                "permissions", .ok,
                "INSERT and SELECT work on the tables of schema '\(configuration.schema)' (probe rolled back)",
                milliseconds)
        case .failure(let error):
            checks.add("permissions", .failed, error.description)
        }
        return checks.all
    }
}
