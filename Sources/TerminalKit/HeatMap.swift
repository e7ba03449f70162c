// The attention map: ASCII ramp, colour half-blocks, thresholded views.

/// A single-channel map, row-major, `values.count == width * height`.
public struct FloatMap: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var values: [Float]

    public init(width: Int, height: Int, values: [Float]) {
        self.width = width
        self.height = height
        self.values = values
    }

    /// Width and height positive and the value count matching.
    public var isValid: Bool { width > 0 && height > 0 && values.count == width * height }
}

/// How a cell shows a map: a character of the ramp, or two coloured pixels.
public enum MapRendering: Sendable, Equatable {
    /// One character per cell from ` .:-=+*#%@`, coloured with the theme's gradient.
    case ascii
    /// `▀` half-blocks: foreground the upper pixel, background the lower one.
    case halfBlock
}

/// Which attention the map shows, following the threshold mode.
public enum AttentionView: Sendable, Equatable {
    /// The map as it is.
    case soft
    /// Values at or below tau set to 0: `a * 1[a > tau]`.
    case zeroBelow(tau: Float)
    /// The mask `1[a > tau]`: `#` (or `heat_end`) where more than half a cell is above.
    case binary(tau: Float)
}

/// Sampling helpers shared by the map and image widgets.
public enum Raster {
    /// The largest size in cells (at most `maxColumns` x `maxRows`) that shows an image of
    /// `imageWidth` x `imageHeight` pixels undistorted, a cell being twice as tall as wide.
    /// Both for ASCII (one sample per cell) and half-blocks (two square pixels per cell).
    public static func fittedSize(imageWidth: Int, imageHeight: Int, maxColumns: Int, maxRows: Int) -> Size {
        guard imageWidth > 0, imageHeight > 0, maxColumns > 0, maxRows > 0 else {
            return Size(width: 0, height: 0)
        }
        let aspect = Double(imageHeight) / Double(imageWidth)  // rows per column = aspect / 2
        var cols = maxColumns
        var rows = max(1, Int((Double(cols) * aspect / 2).rounded()))
        if rows > maxRows {
            rows = maxRows
            cols = min(maxColumns, max(1, Int((Double(rows) * 2 / aspect).rounded())))
        }
        return Size(width: cols, height: rows)
    }

    /// Area-average resampling (a box filter with exact partial coverage) of a row-major
    /// `width` x `height` plane to `toWidth` x `toHeight`. Up-sampling repeats pixels.
    public static func resample(_ values: [Float], width: Int, height: Int, toWidth: Int, toHeight: Int) -> [Float] {
        guard width > 0, height > 0, toWidth > 0, toHeight > 0, values.count >= width * height else {
            return [Float](repeating: 0, count: max(0, toWidth) * max(0, toHeight))
        }
        let xs = spans(source: width, target: toWidth)
        let ys = spans(source: height, target: toHeight)
        var out = [Float](repeating: 0, count: toWidth * toHeight)
        values.withUnsafeBufferPointer { src in
            for (ty, ySpan) in ys.enumerated() {
                for (tx, xSpan) in xs.enumerated() {
                    var sum: Double = 0, weight: Double = 0
                    for (sy, wy) in ySpan {
                        let row = sy * width
                        for (sx, wx) in xSpan {
                            var v = Double(src[row + sx])
                            if v.isNaN { v = 0 }
                            sum += v * wx * wy
                            weight += wx * wy
                        }
                    }
                    out[ty * toWidth + tx] = weight > 0 ? Float(sum / weight) : 0
                }
            }
        }
        return out
    }

    /// For each target index: the source indices it covers and by how much.
    private static func spans(source: Int, target: Int) -> [[(Int, Double)]] {
        let scale = Double(source) / Double(target)
        return (0..<target).map { t in
            let lo = Double(t) * scale, hi = Double(t + 1) * scale
            var covered: [(Int, Double)] = []
            var s = Int(lo)
            while Double(s) < hi && s < source {
                let w = min(hi, Double(s + 1)) - max(lo, Double(s))
                if w > 1e-12 { covered.append((s, w)) }
                s += 1
            }
            if covered.isEmpty { covered.append((min(Int(lo), source - 1), 1)) }
            return covered
        }
    }
}

