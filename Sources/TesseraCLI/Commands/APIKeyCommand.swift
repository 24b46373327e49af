import ArgumentParser
import Foundation
import TesseraConsole
import TesseraCore
import TesseraDefinitions

struct APIKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-key",
        abstract: "Make API keys for the feature server.",
        subcommands: [APIKeyCreateCommand.self])
}

struct APIKeyCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Make a new API key: prints the key once, and the entry (its SHA-256) for tessera.yaml.",
        discussion: """
            The key is 32 random bytes; only its SHA-256 is stored. Add the printed entry under \
            feature_server.auth.api_keys in tessera.yaml, or pass --file to append it to a key file \
            that tessera.yaml names with feature_server.auth.api_keys_file (keep that file out of \
            git). Clients send the key as `Authorization: Bearer <key>`. Roles: reader (read features \
            and the registry), writer (also push and write), admin (also materialize).

            Example:
              tessera api-key create --name ranking-service --role reader --file secrets/api-keys.yaml
            """)

    @Option(help: "A name for the key, shown in logs (e.g. the client service).")
    var name: String

    @Option(help: "reader, writer or admin.")
    var role: String = "reader"

    @Option(help: ArgumentHelp("Append the entry to this key file (created if missing).", valueName: "file"))
    var file: String?

    func validate() throws {
        guard AccessRole(rawValue: role) != nil else {
            throw ValidationError("--role '\(role)' is not reader, writer or admin")
        }
        guard !name.isEmpty, !name.contains("\n"), !name.contains("\"") else {
            throw ValidationError("--name must be one line without quotes")
        }
    }

    func run() throws {
        try guarded {
            var random = SystemRandomNumberGenerator()
            let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
            let key = "tsk_" + SHA256.hexString(bytes)
            var digest = SHA256()
            digest.update(key)
            let hash = SHA256.hexString(digest.finalize())
            let entry = "  - name: \"\(name)\"\n    role: \(role)\n    sha256: \(hash)\n"
            if let file {
                let fm = FileManager.default
                var text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
                if text.isEmpty {
                    text = "# API keys of the feature server (SHA-256 only). Keep out of git.\napi_keys:\n"
                }
                if !text.hasSuffix("\n") { text += "\n" }
                text += entry
                let folder = (file as NSString).deletingLastPathComponent
                if !folder.isEmpty { try fm.createDirectory(atPath: folder, withIntermediateDirectories: true) }
                try text.write(toFile: file, atomically: true, encoding: .utf8)
                try? fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
                Console.print("Added '\(name)' (\(role)) to \(file).")
            } else {
                Console.print("Add this under feature_server.auth.api_keys in tessera.yaml:\n\n" + entry)
            }
            Console.print("The key (shown once; give it to the client):\n\n  \(key)\n")
        }
    }
}
