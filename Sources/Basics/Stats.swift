/// Summary statistics of a sample: the one place medians, percentiles, means and
/// standard deviations are computed (benchmarks, experiments).
public struct Stats: Sendable, Equatable {
    /// The finite values, sorted.
    public let sorted: [Double]

    /// Non-finite values are left out.
    public init(_ values: [Double]) { sorted = values.filter { $0.isFinite }.sorted() }

    public var count: Int { sorted.count }
    public var min: Double? { sorted.first }
    public var max: Double? { sorted.last }
    public var mean: Double? { sorted.isEmpty ? nil : sorted.reduce(0, +) / Double(sorted.count) }

    /// The middle value, or the mean of the two middle values.
    public var median: Double? {
        let n = sorted.count
        guard n > 0 else { return nil }
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }

    /// The sample standard deviation (n - 1); nil below two values.
    public var standardDeviation: Double? {
        guard sorted.count > 1, let m = mean else { return nil }
        return (sorted.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(sorted.count - 1)).squareRoot()
    }

    /// The value at fraction `p` (0...1) of the sorted sample (nearest rank below).
    public func percentile(_ p: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        return sorted[Swift.min(sorted.count - 1, Swift.max(0, Int(Double(sorted.count) * p)))]
    }
}
