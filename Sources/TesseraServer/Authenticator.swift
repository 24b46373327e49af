import Synchronization
import TesseraCore
import TesseraDefinitions

/// Checks `Authorization: Bearer <key>` against the API keys of `tessera.yaml` (stored as
/// SHA-256 digests, never the keys) and the role each endpoint needs.
///
/// Off when no `auth:` section is configured: every request is allowed. Keys are compared
/// by their digest, so the key list never holds a secret; a small cache of recently seen
/// valid keys spares the hash on the hot path.
final class Authenticator: Sendable {
    let enabled: Bool
    private let roles: [String: (name: String, role: AccessRole)]
    private let recent = Mutex<[String: AccessRole]>([:])

    init(keys: [APIKey], enabled: Bool) {
        self.enabled = enabled || !keys.isEmpty
        var roles: [String: (name: String, role: AccessRole)] = [:]
        for key in keys { roles[key.sha256] = (key.name, key.role) }
        self.roles = roles
    }

    /// The answer for a request needing `role`: `nil` when allowed, else the 401 or 403 error.
    func check(_ header: String?, needs role: AccessRole) -> APIError? {
        guard enabled else { return nil }
        guard let header, let token = Authenticator.bearer(header) else {
            return APIError(
                status: 401, code: "unauthorized", field: "authorization",
                header == nil ? "this server needs an API key" : "the Authorization header is not 'Bearer <key>'",
                hint: "send 'Authorization: Bearer <key>'")
        }
        let granted: AccessRole
        if let cached = recent.withLock({ $0[token] }) {
            granted = cached
        } else {
            var digest = SHA256()
            digest.update(token)
            guard let found = roles[SHA256.hexString(digest.finalize())] else {
                return APIError(
                    status: 401, code: "unauthorized", field: "authorization", "the API key is not valid",
                    hint: "check the key, or ask for one: `tessera api-key create`")
            }
            granted = found.role
            // Only valid keys are cached, and a few: a client guessing keys cannot grow it.
            recent.withLock { cache in
                if cache.count >= 64 { cache.removeAll() }
                cache[token] = granted
            }
        }
        guard granted >= role else {
            return APIError(
                status: 403, code: "forbidden", field: "authorization",
                "this API key has the role '\(granted.rawValue)'; this endpoint needs '\(role.rawValue)'")
        }
        return nil
    }

    /// The key of a `Bearer <key>` header (the scheme in any case, as RFC 7235 allows).
    static func bearer(_ header: String) -> String? {
        let trimmed = header.trimmingSpaces()
        guard trimmed.utf8.count > 7, trimmed.prefix(7).lowercased() == "bearer " else { return nil }
        let token = String(trimmed.dropFirst(7)).trimmingSpaces()
        return token.isEmpty || token.utf8.count > 4096 ? nil : token
    }
}
