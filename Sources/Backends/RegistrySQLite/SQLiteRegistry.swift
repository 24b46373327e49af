import Foundation
import TesseraCore
import TesseraDefinitions
import TesseraRegistry
import TesseraSQLite

/// The embedded registry: one SQLite file (by default `.tessera/registry.db`).
///
/// Each apply is one `BEGIN IMMEDIATE … COMMIT` transaction that inserts a row
/// holding the whole applied definitions; SQLite's journal makes it atomic and
/// durable (`synchronous=FULL`), so a process killed mid-apply leaves the
/// previous version intact.
public final class SQLiteRegistry: RegistryStore {
    public let path: String
    private var connection: SQLiteConnection?
    /// Whether `connection` may write (reads open the file read-only and create nothing).
    private var writable = false

    /// Schema version of the file's tables, for future migrations.
    static let schemaVersion = 1

    /// Opens the registry at `path`; the file is created only by the first `apply`.
    public init(path: String) {
        self.path = path
    }

    private var exists: Bool { FileManager.default.fileExists(atPath: path) }

    private func wrap(_ error: any Error) -> RegistryError {
        if let error = error as? SQLiteError {
            if error.isCorruption {
                return RegistryError(
                    .corrupt, path: path,
                    "not a readable registry database (\(error.message)); restore it from a backup or move it aside to start afresh"
                )
            }
            return RegistryError(.io, path: path, error.message)
        }
        if let error = error as? RegistryError { return error }
        return RegistryError(.io, path: path, "\(error)")
    }

    /// The open connection; creates the file and tables when `create` is set.
    private func open(create: Bool) throws(RegistryError) -> SQLiteConnection? {
        if let connection, writable || !create { return connection }
        if !create && !exists { return nil }
        do {
            if create {
                let folder = (path as NSString).deletingLastPathComponent
                if !folder.isEmpty {
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                }
            }
            // Reads open read-write where they may: a process killed inside a write leaves a hot
            // journal that only a writable connection can roll back (a read-only one fails with
            // "attempt to write a readonly database"). Read-only is the fallback for files we
            // may not write.
            let db: SQLiteConnection
            if create {
                db = try SQLiteConnection(path: path, mode: .readWriteCreate)
            } else if let writableDB = try? SQLiteConnection(path: path, mode: .readWrite) {
                db = writableDB
            } else {
                db = try SQLiteConnection(path: path, mode: .readOnly)
            }
            // Reading the schema first detects a file that is not a database before anything is written.
            let check = try db.prepare("SELECT count(*) FROM sqlite_master")
            _ = try check.step()
            if create {
                try db.execute("PRAGMA synchronous=FULL")
                try db.execute(
                    """
                    CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    CREATE TABLE IF NOT EXISTS versions(
                        version INTEGER PRIMARY KEY,
                        applied_at INTEGER NOT NULL,
                        user TEXT NOT NULL,
                        project TEXT NOT NULL,
                        digest TEXT NOT NULL,
                        plan TEXT NOT NULL,
                        definitions TEXT NOT NULL
                    );
                    CREATE TABLE IF NOT EXISTS watermarks(
                        view TEXT PRIMARY KEY,
                        start INTEGER NOT NULL,
                        end INTEGER NOT NULL,
                        recorded_at INTEGER NOT NULL
                    );
                    CREATE TABLE IF NOT EXISTS pending_drops(view TEXT PRIMARY KEY);
                    INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '\(SQLiteRegistry.schemaVersion)');
                    """)
            }
            connection = db
            writable = create
            return db
        } catch {
            throw wrap(error)
        }
    }

    /// A read-only connection when the registry holds `table`; `nil` for a registry never written.
    private func reader(_ table: String) throws(RegistryError) -> SQLiteConnection? {
        guard let db = try open(create: false) else { return nil }
        do {
            let statement = try db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
            statement.bind(1, table)
            return try statement.step() ? db : nil
        } catch {
            throw wrap(error)
        }
    }

    public func head() throws(RegistryError) -> (version: Int, digest: String)? {
        guard let db = try reader("versions") else { return nil }
        do {
            let statement = try db.prepare("SELECT version, digest FROM versions ORDER BY version DESC LIMIT 1")
            guard try statement.step() else { return nil }
            return (Int(statement.int64(0)), statement.string(1))
        } catch {
            throw wrap(error)
        }
    }

    public func current() throws(RegistryError) -> RegistrySnapshot? {
        guard let db = try reader("versions") else { return nil }
        do {
            let statement = try db.prepare(
                "SELECT version, applied_at, user, digest, plan, project, definitions FROM versions ORDER BY version DESC LIMIT 1"
            )
            guard try statement.step() else { return nil }
            let version = try decodeVersion(statement)
            let definitions = try JSONDecoder().decode(Definitions.self, from: Data(statement.string(6).utf8))
            return RegistrySnapshot(version: version, project: statement.string(5), definitions: definitions)
        } catch {
            throw wrap(error)
        }
    }

    private func decodeVersion(_ statement: SQLiteStatement) throws -> RegistryVersion {
        let plan = try JSONDecoder().decode(Plan.self, from: Data(statement.string(4).utf8))
        return RegistryVersion(
            version: Int(statement.int64(0)), appliedAt: Timestamp(microseconds: statement.int64(1)),
            user: statement.string(2), digest: statement.string(3), plan: plan)
    }

