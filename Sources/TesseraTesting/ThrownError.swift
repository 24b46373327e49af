import Testing

/// The error `body` throws, typed; `nil` (and a recorded issue) when it does not throw.
public func thrownError<E: Error>(
    _ body: () throws(E) -> Void, sourceLocation: SourceLocation = #_sourceLocation
) -> E? {
    do {
        try body()
        Issue.record("the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}
