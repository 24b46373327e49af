import TesseraCore
import TesseraDefinitions
import TesseraEngine

/// A view's window aggregations as one SQL query returning `AggregationPartials`' parts
/// (docs/semantics.md's window rules, docs/architecture.md's shape).
///
/// The entity rows are uploaded as for the point-in-time join, with `__lo0…`: each window's
/// start (`t − W`, computed by Tessera). The source is read once and range-joined on equal
/// keys and `event < t` (and `event >= ` the widest window's start); each part is a
/// conditional aggregate over its window:
///
/// ```sql
/// SELECT e.__row, s.__b0, COUNT(CASE WHEN s.__ts >= e.__lo0 THEN 1 END) AS p0, …
/// FROM entities e JOIN (source rows, their float inputs decomposed) s
///   ON s.__k0 = e.__k0 AND s.__ts < e.__ts AND s.__ts >= e.__lo1
/// GROUP BY e.__row, s.__b0
/// ```
///
/// A summed float is never added as a float: each value's bits (`float8send` in
/// PostgreSQL, `Double.doubleToRawLongBits` in Spark) give its mantissa `m` and exponent;
/// the exponent's band `__b = (e − 1) div 32` is a group column and `m · 2^((e − 1) mod 32)`
/// is summed as an exact decimal, so Tessera gets, per band, an exact integer and rounds the
/// whole sum once. Which infinities and NaNs occur is a bit set apart.
public struct WindowAggregationSQL: Sendable {
    /// The entity relation (already quoted or qualified), with `__lo0…` per finite window.
    public var entities: String
    /// The source rows: `c0, c1, …` are the partials' inputs, in order.
    public var scan: SourceScanSQL
    public var partials: AggregationPartials

    public init(entities: String, scan: SourceScanSQL, partials: AggregationPartials) {
        self.entities = entities
        self.scan = scan
        self.partials = partials
    }

    /// The partials of `features` and the select-list entries of their inputs (`c0…`), or
    /// why `engine` leaves them to the native engine: `column` gives the entry reading a
    /// source column (by its source name) as the input's type, or `nil` when the engine's
    /// values of that column do not aggregate as the native engine's.
    public static func inputs(
        of features: [Feature], columns: SourceColumns, engine: String,
        _ column: (_ name: String, _ type: ValueType) -> String?
    ) -> Result<(AggregationPartials, [String]), NativeReason> {
        let partials: AggregationPartials
        do {
            partials = try AggregationPartials(features: features)
        } catch {
            return .failure(error)
        }
        var outputs: [String] = []
        for input in partials.inputs {
            let name = columns.sourceColumn(for: input.name)
            guard let entry = column(name, input.type) else {
                return .failure(
                    NativeReason("column '\(name)' is not aggregated in \(engine) as natively (as \(input.type))"))
            }
            outputs.append(entry)
        }
        return .success((partials, outputs))
    }

    /// The query, returning `__row`, `__b0…` (one per banded input) and `p0…` (one per part).
    public func sql(_ dialect: SQLDialect) -> String {
        var on = scan.keys.indices.map { "s.__k\($0) = e.__k\($0)" }
        on.append("s.__ts < e.__ts")
        if let widest = partials.widest { on.append("s.__ts >= e.__lo\(widest)") }
        let groups = ["e.__row"] + partials.banded.indices.map { "s.__b\($0)" }
        let columns = partials.parts.enumerated().map { "\(expression($1, dialect)) AS p\($0)" }
        return """
            SELECT \((groups + columns).joined(separator: ", "))
            FROM \(entities) e
            JOIN (\(decomposed(dialect))) s
              ON \(on.joined(separator: " AND "))
            GROUP BY \(groups.joined(separator: ", "))
            """
    }

    /// The window's test (`nil`: lifetime, every joined row).
    func inWindow(_ w: Int) -> String? { partials.windows[w] == nil ? nil : "s.__ts >= e.__lo\(w)" }

