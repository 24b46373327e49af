/// Branch-free loops over whole vectors, which the compiler turns into SIMD: booleans are
/// read as their bytes (Swift stores `Bool` as one byte, 0 or 1), so `and` and `select` are
/// bitwise operations instead of the branches `&&` and `? :` compile to.
enum Kernels {
    /// `a[i] && b[i]` for every row.
    static func and(_ a: [Bool], _ b: [Bool], rows: Int) -> [Bool] {
        [Bool](unsafeUninitializedCapacity: rows) { out, initialized in
            a.withUnsafeBytes { a in
                b.withUnsafeBytes { b in
                    out.withMemoryRebound(to: UInt8.self) { out in
                        for i in 0..<rows { out[i] = a[i] & b[i] }
                    }
                }
            }
            initialized = rows
        }
    }

    /// `mask[i] ? a[i] : b[i]` for every row, for doubles (by their bits).
    static func select(_ mask: [Bool], _ a: [Double], _ b: [Double], rows: Int) -> [Double] {
        [Double](unsafeUninitializedCapacity: rows) { out, initialized in
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    a.withMemoryRebound(to: UInt64.self) { a in
                        b.withMemoryRebound(to: UInt64.self) { b in
                            out.withMemoryRebound(to: UInt64.self) { out in select(mask, a, b, out, rows: rows) }
                        }
                    }
                }
            }
            initialized = rows
        }
    }

    /// `mask[i] ? a[i] : b[i]` for every row, for integers.
    static func select(_ mask: [Bool], _ a: [Int64], _ b: [Int64], rows: Int) -> [Int64] {
        [Int64](unsafeUninitializedCapacity: rows) { out, initialized in
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in select(mask, a, b, out, rows: rows) }
            }
            initialized = rows
        }
    }

    /// The select by bit masks: all ones where the mask is set, all zeros elsewhere.
    @inline(__always)
    static func select<T: FixedWidthInteger>(
        _ mask: [Bool], _ a: UnsafeBufferPointer<T>, _ b: UnsafeBufferPointer<T>, _ out: UnsafeMutableBufferPointer<T>,
        rows: Int
    ) {
        mask.withUnsafeBytes { m in
            for i in 0..<rows {
                let bits = T(0) &- T(m[i])
                out[i] = (a[i] & bits) | (b[i] & ~bits)
            }
        }
    }

    /// `mask[i] ? a[i] : b[i]` for every row, for booleans.
    static func select(_ mask: [Bool], _ a: [Bool], _ b: [Bool], rows: Int) -> [Bool] {
        [Bool](unsafeUninitializedCapacity: rows) { out, initialized in
            mask.withUnsafeBytes { m in
                a.withUnsafeBytes { a in
                    b.withUnsafeBytes { b in
                        out.withMemoryRebound(to: UInt8.self) { out in
                            for i in 0..<rows { out[i] = (a[i] & m[i]) | (b[i] & (m[i] ^ 1)) }
                        }
                    }
                }
            }
            initialized = rows
        }
    }

    /// `f(x[i])` for every row.
    @inline(__always)
    static func map<T, U>(_ x: [T], rows: Int, _ f: (T) -> U) -> [U] {
        [U](unsafeUninitializedCapacity: rows) { out, initialized in
            x.withUnsafeBufferPointer { x in
                for i in 0..<rows { out.initializeElement(at: i, to: f(x[i])) }
            }
            initialized = rows
        }
    }

    /// `test(x[i])` for every row, as booleans written through their bytes (so the loop is
    /// SIMD: a compare and a byte store per row).
    @inline(__always)
    static func test<T>(_ x: [T], rows: Int, _ test: (T) -> Bool) -> [Bool] {
        [Bool](unsafeUninitializedCapacity: rows) { out, initialized in
            x.withUnsafeBufferPointer { x in
                out.withMemoryRebound(to: UInt8.self) { out in
                    for i in 0..<rows { out[i] = test(x[i]) ? 1 : 0 }
                }
            }
            initialized = rows
        }
    }

    /// `x[i] OP c` for every row. Greater-than is written as "not at most" so that, for
    /// floats, NaN is above every number (as `Evaluator.order` ranks it); for integers the
    /// two forms are the same.
    @inline(__always)
    static func compare<T: Comparable>(_ x: [T], _ op: BinaryOperator, _ c: T, rows: Int) -> [Bool] {
        switch op {
        case .equal: test(x, rows: rows) { $0 == c }
        case .notEqual: test(x, rows: rows) { $0 != c }
        case .less: test(x, rows: rows) { $0 < c }
        case .lessOrEqual: test(x, rows: rows) { $0 <= c }
        case .greater: test(x, rows: rows) { !($0 <= c) }
        default: test(x, rows: rows) { !($0 < c) }
        }
    }
}
