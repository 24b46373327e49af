import Synchronization
import TesseraCore
import TesseraOnline
import TesseraSQLite

extension SQLiteOnlineStore {
    /// Re-reads view ids and layouts from the file (after another process or an unknown id).
    func reloadCatalog() throws(OnlineStoreError) {
        let fresh = try withReader { (reader) throws(OnlineStoreError) -> Catalog in
            reader.endSnapshot()
            let db = try reader.connection(self)
            do throws(SQLiteError) {
                var fresh = Catalog()
                let views = try db.prepare("SELECT id, name FROM tessera_views")
                while try views.step() { fresh.views[views.string(1)] = views.int64(0) }
                let layouts = try db.prepare("SELECT id, spec FROM tessera_layouts")
                while try layouts.step() {
                    if let layout = RowLayout(spec: layouts.string(1)) { fresh.layouts[layouts.int64(0)] = layout }
                }
                return fresh
            } catch {
                throw wrap(error)
            }
        }
        catalog.withLock { $0 = fresh }
    }

    /// The id of `view`'s table, reloading the catalog once if the view is not known yet.
    func viewID(_ view: String) throws(OnlineStoreError) -> Int64? {
        if let id = catalog.withLock({ $0.views[view] }) { return id }
        try reloadCatalog()
        return catalog.withLock { $0.views[view] }
    }

    /// The view's id, creating its table when it has none; runs inside the writer's transaction.
    func ensureView(_ view: String, _ db: SQLiteConnection) throws(SQLiteError) -> Int64 {
        let find = try db.prepare("SELECT id FROM tessera_views WHERE name = ?1")
        find.bind(1, view)
        if try find.step() { return find.int64(0) }
        let insert = try db.prepare("INSERT INTO tessera_views(name) VALUES (?1)")
        insert.bind(1, view)
        try insert.run()
        let id = db.lastInsertRowID
        let table = SQLiteOnlineStore.tableName(id)
        switch configuration.tableLayout {
        case .clustered:
            try db.execute(
                """
                CREATE TABLE \(table)(key BLOB PRIMARY KEY, event_ts INTEGER NOT NULL, created_ts INTEGER NOT NULL,
                    layout INTEGER NOT NULL, value BLOB NOT NULL) WITHOUT ROWID
                """)
        case .rowidWithKeyIndex:
            try db.execute(
                """
                CREATE TABLE \(table)(key BLOB NOT NULL UNIQUE, event_ts INTEGER NOT NULL,
                    created_ts INTEGER NOT NULL, layout INTEGER NOT NULL, value BLOB NOT NULL)
                """)
        }
        return id
    }

    /// The id of `layout` for `viewID`, recording it when new; runs inside the writer's transaction.
    func ensureLayout(_ layout: RowLayout, viewID: Int64, _ db: SQLiteConnection) throws(SQLiteError) -> Int64 {
        let spec = layout.spec
        let find = try db.prepare("SELECT id FROM tessera_layouts WHERE view_id = ?1 AND spec = ?2")
        find.bind(1, viewID)
        find.bind(2, spec)
        if try find.step() { return find.int64(0) }
        let insert = try db.prepare("INSERT INTO tessera_layouts(view_id, spec) VALUES (?1, ?2)")
        insert.bind(1, viewID)
        insert.bind(2, spec)
        try insert.run()
        return db.lastInsertRowID
    }

    public func dropView(_ view: String) throws(OnlineStoreError) {
        try withWriter { (state) throws(OnlineStoreError) in
            let db = state.connection
            do throws(SQLiteError) {
                try db.execute("BEGIN IMMEDIATE")
                do throws(SQLiteError) {
                    let states = try db.prepare("DELETE FROM tessera_states WHERE view = ?1")
                    states.bind(1, view)
                    try states.run()
                    let logged = try db.prepare("DELETE FROM tessera_state_log WHERE view = ?1")
                    logged.bind(1, view)
                    try logged.run()
                    let find = try db.prepare("SELECT id FROM tessera_views WHERE name = ?1")
                    find.bind(1, view)
                    if try find.step() {
                        let id = find.int64(0)
                        find.reset()
                        state.upserts[id] = nil
                        try db.execute("DROP TABLE IF EXISTS \(SQLiteOnlineStore.tableName(id))")
                        try db.execute("DELETE FROM tessera_layouts WHERE view_id = \(id)")
                        try db.execute("DELETE FROM tessera_views WHERE id = \(id)")
                    }
                    try db.execute("COMMIT")
                } catch {
                    try? db.execute("ROLLBACK")
                    throw error
                }
            } catch {
                throw wrap(error)
            }
        }
        catalog.withLock { $0.views[view] = nil }
    }
}
