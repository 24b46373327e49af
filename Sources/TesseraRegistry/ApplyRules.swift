/// What every registry checks before it records an apply, with the same words everywhere:
/// the registry belongs to the project, and nothing was applied since the plan was made.
public enum ApplyRules {
    /// - Parameters:
    ///   - latest: the newest version recorded and its project (`nil`: none).
    ///   - path: what the error names (the file, or the server).
    /// - Throws: `.projectMismatch`, or `.conflict` when the registry moved on.
    public static func check(
        latest: (version: Int, project: String)?, project: String, expectedVersion: Int?, path: String
    ) throws(RegistryError) {
        if let latest, latest.project != project {
            throw RegistryError(
                .projectMismatch, path: path,
                "this registry belongs to project '\(latest.project)', not '\(project)'; point the repository at its own registry"
            )
        }
        guard latest?.version == expectedVersion else {
            throw RegistryError(
                .conflict, path: path,
                "the registry moved on to version \(latest?.version ?? 0) since the plan was made (against \(expectedVersion ?? 0)), perhaps by another apply; nothing was written: run plan again"
            )
        }
    }
}
