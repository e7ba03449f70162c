// How stored intensities (0...65535, floats...) become the [0, 1] samples the model
// sees, and back: chosen by the user (`--normalize`), recorded in the run's config and
// checkpoint, inverted on output.

/// The user's choice of intensity normalisation for TIFF files.
///
/// - `percentiles(low, high)` (`p0.1,p99.9`, the default): per image, the `low`-th
///   percentile maps to 0 and the `high`-th to 1 (from a histogram: exact for 8- and
///   16-bit data, to 1/65536 of the range for float data).
/// - `fixed(low, high)` (`fixed:0,4095`): stored value `low` maps to 0, `high` to 1.
/// - `none`: integers divided by their type's maximum (255, 65535), floats as they are.
///
/// Values beyond 0 and 1 are clipped for the model; the inverse maps [0, 1] back to
/// [low, high] and rounds to the file's type.
public enum IntensityNormalization: Sendable, Equatable, CustomStringConvertible {
    case percentiles(low: Double, high: Double)
    case fixed(low: Double, high: Double)
    case none

    /// `p0.1,p99.9`.
    public static let standard = IntensityNormalization.percentiles(low: 0.1, high: 99.9)

    /// Parses `p0.1,p99.9`, `fixed:LOW,HIGH` or `none`.
    public init(parsing text: String) throws {
        func pair(_ s: Substring) -> (Double, Double)? {
            let parts = s.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 2 else { return nil }
            let a = parts[0].hasPrefix("p") && !text.hasPrefix("fixed:") ? parts[0].dropFirst() : parts[0]
            let b = parts[1].hasPrefix("p") && !text.hasPrefix("fixed:") ? parts[1].dropFirst() : parts[1]
            guard let x = Double(a), let y = Double(b), x.isFinite, y.isFinite else { return nil }
            return (x, y)
        }
        let usage = "expected pLOW,pHIGH (percentiles, e.g. p0.1,p99.9), fixed:LOW,HIGH (stored values) or none, got '\(text)'"
        if text == "none" {
            self = .none
        } else if text.hasPrefix("fixed:") {
            guard let (a, b) = pair(text.dropFirst(6)[...]), a < b else { throw ImagingError.invalid("--normalize", usage) }
            self = .fixed(low: a, high: b)
        } else if text.hasPrefix("p") {
            guard let (a, b) = pair(text[...]), a >= 0, b <= 100, a < b else {
                throw ImagingError.invalid("--normalize", usage + " (percentiles in 0...100, low below high)")
            }
            self = .percentiles(low: a, high: b)
        } else {
            throw ImagingError.invalid("--normalize", usage)
        }
    }

    /// The text `init(parsing:)` reads back.
    public var description: String {
        func n(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }
        switch self {
        case let .percentiles(low, high): return "p\(n(low)),p\(n(high))"
        case let .fixed(low, high): return "fixed:\(n(low)),\(n(high))"
        case .none: return "none"
        }
    }

    /// The stored values that map to 0 and 1 for `values` of `type`.
    public func range(of values: ArraySlice<Float>, type: TIFFSampleType) -> IntensityRange {
        range(type: type) { visit in visit(values) }
    }

    /// The same for values too many to hold at once: `values` calls its argument with
    /// every chunk of them, and is called at most twice (see `IntensityHistogram`); it
    /// is not called for `fixed` and `none`.
    public func range(type: TIFFSampleType,
                      values: ((ArraySlice<Float>) -> Void) throws -> Void) rethrows -> IntensityRange {
        switch self {
        case .none:
            return IntensityRange(low: 0, high: type.maxValue ?? 1)
        case let .fixed(low, high):
            return IntensityRange(low: low, high: high)
        case let .percentiles(low, high):
            let histogram = try IntensityHistogram(type: type, values: values)
            let ab = histogram.percentiles([low, high])
            let a = ab[0], b = ab[1]
            // A flat image: one level (or one float bin) wide, so everything maps to 0.
            return IntensityRange(low: a, high: b > a ? b : a + max(histogram.binWidth, 1e-12))
        }
    }
}

/// The stored values that map to 0 and 1, and the mapping both ways.
public struct IntensityRange: Sendable, Equatable, Codable {
    public var low: Double
    public var high: Double

    public init(low: Double, high: Double) {
        self.low = low
        self.high = high
    }

    /// `(v - low) / (high - low)`, clipped to [0, 1] (NaN -> 0).
    @inline(__always)
    public func normalized(_ v: Float) -> Float {
        let x = Float((Double(v) - low) / (high - low))
        return x.isNaN ? 0 : min(max(x, 0), 1)
    }

    /// `low + p * (high - low)`: the stored value of sample `p` (before rounding to a type).
    @inline(__always)
    public func stored(_ p: Float) -> Float {
        Float(low + Double(p) * (high - low))
    }
}