    /// `value` when the row is in window `w`, else NULL.
    func when(_ w: Int, _ value: String) -> String {
        inWindow(w).map { "CASE WHEN \($0) THEN \(value) END" } ?? value
    }

    func expression(_ part: AggregationPartials.Part, _ dialect: SQLDialect) -> String {
        let text = dialect == .postgres ? "text" : "STRING"
        switch part {
        case .rows(let w):
            return inWindow(w) == nil ? "COUNT(*)" : "COUNT(\(when(w, "1")))"
        case .valid(let k, let w):
            return "COUNT(\(when(w, "s.c\(k)")))"
        case .integerSum(let k, let w):
            let exact = dialect == .postgres ? "numeric" : "DECIMAL(38,0)"
            return "CAST(SUM(\(when(w, "CAST(s.c\(k) AS \(exact))"))) AS \(text))"
        case .bandSum(let k, let w):
            return "CAST(SUM(\(when(w, "s.__m\(band(k))"))) AS \(text))"
        case .squareSum(let k, let w, let piece):
            return "CAST(SUM(\(when(w, "s.__q\(band(k))_\(piece)"))) AS \(text))"
        case .special(let k, let w):
            return "CAST(BIT_OR(\(when(w, "s.__x\(band(k))"))) AS \(dialect == .postgres ? "int8" : "BIGINT"))"
        case .extreme(let k, let w, let max):
            let value = when(w, "s.c\(k)")
            guard dialect == .postgres else { return "\(max ? "MAX" : "MIN")(\(value))" }
            switch partials.inputs[k].type {
            case .bool: return "\(max ? "BOOL_OR" : "BOOL_AND")(\(value))"
            // Byte order, as natively: no collation's rules.
            case .string: return "\(max ? "MAX" : "MIN")((\(value)) COLLATE \"C\")"
            default: return "\(max ? "MAX" : "MIN")(\(value))"
            }
        case .zero(let k, let w, let max):
            return
                "CAST(\(max ? "MAX" : "MIN")(\(when(w, "s.__z\(k)"))) AS \(dialect == .postgres ? "int8" : "BIGINT"))"
        }
    }

    func band(_ input: Int) -> Int { partials.banded.firstIndex(of: input) ?? 0 }

    /// The float inputs' zero signs (`__z`: −1 for −0.0, 1 for +0.0).
    var zeroInputs: [Int] {
        var out: [Int] = []
        for case .zero(let k, _, _) in partials.parts where !out.contains(k) { out.append(k) }
        return out
    }

