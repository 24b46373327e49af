import Foundation
import TesseraCore
import TesseraTesting
import Testing

@Suite("SHA256")
struct SHA256Tests {
    /// The FIPS 180-4 example vectors (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf").
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        (
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        ),
    ])
    func nistVectors(_ message: String, _ digest: String) {
        #expect(SHA256.hex(message) == digest)
    }

    @Test func oneMillionAs() {
        var hasher = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { hasher.update(chunk) }
        #expect(
            SHA256.hexString(hasher.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func incrementalUpdatesEqualOneUpdate() {
        let message = Array((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        var whole = SHA256()
        whole.update(message)
        let expected = whole.finalize()
        for split in [0, 1, 55, 56, 63, 64, 65, 128, 299, 300] {
            var parts = SHA256()
            parts.update(message[..<split])
            parts.update(message[split...])
            #expect(parts.finalize() == expected, "split at \(split)")
        }
    }

    /// Every length around the padding boundaries, against Python's hashlib.
    @Test func matchesHashlibAtEveryLengthUpTo200() throws {
        let output = try PythonOracle.run(
            "import hashlib\nprint('\\n'.join(hashlib.sha256(bytes((i * 7 + 3) % 256 for i in range(n))).hexdigest() for n in range(201)))"
        )
        let expected = output.split(separator: "\n").map(String.init)
        #expect(expected.count == 201)
        for (n, digest) in expected.enumerated() {
            var hasher = SHA256()
            hasher.update((0..<n).map { UInt8(($0 * 7 + 3) % 256) })
            #expect(SHA256.hexString(hasher.finalize()) == digest, "length \(n)")
        }
    }
}
