import PropertyBased
import TesseraColumnar
import TesseraCore
import Testing

@Suite struct ChunkedTakeTests {
    /// Taking across chunks equals concatenating and taking, for every layout.
    @Test func equalsConcatenateThenTake() async throws {
        await propertyCheck(count: 300, input: Gen.int(in: 0...Int.max)) { seed in
            var state = UInt64(truncatingIfNeeded: seed) | 1
            func next(_ n: Int) -> Int {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                return Int(state % UInt64(max(1, n)))
            }
            let types: [ValueType] = [.int64, .int32, .float32, .float64, .bool, .string, .timestamp]
            let type = types[next(types.count)]
            let chunks: [Column] = (0..<(1 + next(4))).map { _ in
                let scalars: [ScalarValue] = (0..<next(6)).map { _ in
                    if next(5) == 0 { return .null }
                    let v = next(100)
                    switch type {
                    case .int64: return .int64(Int64(v))
                    case .int32: return .int32(Int32(v))
                    case .float32: return .float32(Float(v))
                    case .float64: return .float64(Double(v))
                    case .bool: return .bool(v % 2 == 0)
                    case .timestamp: return .timestamp(Timestamp(microseconds: Int64(v)))
                    default: return .string("s\(v)")
                    }
                }
                return Column(type: type, scalars: scalars) ?? Column(empty: type)
            }
            let total = chunks.reduce(0) { $0 + $1.count }
            let refs = (0..<next(10)).map { _ in total == 0 || next(4) == 0 ? -1 : next(total) }
            let expected = try! Column.concatenate(chunks).take(refs)
            let got = try! Column.take(from: chunks, refs)
            #expect(got.values == expected.values)
            #expect(got.type == type)
        }
    }
}
