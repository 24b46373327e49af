import TesseraDefinitions

/// Makes a `RegistryStore` from its `registry:` settings in `tessera.yaml`.
///
/// A backend lives in its own folder with its factory; `TesseraApp/Backends.swift` lists the
/// factories of the build, one line each.
public protocol RegistryStoreFactory: BackendDescription {
    func makeRegistry(_ settings: BackendSettings) throws(RegistryError) -> any RegistryStore
}

/// `registry: {type: memory}`: state in process memory (tests and embedding only).
public struct MemoryRegistryFactory: RegistryStoreFactory {
    public init() {}
    public var type: String { "memory" }
    public var summary: String { "in process memory, lost when the process ends (tests and embedding)" }
    public var options: [BackendOption] { [] }
    public func makeRegistry(_ settings: BackendSettings) throws(RegistryError) -> any RegistryStore {
        MemoryRegistry()
    }
}