    public func apply(
        _ definitions: Definitions, plan: Plan, project: String, user: String, expectedVersion: Int?,
        at time: Timestamp, dropOnline: [String]
    ) throws(RegistryError) -> RegistryVersion {
        guard let db = try open(create: true) else {
            throw RegistryError(.unreadable, path: path, "cannot create the registry")
        }
        let normalized = definitions.normalized
        let digest = CanonicalFields.digest(normalized)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let definitionsJSON = String(decoding: try encoder.encode(normalized), as: UTF8.self)
            let planJSON = String(decoding: try encoder.encode(plan), as: UTF8.self)
            return try db.transaction { () throws -> RegistryVersion in
                let head = try db.prepare("SELECT version, project FROM versions ORDER BY version DESC LIMIT 1")
                var latest: Int? = nil
                var applied: String?
                if try head.step() {
                    latest = Int(head.int64(0))
                    applied = head.string(1)
                }
                try ApplyRules.check(
                    latest: latest.flatMap { version in applied.map { (version, $0) } }, project: project,
                    expectedVersion: expectedVersion, path: path)
                let version = (latest ?? 0) + 1
                let insert = try db.prepare(
                    "INSERT INTO versions(version, applied_at, user, project, digest, plan, definitions) VALUES (?, ?, ?, ?, ?, ?, ?)"
                )
                insert.bind(1, Int64(version))
                insert.bind(2, time.microseconds)
                insert.bind(3, user)
                insert.bind(4, project)
                insert.bind(5, digest)
                insert.bind(6, planJSON)
                insert.bind(7, definitionsJSON)
                try insert.run()
                let pending = try db.prepare("INSERT OR IGNORE INTO pending_drops(view) VALUES (?)")
                for view in dropOnline {
                    pending.bind(1, view)
                    try pending.run()
                }
                SQLiteRegistry.testPauseInsideApply()
                return RegistryVersion(version: version, appliedAt: time, user: user, digest: digest, plan: plan)
            }
        } catch {
            throw wrap(error)
        }
    }

    /// A test hook: `TESSERA_TEST_APPLY_PAUSE_MS` holds the apply transaction open so a
    /// test can kill the process mid-apply deterministically.
    static func testPauseInsideApply() {
        if let text = ProcessInfo.processInfo.environment["TESSERA_TEST_APPLY_PAUSE_MS"], let ms = UInt32(text) {
            FileHandle.standardError.write(Data("apply: holding the transaction open for \(ms) ms\n".utf8))
            usleep(ms * 1000)
        }
    }

    public func history(limit: Int?) throws(RegistryError) -> [RegistryVersion] {
        guard let db = try reader("versions") else { return [] }
        do {
            let statement = try db.prepare(
                "SELECT version, applied_at, user, digest, plan FROM versions ORDER BY version DESC LIMIT ?")
            statement.bind(1, Int64(limit ?? -1))
            var out: [RegistryVersion] = []
            while try statement.step() { out.append(try decodeVersion(statement)) }
            return out
        } catch {
            throw wrap(error)
        }
    }

    public func definitions(at version: Int) throws(RegistryError) -> Definitions? {
        guard let db = try reader("versions") else { return nil }
        do {
            let statement = try db.prepare("SELECT definitions FROM versions WHERE version = ?")
            statement.bind(1, Int64(version))
            guard try statement.step() else { return nil }
            return try JSONDecoder().decode(Definitions.self, from: Data(statement.string(0).utf8))
        } catch {
            throw wrap(error)
        }
    }

    public func watermarks() throws(RegistryError) -> [String: MaterializationWatermark] {
        guard let db = try reader("watermarks") else { return [:] }
        do {
            let statement = try db.prepare("SELECT view, start, end, recorded_at FROM watermarks")
            var out: [String: MaterializationWatermark] = [:]
            while try statement.step() {
                let mark = MaterializationWatermark(
                    view: statement.string(0), start: Timestamp(microseconds: statement.int64(1)),
                    end: Timestamp(microseconds: statement.int64(2)),
                    recordedAt: Timestamp(microseconds: statement.int64(3)))
                out[mark.view] = mark
            }
            return out
        } catch {
            throw wrap(error)
        }
    }

    public func recordMaterialization(_ watermarks: [MaterializationWatermark]) throws(RegistryError) {
        guard let db = try open(create: true) else {
            throw RegistryError(.unreadable, path: path, "cannot create the registry")
        }
        do {
            try db.transaction {
                let upsert = try db.prepare(
                    """
                    INSERT INTO watermarks(view, start, end, recorded_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(view) DO UPDATE SET start = excluded.start, end = excluded.end,
                        recorded_at = excluded.recorded_at
                    WHERE excluded.end >= watermarks.end
                    """)
                for mark in watermarks {
                    upsert.bind(1, mark.view)
                    upsert.bind(2, mark.start.microseconds)
                    upsert.bind(3, mark.end.microseconds)
                    upsert.bind(4, mark.recordedAt.microseconds)
                    try upsert.run()
                }
            }
        } catch {
            throw wrap(error)
        }
    }

    public func pendingOnlineDrops() throws(RegistryError) -> [String] {
        guard let db = try reader("pending_drops") else { return [] }
        do {
            let statement = try db.prepare("SELECT view FROM pending_drops ORDER BY view")
            var out: [String] = []
            while try statement.step() { out.append(statement.string(0)) }
            return out
        } catch {
            throw wrap(error)
        }
    }

    public func completeOnlineDrops(_ views: [String]) throws(RegistryError) {
        guard !views.isEmpty, let db = try open(create: true) else { return }
        do {
            try db.transaction {
                let pending = try db.prepare("DELETE FROM pending_drops WHERE view = ?")
                let watermark = try db.prepare("DELETE FROM watermarks WHERE view = ?")
                for view in views {
                    pending.bind(1, view)
                    try pending.run()
                    watermark.bind(1, view)
                    try watermark.run()
                }
            }
        } catch {
            throw wrap(error)
        }
    }
}
