import PropertyBased
import TesseraColumnar
import TesseraCore
import Testing

@Suite("KeyHash.rows")
struct KeyHashTests {
    @Test func equalTuplesHaveEqualHashes() async {
        await propertyCheck(count: 200, input: Gen.int(in: 1...60), Gen.int(in: 1...3)) { rows, width in
            var rng = Sample.rng(Int(UInt64(rows * 3 + width)))
            let columns: [Column] = (0..<width).map { k in
                switch k % 3 {
                case 0:
                    Sample.column(
                        .int64,
                        (0..<rows).map { _ in
                            Bool.random(using: &rng) ? .int64(Int64.random(in: 0...2, using: &rng)) : .null
                        })
                case 1:
                    Sample.column(
                        .string,
                        (0..<rows).map { _ in
                            Bool.random(using: &rng)
                                ? .string(["", "a", "ab"].randomElement(using: &rng) ?? "") : .null
                        })
                default:
                    Sample.column(
                        .list(.int32),
                        (0..<rows).map { _ in
                            Bool.random(using: &rng) ? .list([.int32(Int32.random(in: 0...1, using: &rng))]) : .null
                        })
                }
            }
            let hashes = KeyHash.rows(columns)
            for a in 0..<rows {
                for b in 0..<rows where columns.allSatisfy({ $0.value(at: a) == $0.value(at: b) }) {
                    #expect(hashes[a] == hashes[b])
                }
            }
        }
    }

    /// A null's placeholder value is not part of the key (this failed before the fix).
    @Test func nullsHashAlikeWhateverTheirSlotHolds() {
        let a = Column.int64([5, 9, 1], validity: Bitmap([false, false, true]))
        let s = Column(
            type: .string, data: .binary(BinaryData(strings: ["x", "yy", "z"])), validity: Bitmap([false, false, true]))
        let hashes = KeyHash.rows([a, s])
        #expect(hashes[0] == hashes[1])
        #expect(hashes[0] != hashes[2])
    }

    @Test func zeroAndNegativeZeroAreOneKey() {
        #expect(KeyHash.rows([.float64([0, -0.0])]).count == 2)
        let h = KeyHash.rows([.float64([0, -0.0]), .float32([-0.0, 0])])
        #expect(h[0] == h[1])
    }

    @Test func distinctKeysRarelyCollide() {
        let ids = Column.int64(Array(0..<50_000))
        #expect(Set(KeyHash.rows([ids])).count == 50_000)
        let names = Column.string((0..<50_000).map { "driver-\($0)" })
        #expect(Set(KeyHash.rows([names])).count == 50_000)
        // Column order matters: (1, 2) and (2, 1) differ.
        let h = KeyHash.rows([.int64([1, 2]), .int64([2, 1])])
        #expect(h[0] != h[1])
        // A null differs from every value, including zero and the empty string.
        let n = KeyHash.rows([Column.int64([0, 0], validity: Bitmap([true, false]))])
        #expect(n[0] != n[1])
    }
}