/// The attention map widget.
public enum HeatMap {
    /// Ten levels from empty to full.
    public static let ramp: [Character] = Array(" .:-=+*#%@")

    /// The ramp character for `v` in 0...1 (clamped; NaN is 0): ten equal bins.
    public static func rampCharacter(_ v: Float) -> Character {
        let v = v.isNaN ? 0 : min(max(v, 0), 1)
        return ramp[min(ramp.count - 1, Int(v * Float(ramp.count)))]
    }

    /// The fraction of the map's values strictly above `tau` (0 for an empty map; NaN
    /// values count as not above).
    public static func fractionAbove(_ map: FloatMap, tau: Float) -> Double {
        guard !map.values.isEmpty else { return 0 }
        var n = 0
        for v in map.values where v > tau { n += 1 }
        return Double(n) / Double(map.values.count)
    }

    /// `view` applied to every value.
    public static func apply(_ view: AttentionView, to values: [Float]) -> [Float] {
        switch view {
        case .soft: return values
        case let .zeroBelow(tau): return values.map { $0 > tau ? $0 : 0 }
        case let .binary(tau): return values.map { $0 > tau ? 1 : 0 }
        }
    }

    /// Draws `map` fitted into `rect` (largest undistorted size, centred horizontally,
    /// at the top) and returns the rectangle drawn. An invalid map draws `no map`.
    @discardableResult
    public static func draw(_ map: FloatMap, rendering: MapRendering, view: AttentionView = .soft,
                            theme: Theme, into canvas: inout Canvas, in rect: Rect) -> Rect {
        let rect = rect.intersection(canvas.bounds)
        guard !rect.isEmpty else { return rect }
        guard map.isValid else {
            let msg = truncated("no map", to: rect.width)
            canvas.put(msg, x: rect.x + (rect.width - columnWidth(msg)) / 2, y: rect.y + (rect.height - 1) / 2,
                       style: theme.style(.inactiveFg), clip: rect)
            return Rect(x: rect.x, y: rect.y, width: 0, height: 0)
        }
        let size = Raster.fittedSize(imageWidth: map.width, imageHeight: map.height,
                                     maxColumns: rect.width, maxRows: rect.height)
        let area = Rect(x: rect.x + (rect.width - size.width) / 2, y: rect.y, width: size.width, height: size.height)
        let values = apply(view, to: map.values)
        let binary: Bool
        if case .binary = view { binary = true } else { binary = false }
        let heat = theme.heatGradient
        switch rendering {
        case .ascii:
            let cells = Raster.resample(values, width: map.width, height: map.height,
                                        toWidth: area.width, toHeight: area.height)
            for r in 0..<area.height {
                for c in 0..<area.width {
                    let v = cells[r * area.width + c]
                    let ch: Character = binary ? (v >= 0.5 ? "#" : " ") : rampCharacter(v)
                    let fg = binary ? heat.end : heat(Double(v))
                    canvas.set(ch, x: area.x + c, y: area.y + r, style: Style(fg: fg))
                }
            }
        case .halfBlock:
            let pixels = Raster.resample(values, width: map.width, height: map.height,
                                         toWidth: area.width, toHeight: area.height * 2)
            func color(_ v: Float) -> Color {
                binary ? (v >= 0.5 ? heat.end : heat.start) : heat(Double(v))
            }
            for r in 0..<area.height {
                for c in 0..<area.width {
                    let upper = pixels[(2 * r) * area.width + c], lower = pixels[(2 * r + 1) * area.width + c]
                    canvas.set("▀", x: area.x + c, y: area.y + r, style: Style(fg: color(upper), bg: color(lower)))
                }
            }
        }
        return area
    }
}
