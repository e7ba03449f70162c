// Display stretch for images: auto-contrast on percentiles, as microscopy viewers do
// (ImageJ's "Auto" saturates 0.35 % of the pixels). It changes only what is drawn.

/// A linear display range: `low` is drawn black, `high` white, values between are spread
/// over the levels between.
public struct DisplayRange: Sendable, Equatable {
    public var low: Float
    public var high: Float

    public init(low: Float, high: Float) {
        self.low = low
        self.high = high
    }

    /// The identity range 0...1 (values drawn at their raw levels).
    public static let full = DisplayRange(low: 0, high: 1)

    /// The range that saturates `saturated` of the values (half at each end) of `pixels`
    /// (values in 0...1; NaN and infinities are left out). A flat image (the two ends less
    /// than one 8-bit level apart) keeps the full range: stretching noise of a blank
    /// frame to full contrast would show structure that is not there.
    public static func auto(_ pixels: [Float], saturated: Double = 0.0035) -> DisplayRange {
        // A histogram of 4096 bins over 0...1 (values outside are clamped): percentiles to
        // 1/16 of an 8-bit level, in one pass, without sorting every frame's pixels.
        let bins = 4096
        var histogram = [Int](repeating: 0, count: bins)
        var n = 0
        for v in pixels where v.isFinite {
            histogram[Int((min(max(v, 0), 1) * Float(bins - 1)).rounded())] += 1
            n += 1
        }
        guard n > 0 else { return .full }
        func value(atRank rank: Int) -> Float {
            var seen = 0
            for (i, c) in histogram.enumerated() {
                seen += c
                if seen > rank { return Float(i) / Float(bins - 1) }
            }
            return 1
        }
        // The ranks `Stats.percentile` uses: nearest rank below.
        let low = value(atRank: min(n - 1, Int(Double(n) * saturated / 2)))
        let high = value(atRank: min(n - 1, Int(Double(n) * (1 - saturated / 2))))
        guard high - low >= 1.0 / 255 else { return .full }
        return DisplayRange(low: low, high: high)
    }

    /// `v` mapped through the range into 0...1 (clamped; NaN stays NaN).
    @inline(__always)
    public func apply(_ v: Float) -> Float {
        let t = (v - low) / (high - low)
        return t.isNaN ? t : min(max(t, 0), 1)
    }

    /// Every pixel mapped through the range.
    public func apply(_ pixels: [Float]) -> [Float] {
        self == .full ? pixels : pixels.map(apply)
    }

    /// `3–79` : the range in 8-bit levels, as the label beside a stretched image says it.
    public var levels: String {
        "\(Int((low * 255).rounded()))–\(Int((high * 255).rounded()))"
    }
}