/// A histogram of stored values with bounded memory: one bin per level between the
/// smallest and the largest value for 8- and 16-bit data (at most 256 or 65536 bins of
/// width 1), 65536 equal bins between the minimum and the maximum for float data. NaN and infinite values are not counted.
public struct IntensityHistogram: Sendable, Equatable {
    /// Lower edge of bin 0.
    public let lower: Double
    /// Width of every bin.
    public let binWidth: Double
    public let counts: [Int]
    /// Values counted.
    public let total: Int
    /// Whether a bin holds one integer level (so its percentiles are exact).
    let integerLevels: Bool

    public init(_ values: ArraySlice<Float>, type: TIFFSampleType) {
        self.init(type: type) { visit in visit(values) }
    }

    /// The histogram of values visited in chunks, for images too large to hold at once:
    /// `values` calls its argument with every chunk. It is called once for 8- and 16-bit
    /// data and twice for float data (the minimum and maximum first, then the counts),
    /// and must give the same values each time. The result equals `init(_:type:)` of
    /// all chunks joined.
    public init(type: TIFFSampleType, values visit: ((ArraySlice<Float>) -> Void) throws -> Void) rethrows {
        switch type {
        case .uint8, .uint16:
            // One bin per level while counting; then trimmed to the smallest and the
            // largest level present (at most 65536 bins).
            let top = Float(type.maxValue!)
            var all = [Int](repeating: 0, count: Int(top) + 1)
            var total = 0
            try visit { values in
                all.withUnsafeMutableBufferPointer { c in
                    for v in values where v.isFinite {
                        c[Int(min(max(v.rounded(), 0), top))] += 1
                        total += 1
                    }
                }
            }
            let first = all.firstIndex { $0 > 0 } ?? 0
            let last = all.lastIndex { $0 > 0 } ?? 0
            self.lower = Double(first)
            self.binWidth = 1
            self.counts = Array(all[first...last])
            self.total = total
            self.integerLevels = true
        case .float32:
            var lo = Float.infinity, hi = -Float.infinity
            try visit { values in
                for v in values where v.isFinite {
                    lo = min(lo, v)
                    hi = max(hi, v)
                }
            }
            let bins = 65536
            var counts = [Int](repeating: 0, count: bins)
            var total = 0
            if lo <= hi {
                let width = hi > lo ? (Double(hi) - Double(lo)) / Double(bins) : 1
                try visit { values in
                    for v in values where v.isFinite {
                        counts[min(Int((Double(v) - Double(lo)) / width), bins - 1)] += 1
                        total += 1
                    }
                }
                self.lower = Double(lo)
                self.binWidth = width
            } else {
                self.lower = 0
                self.binWidth = 1
            }
            self.counts = counts
            self.total = total
            self.integerLevels = false
        }
    }

    /// The `p`-th percentile (0...100) as numpy's default (linear interpolation between
    /// the order statistics at ranks floor and ceil of `p / 100 * (n - 1)`), each order
    /// statistic taken as its bin's level (integer data: exact) or centre (float data:
    /// within half a bin).
    public func percentile(_ p: Double) -> Double { percentiles([p])[0] }

    /// Several percentiles from one pass over the bins.
    public func percentiles(_ ps: [Double]) -> [Double] {
        guard total > 0 else { return ps.map { _ in lower } }
        // The ranks needed, each with where its value goes.
        var needs: [(rank: Int, slot: Int)] = []
        var weights: [Double] = []
        for p in ps {
            let rank = min(max(p, 0), 100) / 100 * Double(total - 1)
            let r0 = Int(rank.rounded(.down))
            needs.append((r0, 2 * weights.count))
            needs.append((min(r0 + 1, total - 1), 2 * weights.count + 1))
            weights.append(rank - Double(r0))
        }
        needs.sort { $0.rank < $1.rank }
        var values = [Double](repeating: 0, count: needs.count)
        let offset = integerLevels ? 0 : 0.5
        // Ranks in the lower half from the bottom, the others from the top: the usual
        // percentiles (0.1, 99.9) stop after a few bins.
        let split = needs.firstIndex { $0.rank >= total / 2 } ?? needs.count
        counts.withUnsafeBufferPointer { c in
            var seen = 0, next = 0
            var i = 0
            while next < split && i < c.count {
                seen += c[i]
                while next < split && needs[next].rank < seen {
                    values[needs[next].slot] = lower + (Double(i) + offset) * binWidth
                    next += 1
                }
                i += 1
            }
            // From the top: `above` values lie in bins above i.
            var above = 0, back = needs.count - 1
            i = c.count - 1
            while back >= split && i >= 0 {
                above += c[i]
                while back >= split && needs[back].rank >= total - above {
                    values[needs[back].slot] = lower + (Double(i) + offset) * binWidth
                    back -= 1
                }
                i -= 1
            }
        }
        return weights.indices.map { k in
            let v0 = values[2 * k], v1 = values[2 * k + 1]
            return v0 + (v1 - v0) * weights[k]
        }
    }
}
