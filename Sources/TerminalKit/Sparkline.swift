// A one-row chart of a series in eight block heights: ▁▂▃▄▅▆▇█.

public enum Sparkline {
    /// The eight levels, lowest first.
    public static let blocks: [Character] = Array("▁▂▃▄▅▆▇█")

    /// The series squeezed (bucket means) or kept to at most `width` values, oldest first.
    /// NaN values are left out of a bucket's mean; an all-NaN bucket is NaN.
    public static func buckets(_ values: [Double], width: Int) -> [Double] {
        guard width > 0, !values.isEmpty else { return [] }
        guard values.count > width else { return values }
        return (0..<width).map { b in
            let lo = b * values.count / width, hi = max(lo + 1, (b + 1) * values.count / width)
            var sum = 0.0, n = 0
            for v in values[lo..<hi] where v.isFinite { sum += v; n += 1 }
            return n > 0 ? sum / Double(n) : .nan
        }
    }

    /// The block for `v` on the scale `range` (clamped; NaN is a blank).
    public static func block(_ v: Double, range: ClosedRange<Double>) -> Character {
        guard v.isFinite else { return " " }
        let span = range.upperBound - range.lowerBound
        let t = span > 0 ? (v - range.lowerBound) / span : 0
        let i = Int((min(max(t, 0), 1) * Double(blocks.count - 1)).rounded())
        return blocks[i]
    }

    /// Draws `values` (bucketed to the width of `rect`) right-aligned on the first row of
    /// `rect`, on the fixed scale `range`, and returns the columns used.
    @discardableResult
    public static func draw(_ values: [Double], range: ClosedRange<Double>, style: Style,
                            into canvas: inout Canvas, in rect: Rect) -> Int {
        let rect = rect.intersection(canvas.bounds)
        guard !rect.isEmpty else { return 0 }
        let cells = buckets(values, width: rect.width)
        let x0 = rect.maxX - cells.count
        for (i, v) in cells.enumerated() {
            canvas.set(block(v, range: range), x: x0 + i, y: rect.y, style: style)
        }
        return cells.count
    }
}
