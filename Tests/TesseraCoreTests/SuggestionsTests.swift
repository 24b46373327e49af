import TesseraCore
import Testing

@Suite("Suggestions")
struct SuggestionsTests {
    let names = ["driver_id", "driver", "event_timestamp", "created", "conv_rate", "acc_rate"]

    @Test func aTranspositionIsOneEdit() {
        #expect(Suggestions.closest(to: "dirver", in: names) == ["driver"])
        #expect(Suggestions.hint(for: "dirver", in: names) == "did you mean 'driver'?")
        #expect(Suggestions.hint(for: "dirver_id", in: names) == "did you mean 'driver_id'?")
    }

    @Test func closestFirstThenAlphabeticalAtMostThree() {
        #expect(Suggestions.closest(to: "acc_rat", in: names) == ["acc_rate"])
        #expect(Suggestions.closest(to: "rate_c", in: ["rate_b", "rate_a", "zzz"]) == ["rate_a", "rate_b"])
        #expect(Suggestions.hint(for: "rate_c", in: ["rate_b", "rate_a"]) == "did you mean 'rate_a' or 'rate_b'?")
        // Three edits is past the threshold for a six-letter name.
        #expect(Suggestions.closest(to: "c_rate", in: names) == ["acc_rate"])
        #expect(Suggestions.closest(to: "ab", in: ["aa", "ac", "ad", "ae", "ab"]) == ["ab", "aa", "ac"])
        #expect(Suggestions.closest(to: "x", in: ["a", "a"]) == ["a"])
    }

    @Test func caseIsIgnoredAndFarNamesAreNotSuggested() {
        #expect(Suggestions.closest(to: "DRIVER", in: names) == ["driver"])
        #expect(Suggestions.hint(for: "zzzzzz", in: names) == nil)
        #expect(Suggestions.hint(for: "x", in: []) == nil)
        #expect(Suggestions.closest(to: "", in: ["ab", "abc"]) == ["ab"])
    }

    /// Hostile input costs nothing: an over-long name is not compared at all (before, a 5 MB
    /// name was compared cell by cell with every candidate), and neither are candidates far longer.
    @Test func longNamesGetNoSuggestionsAndCostNothing() {
        let base = String(repeating: "a", count: Suggestions.maxNameLength)
        #expect(Suggestions.closest(to: base + "b", in: [base]).isEmpty)
        #expect(Suggestions.closest(to: String(base.dropLast()) + "b", in: [base]) == [base])
        let huge = String(repeating: "x", count: 5_000_000)
        #expect(Suggestions.hint(for: huge, in: names) == nil)
        #expect(Suggestions.closest(to: "driver", in: [huge, "drivers"]) == ["drivers"])
    }
}