    /// The scan with, per banded input, its bits (`__i`), biased exponent (`__e`), band
    /// (`__b`), scaled mantissa (`__m`) and special kind (`__x`), and per float extreme
    /// input its zero sign (`__z`).
    func decomposed(_ dialect: SQLDialect) -> String {
        var bits: [String] = []
        var exponents: [String] = []
        var pieces: [String] = []
        for (b, k) in partials.banded.enumerated() {
            let value = "q.c\(k)"
            switch dialect {
            case .postgres:
                bits.append("('x' || encode(float8send(CAST(\(value) AS float8)), 'hex'))::bit(64)::int8 AS __i\(b)")
                exponents.append("((r.__i\(b) >> 52) & 2047) AS __e\(b)")
            case .spark:
                // reflect throws on a null argument.
                bits.append(
                    "CASE WHEN \(value) IS NOT NULL THEN CAST(reflect('java.lang.Double', 'doubleToRawLongBits', CAST(\(value) AS DOUBLE)) AS BIGINT) END AS __i\(b)"
                )
                exponents.append("(shiftright(r.__i\(b), 52) & 2047) AS __e\(b)")
            }
            let i = "u.__i\(b)"
            let e = "u.__e\(b)"
            let fraction = "(\(i) & 4503599627370495)"
            // The unsigned mantissa (the implicit bit set unless subnormal), then signed.
            let unsigned = "(\(fraction) | CASE WHEN \(e) = 0 THEN 0 ELSE 4503599627370496 END)"
            let mantissa = "(CASE WHEN \(i) < 0 THEN -1 ELSE 1 END * \(unsigned))"
            let shift = "(GREATEST(\(e), 1) - 1)"
            let bandBits = partials.bandBits(of: k)
            // The unsigned mantissa's halves, for squares: m = a·2^26 + b.
            let high = dialect == .postgres ? "(\(unsigned) >> 26)" : "shiftright(\(unsigned), 26)"
            let low = "(\(unsigned) & 67108863)"
            let squarePieces = ["\(high) * \(high)", "2 * \(high) * \(low)", "\(low) * \(low)"]
            if partials.squared.contains(k) {
                for (piece, value) in squarePieces.enumerated() {
                    switch dialect {
                    case .postgres:
                        pieces.append(
                            "CASE WHEN \(e) < 2047 THEN CAST(\(value) AS numeric) * (CAST(1 AS int8) << CAST(2 * (\(shift) % \(bandBits)) AS int4)) END AS __q\(b)_\(piece)"
                        )
                    case .spark:
                        pieces.append(
                            "CASE WHEN \(e) < 2047 THEN CAST(\(value) AS DECIMAL(20,0)) * CAST(shiftleft(CAST(1 AS BIGINT), 2 * pmod(\(shift), \(bandBits))) AS DECIMAL(11,0)) END AS __q\(b)_\(piece)"
                        )
                    }
                }
            }
            switch dialect {
            case .postgres:
                pieces.append("CASE WHEN \(e) < 2047 THEN \(shift) / \(bandBits) END AS __b\(b)")
                pieces.append(
                    "CASE WHEN \(e) < 2047 THEN CAST(\(mantissa) AS numeric) * (CAST(1 AS int8) << CAST(\(shift) % \(bandBits) AS int4)) END AS __m\(b)"
                )
            case .spark:
                pieces.append("CASE WHEN \(e) < 2047 THEN CAST(\(shift) DIV \(bandBits) AS BIGINT) END AS __b\(b)")
                pieces.append(
                    "CASE WHEN \(e) < 2047 THEN CAST(\(mantissa) AS DECIMAL(20,0)) * CAST(shiftleft(CAST(1 AS BIGINT), pmod(\(shift), \(bandBits))) AS DECIMAL(11,0)) END AS __m\(b)"
                )
            }
            pieces.append(
                "CASE WHEN \(e) = 2047 THEN CASE WHEN \(fraction) <> 0 THEN 4 WHEN \(i) < 0 THEN 2 ELSE 1 END END AS __x\(b)"
            )
        }
        for k in zeroInputs {
            let value = "u.c\(k)"
            let negative =
                dialect == .postgres ? "CAST(\(value) AS text) = '-0'" : "CAST(\(value) AS STRING) = '-0.0'"
            pieces.append("CASE WHEN \(value) = 0 THEN CASE WHEN \(negative) THEN -1 ELSE 1 END END AS __z\(k)")
        }
        let scan = scan.sql(dialect)
        guard !pieces.isEmpty else { return scan }
        // PostgreSQL inlines a subquery's expressions into every use (a float's bits would be
        // taken once per aggregate that reads them): `OFFSET 0` computes each layer once per row.
        let fence = dialect == .postgres ? " OFFSET 0" : ""
        let withBits =
            bits.isEmpty
            ? "SELECT q.* FROM (\(scan)) q" : "SELECT q.*, \(bits.joined(separator: ", ")) FROM (\(scan)) q\(fence)"
        let withExponents =
            exponents.isEmpty
            ? "SELECT r.* FROM (\(withBits)) r"
            : "SELECT r.*, \(exponents.joined(separator: ", ")) FROM (\(withBits)) r"
        return "SELECT u.*, \(pieces.joined(separator: ", ")) FROM (\(withExponents)) u\(fence)"
    }
}
