import Foundation
import TesseraApp
import TesseraCore
import TesseraDefinitions
import TesseraServer
import TesseraTesting
import Testing

/// API keys and roles: reader < writer < admin; 401 without a valid key, 403 for too low a role.
@Suite struct AuthenticationTests {
    static func hash(_ key: String) -> String {
        var digest = SHA256()
        digest.update(key)
        return SHA256.hexString(digest.finalize())
    }

    static let config = """
        project: fixture
        feature_server:
          auth:
            api_keys:
              - {name: ranker, role: reader, sha256: \(hash("reader-key"))}
              - {name: stream, role: writer, sha256: \(hash("writer-key"))}
              - {name: ops, role: admin, sha256: \(hash("admin-key"))}

        """

    @Test func everyEndpointChecksTheRoleItNeeds() async throws {
        let fixture = try ServerFixture(label: "auth", config: Self.config)
        defer { fixture.directory.remove() }
        #expect(fixture.server.requiresAuthentication)
        let get = #"{"features":["driver_hourly_stats:conv_rate"],"entities":{"driver_id":[1001]}}"#
        let push =
            #"{"push_source_name":"driver_push","df":{"driver_id":[4],"event_timestamp":["2026-01-09T12:00:00Z"],"conv_rate":[0.5],"acc_rate":[0.5],"avg_daily_trips":[1]}}"#
        let materialize = #"{"start_ts":"2026-01-08","end_ts":"2026-01-09","feature_views":["customer_profile"]}"#
        @Sendable func bearer(_ key: String) -> [String: String] { ["Authorization": "Bearer \(key)"] }
        let results = try await fixture.live { client in
            [
                try await client.post("/get-online-features", get),
                try await client.post("/get-online-features", get, headers: bearer("wrong")),
                try await client.post("/get-online-features", get, headers: ["Authorization": "Basic abc"]),
                try await client.post("/get-online-features", get, headers: bearer("reader-key")),
                try await client.post("/push", push, headers: bearer("reader-key")),
                try await client.post("/push", push, headers: bearer("writer-key")),
                try await client.post("/materialize", materialize, headers: bearer("writer-key")),
                try await client.get("/health"),
                try await client.get("/openapi.json"),
                try await client.get("/metrics"),
                try await client.get("/metrics", headers: bearer("reader-key")),
                try await client.get("/registry/feature-views"),
                try await client.get("/registry/feature-views", headers: ["authorization": "bearer reader-key"]),
                try await client.post("/push", push),
            ]
        }
        let statuses = results.map(\.0)
        #expect(statuses == [401, 401, 401, 200, 403, 200, 403, 200, 200, 401, 200, 401, 200, 401], "\(statuses)")
        let denied = try parsed(results[0].1)
        #expect(denied["error"] == .string("unauthorized"))
        #expect(denied["field"] == .string("authorization"))
        let forbidden = try parsed(results[4].1)
        #expect(forbidden["error"] == .string("forbidden"))
        #expect(forbidden["message"]?.text.contains("'writer'") == true)
        // The admin may materialize (the customer source has no files: the failure is the engine's, not auth's).
        let admin = try await fixture.live { client in
            try await client.post("/materialize", materialize, headers: bearer("admin-key"))
        }
        #expect(admin.0 != 401 && admin.0 != 403, "\(admin)")
    }

    @Test func keysComeFromAFileAndBadEntriesAreErrorsWithTheirPlace() throws {
        let dir = try TemporaryDirectory("auth-config")
        defer { dir.remove() }
        try dir.write("secrets/keys.yaml", "api_keys:\n  - {name: a, role: reader, sha256: \(Self.hash("k"))}\n")
        try dir.write(
            "tessera.yaml", "project: p\nfeature_server:\n  auth:\n    api_keys_file: secrets/keys.yaml\n")
        let (_, config) = try FeatureRepository.loadConfig(at: dir.path)
        #expect(config.featureServer.apiKeys == [APIKey(name: "a", role: .reader, sha256: Self.hash("k"))])
        try dir.write(
            "tessera.yaml",
            "project: p\nfeature_server:\n  auth:\n    api_keys:\n      - {name: a, role: reeder, sha256: abc}\n")
        #expect {
            try FeatureRepository.loadConfig(at: dir.path)
        } throws: { error in
            let text = String(describing: error)
            return text.contains("tessera.yaml:5:") && text.contains("did you mean 'reader'")
        }
        try dir.write(
            "tessera.yaml",
            "project: p\nfeature_server:\n  auth:\n    api_keys:\n      - {name: a, role: reader, sha256: abc}\n")
        #expect {
            try FeatureRepository.loadConfig(at: dir.path)
        } throws: { error in String(describing: error).contains("not 64 hexadecimal digits") }
    }
}
