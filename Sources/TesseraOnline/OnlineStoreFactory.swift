import TesseraDefinitions

/// Makes an `OnlineStore` from its `online_store:` settings in `tessera.yaml`.
///
/// A backend lives in its own folder with its factory; `TesseraApp/Backends.swift` lists the
/// factories of the build, one line each.
public protocol OnlineStoreFactory: BackendDescription {
    func makeStore(_ settings: BackendSettings) throws(OnlineStoreError) -> any OnlineStore
}

/// `online_store: {type: memory}`: values in process memory (tests and embedding only).
public struct MemoryOnlineStoreFactory: OnlineStoreFactory {
    public init() {}
    public var type: String { "memory" }
    public var summary: String { "in process memory, lost when the process ends (tests and embedding)" }
    public var options: [BackendOption] { [] }
    public func makeStore(_ settings: BackendSettings) throws(OnlineStoreError) -> any OnlineStore {
        MemoryOnlineStore()
    }
}
