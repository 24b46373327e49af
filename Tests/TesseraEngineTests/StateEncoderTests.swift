import TesseraEngine
import TesseraTesting
import Testing

/// The rebuild's encoder gives exactly `encode(index)` for every index, whatever order a
/// store asks in: in order (encoded ahead in chunks), out of order, repeated (within the
/// encoded run and before it), or mixed.
@Suite struct StateEncoderTests {
    static func encoded(_ index: Int) -> [UInt8]? { index % 7 == 3 ? nil : Array("state \(index)".utf8) }

    @Test(arguments: [1, 2, 3])
    func everyOrderGivesEachIndexItsState(threads: Int) {
        let count = 10_000
        var rng = SplitMixRNG(seed: UInt64(threads))
        let inOrder = Array(0..<count)
        let shuffled = inOrder.shuffled(using: &rng)
        // In order with a jump back and a skip ahead in the middle.
        let mixed =
            Array(0..<3_000) + [10, 11, 2_999, 2_999] + Array(3_000..<5_000) + Array(7_000..<count)
            + Array(5_000..<7_000)
        for order in [inOrder, shuffled, mixed] {
            let encoder = StateEncoder(count: count, threads: threads, chunk: 512) { StateEncoderTests.encoded($0) }
            for index in order {
                #expect(encoder.state(index) == StateEncoderTests.encoded(index), "index \(index)")
            }
        }
    }
}
