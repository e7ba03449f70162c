// Loss curves in braille: 2x4 dots per cell, several series, a legend, EMA smoothing,
// log scale and vertical markers.
import Basics
import Foundation

/// One point of a series.
public struct ChartPoint: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// A named curve.
public struct ChartSeries: Sendable, Equatable {
    public var name: String
    public var points: [ChartPoint]
    /// Which theme colour (`graph_1`... cycling); `nil` takes the series' position.
    public var colorIndex: Int?
    /// The smoothed curve at the same points, when the caller computed it (over more
    /// points than it passes, say); `nil` smooths `points` with the chart's weight.
    public var smoothedValues: [Double]?

    public init(name: String, points: [ChartPoint], colorIndex: Int? = nil, smoothedValues: [Double]? = nil) {
        self.name = name
        self.points = points
        self.colorIndex = colorIndex
        self.smoothedValues = smoothedValues
    }

    /// A series with `y` values at x = `start`, `start + step`, ...
    public init(name: String, values: [Double], start: Double = 0, step: Double = 1, colorIndex: Int? = nil) {
        self.init(name: name,
                  points: values.enumerated().map { ChartPoint(x: start + Double($0.offset) * step, y: $0.element) },
                  colorIndex: colorIndex)
    }
}

/// A vertical line at an x position, with a label at the top of the chart.
public struct ChartMarker: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A change of training stage: `┆` in `marker_stage`.
        case stage
        /// A checkpoint: `┊` in `marker_checkpoint`.
        case checkpoint
        /// Where the viewer is (a snapshot from the history): `│` in `hi_fg`.
        case cursor

        var glyph: Character {
            switch self {
            case .stage: return "┆"
            case .checkpoint: return "┊"
            case .cursor: return "│"
            }
        }

        var themeKey: ThemeKey {
            switch self {
            case .stage: return .markerStage
            case .checkpoint: return .markerCheckpoint
            case .cursor: return .hiFg
            }
        }
    }
    public var x: Double
    public var label: String
    public var kind: Kind

    public init(x: Double, label: String, kind: Kind) {
        self.x = x
        self.label = label
        self.kind = kind
    }
}

/// How a chart is drawn.
public struct LineChartOptions: Sendable, Equatable {
    /// EMA weight, clamped to 0...0.99; 0 draws the raw curve only.
    public var smoothing: Double
    /// Log10 y axis. Values at or below `logFloor` (zeros, negatives) are drawn at the floor.
    public var logScale: Bool
    /// The floor of the log scale; `nil` takes the smallest positive value, but at most
    /// six decades below the largest (1e-6 when nothing is positive).
    public var logFloor: Double?
    /// Draw the raw curve faintly behind the smoothed one (when smoothing).
    public var showRaw: Bool
    /// The name of the x axis, at its right end (`step`, `epoch`).
    public var xLabel: String
    /// Where to put x tick labels; `nil` chooses round numbers.
    public var xTicks: [Double]?
    /// The most rows the legend may take.
    public var maxLegendRows: Int
    /// Draw the row of x tick labels (off for a chart stacked above another).
    public var showXAxis: Bool
    /// The y labels take at least this many columns, so that stacked charts line up.
    public var minLabelWidth: Int
    /// The x range; `nil` takes the range of the data.
    public var xRange: ClosedRange<Double>?

    public init(smoothing: Double = 0, logScale: Bool = false, logFloor: Double? = nil, showRaw: Bool = true,
                xLabel: String = "step", xTicks: [Double]? = nil, maxLegendRows: Int = 2,
                showXAxis: Bool = true, minLabelWidth: Int = 0, xRange: ClosedRange<Double>? = nil) {
        self.smoothing = smoothing
        self.logScale = logScale
        self.logFloor = logFloor
        self.showRaw = showRaw
        self.xLabel = xLabel
        self.xTicks = xTicks
        self.maxLegendRows = maxLegendRows
        self.showXAxis = showXAxis
        self.minLabelWidth = minLabelWidth
        self.xRange = xRange
    }
}

/// Braille line charts.
///
/// Layout inside the rectangle, top to bottom: the plot (y labels and an axis on the
/// left), one row of x tick labels, then the legend (`━ name value`, the last raw value
/// of each series, `nan` when it is not a number).
public enum LineChart {
    /// The largest smoothing weight.
    public static let maxSmoothing = 0.99

    /// Debiased exponential moving average, as TensorBoard draws it:
    /// `s_t = w s_{t-1} + (1 - w) y_t`, shown as `s_t / (1 - w^t)` where `t` counts the
    /// finite values so far. A value that is not finite passes through unchanged and
    /// does not enter the average. `weight` is clamped to 0...0.99.
    public static func smooth(_ ys: [Double], weight: Double) -> [Double] {
        let w = clampedWeight(weight)
        var out: [Double] = []
        out.reserveCapacity(ys.count)
        var last = 0.0
        var wPower = 1.0  // w^t, t the finite values so far
        for y in ys {
            guard y.isFinite else { out.append(y); continue }
            last = last * w + (1 - w) * y
            wPower *= w
            out.append(last / (1 - wPower))
        }
        return out
    }

    static func clampedWeight(_ w: Double) -> Double {
        w.isNaN ? 0 : min(max(w, 0), maxSmoothing)
    }

    /// Round tick values (1, 2 or 5 times a power of ten apart) in `lo...hi`, at most
    /// about `maxCount` of them.
    public static func niceTicks(from lo: Double, to hi: Double, maxCount: Int) -> [Double] {
        guard lo.isFinite, hi.isFinite else { return [] }
        guard hi > lo, maxCount >= 1 else { return [lo] }
        let raw = (hi - lo) / Double(maxCount)
        guard raw.isFinite, raw > 0 else { return [lo] }
        let magnitude = pow(10, floor(log10(raw)))
        let norm = raw / magnitude
        let step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude
        let first = (lo / step).rounded(.up), last = (hi / step).rounded(.down)
        guard first <= last, last - first < 1000 else { return [lo, hi] }
        // Below 1, divide by a whole number so that 3 x 0.1 comes out as 0.3.
        let inverse = magnitude < 1 ? (1 / magnitude).rounded() : 0
        let unit = step / magnitude
        return stride(from: first, through: last, by: 1).map {
            (inverse > 0 ? $0 * unit / inverse : $0 * step) + 0
        }
    }

    /// The bit of the braille dot at `row` 0...3, `column` 0...1 (U+2800 numbering).
    @inline(__always)
    static func dotBit(row: Int, column: Int) -> UInt8 {
        row == 3 ? (column == 0 ? 0x40 : 0x80) : UInt8(1 << (row + 3 * column))
    }

    /// The braille character with the dots in `bits` (bit order of U+2800).
    public static func braille(_ bits: UInt8) -> Character {
        Character(Unicode.Scalar(0x2800 + UInt32(bits))!)
    }

    /// Draws `series` with `markers` into `rect` of `canvas`.
    public static func draw(_ series: [ChartSeries], markers: [ChartMarker] = [],
                            options: LineChartOptions = LineChartOptions(), theme: Theme,
                            into canvas: inout Canvas, in rect: Rect) {
        let rect = rect.intersection(canvas.bounds)
        guard !rect.isEmpty else { return }
        let weight = clampedWeight(options.smoothing)
        let smoothing = weight > 0
        let drawRaw = smoothing && options.showRaw

        // Curves: x and y per point; a value that is not finite breaks the line.
        var xs: [[Double]] = [], rawYs: [[Double]] = [], mainYs: [[Double]] = []
        for s in series {
            let ys = s.points.map { $0.y }
            xs.append(s.points.map { $0.x })
            rawYs.append(ys)
            if smoothing, let given = s.smoothedValues, given.count == ys.count {
                mainYs.append(given)
            } else {
                mainYs.append(smoothing ? smooth(ys, weight: weight) : ys)
            }
        }

        // Log transform.
        var floorValue = 1e-6
        if options.logScale {
            if let f = options.logFloor, f > 0, f.isFinite {
                floorValue = f
            } else {
                var minPositive = Double.infinity, maxPositive = 0.0
                for ys in mainYs + (drawRaw ? rawYs : []) {
                    for y in ys where y.isFinite && y > 0 {
                        minPositive = min(minPositive, y)
                        maxPositive = max(maxPositive, y)
                    }
                }
                if maxPositive > 0 { floorValue = max(minPositive, maxPositive * 1e-6) }
            }
        }
        func transform(_ y: Double) -> Double {
            guard options.logScale, y.isFinite else { return y }
            return log10(max(y, floorValue))
        }

        // Ranges over finite points, in data space (the log transform keeps the order).
        var xMin = Double.infinity, xMax = -Double.infinity
        var yMin = Double.infinity, yMax = -Double.infinity
        func extend(_ xv: [Double], _ yv: [Double]) {
            for (x, y) in zip(xv, yv) where x.isFinite && y.isFinite {
                xMin = min(xMin, x); xMax = max(xMax, x)
                yMin = min(yMin, y); yMax = max(yMax, y)
            }
        }
        for i in xs.indices {
            extend(xs[i], mainYs[i])
            if drawRaw { extend(xs[i], rawYs[i]) }
        }
        yMin = transform(yMin)
        yMax = transform(yMax)
        if let r = options.xRange, r.lowerBound.isFinite, r.upperBound.isFinite, xMin <= xMax {
            xMin = r.lowerBound
            xMax = r.upperBound
        }
        let hasData = xMin <= xMax
        if hasData {
            let scale = max(abs(yMin), abs(yMax))
            if yMax - yMin <= scale * 1e-9 {
                let pad = options.logScale ? 0.5 : (scale > 0 ? scale * 0.1 : 1)
                yMin -= pad
                yMax += pad
            }
        }

        // Legend.
        let legend = legendEntries(series, theme: theme)
        let legendLayout = layoutLegend(legend, width: rect.width)
        let legendRows = min(legendLayout.count, max(0, options.maxLegendRows), rect.height)
        let plotRows = max(0, rect.height - legendRows - (options.showXAxis ? 1 : 0))
        drawLegend(legend, layout: legendLayout, rows: legendRows, theme: theme, into: &canvas,
                   at: Rect(x: rect.x, y: rect.maxY - legendRows, width: rect.width, height: legendRows))
        guard plotRows >= 1 else { return }

        // Y labels.
        let dotRows = plotRows * 4
        func yValue(atRow r: Int) -> Double {
            let dot: Double = r == 0 ? 0 : r == plotRows - 1 ? Double(dotRows - 1) : Double(r * 4) + 1.5
            let t = dotRows > 1 ? dot / Double(dotRows - 1) : 0.5
            let v = yMax * (1 - t) + yMin * t  // finite even when yMax - yMin is not
            return options.logScale ? pow(10, v) : v
        }
        var labelRows: [Int] = []
        if hasData {
            let count = plotRows >= 12 ? 5 : plotRows >= 5 ? 3 : plotRows >= 2 ? 2 : 1
            labelRows = count == 1 ? [0] : (0..<count).map { ($0 * (plotRows - 1) + (count - 1) / 2) / (count - 1) }
        }
        let labels = labelRows.map { Format.value(yValue(atRow: $0)) }
        let labelWidth = min(max(labels.map(columnWidth).max() ?? 0, options.minLabelWidth), max(0, rect.width - 3))
        let axisX = rect.x + labelWidth
        let plot = Rect(x: axisX + 1, y: rect.y, width: rect.maxX - axisX - 1, height: plotRows)
        for (r, label) in zip(labelRows, labels) {
            let l = truncated(label, to: labelWidth)
            canvas.put(l, x: axisX - columnWidth(l), y: rect.y + r, style: theme.style(.graphText), clip: rect)
        }
        for r in 0..<plotRows {
            canvas.set(labelRows.contains(r) ? "┤" : "│", x: axisX, y: rect.y + r,
                       style: theme.style(.divLine), clip: rect)
        }
        guard plot.width >= 1 else { return }
        guard hasData else {
            let msg = truncated("no data", to: plot.width)
            canvas.put(msg, x: plot.x + (plot.width - columnWidth(msg)) / 2, y: plot.y + (plot.height - 1) / 2,
                       style: theme.style(.inactiveFg), clip: plot)
            return
        }

        // Dots.
        let dotCols = plot.width * 2
        let dotX = DotAxis(lo: xMin, hi: xMax, count: dotCols, flip: false)
        let dotY = DotAxis(lo: yMin, hi: yMax, count: dotRows, flip: true)
        let cellCount = plot.width * plotRows
        var rawBits = [UInt8](repeating: 0, count: cellCount), rawOwner = [Int](repeating: -1, count: cellCount)
        var mainBits = [UInt8](repeating: 0, count: cellCount), mainOwner = [Int](repeating: -1, count: cellCount)

        func plotCurve(_ ys: [Double], xs: [Double], owner: Int, bits: inout [UInt8], owners: inout [Int]) {
            let width = plot.width
            func dot(_ dx: Int, _ dy: Int) {
                let i = (dy >> 2) * width + dx >> 1
                bits[i] |= dotBit(row: dy & 3, column: dx & 1)
                owners[i] = owner
            }
            var previous = (0, 0)
            for b in columnBuckets(xs: xs, ys: ys, dotX: dotX) {
                let first = dotY(transform(b.first))
                if b.joinsPrevious, previous != (b.column, first) { line(from: previous, to: (b.column, first), dot) }
                line(from: (b.column, dotY(transform(b.high))), to: (b.column, dotY(transform(b.low))), dot)
                previous = (b.column, dotY(transform(b.last)))
            }
        }
        if drawRaw {
            for i in series.indices {
                plotCurve(rawYs[i], xs: xs[i], owner: i, bits: &rawBits, owners: &rawOwner)
            }
        }
        for i in series.indices {
            plotCurve(mainYs[i], xs: xs[i], owner: i, bits: &mainBits, owners: &mainOwner)
        }

        // Markers, behind the curves.
        var markerGlyph = [Character?](repeating: nil, count: plot.width)
        var markerStyle = [Style](repeating: Style(), count: plot.width)
        var labelSpans: [(Int, Int)] = []
        for m in markers where m.x.isFinite && m.x >= xMin && m.x <= xMax {
            let col = dotX(m.x) / 2
            markerGlyph[col] = m.kind.glyph
            markerStyle[col] = theme.style(m.kind.themeKey)
        }

        let baseColors = series.indices.map { theme.seriesColor(series[$0].colorIndex ?? $0) }
        let faint = baseColors.map { Style(fg: $0.mixed(with: theme[.mainBg], 0.35), attributes: .dim) }
        for r in 0..<plotRows {
            for c in 0..<plot.width {
                let i = r * plot.width + c
                if mainBits[i] != 0 {
                    canvas.set(braille(mainBits[i]), x: plot.x + c, y: plot.y + r,
                               style: Style(fg: baseColors[mainOwner[i]]))
                } else if rawBits[i] != 0 {
                    canvas.set(braille(rawBits[i]), x: plot.x + c, y: plot.y + r, style: faint[rawOwner[i]])
                } else if let g = markerGlyph[c] {
                    canvas.set(g, x: plot.x + c, y: plot.y + r, style: markerStyle[c])
                } else {
                    canvas.set(" ", x: plot.x + c, y: plot.y + r, style: Style())
                }
            }
        }

        // Marker labels on the top row, right of the line (left when there is no room),
        // never over another label.
        for m in markers where m.x.isFinite && m.x >= xMin && m.x <= xMax && !m.label.isEmpty {
            let col = dotX(m.x) / 2
            let w = columnWidth(m.label)
            var start = col + 1
            if start + w > plot.width { start = col - w }
            guard start >= 0, start + w <= plot.width else { continue }
            // Keep a blank between labels.
            if labelSpans.contains(where: { start <= $0.1 + 1 && $0.0 <= start + w }) { continue }
            labelSpans.append((start, start + w - 1))
            canvas.put(m.label, x: plot.x + start, y: plot.y, style: theme.style(m.kind.themeKey), clip: plot)
        }

        // X ticks and the axis name.
        guard options.showXAxis else { return }
        let axisRow = plot.maxY
        let ticks: [Double]
        if let given = options.xTicks {
            ticks = given
        } else if xMax > xMin {
            ticks = niceTicks(from: xMin, to: xMax, maxCount: max(2, plot.width / 10))
                // Steps and epochs are whole numbers: no tick at 0.5 between them.
                .filter { xMin != xMin.rounded() || xMax != xMax.rounded() || $0 == $0.rounded() }
        } else {
            ticks = [xMin]
        }
        var lastEnd = rect.x - 2
        let tickStyle = theme.style(.graphText)
        for t in ticks where t.isFinite {
            let tolerance = (xMax - xMin) * 1e-9
            guard t >= xMin - tolerance, t <= xMax + tolerance else { continue }
            let label = Format.tick(t)
            let w = columnWidth(label)
            let col = plot.x + dotX(t) / 2
            let start = min(max(col - (w - 1) / 2, rect.x), rect.maxX - w)
            guard start > lastEnd + 1 else { continue }
            canvas.put(label, x: start, y: axisRow, style: tickStyle, clip: rect)
            lastEnd = start + w - 1
        }
        let name = options.xLabel
        if !name.isEmpty {
            let start = rect.maxX - columnWidth(name)
            if start > lastEnd + 2 {
                canvas.put(name, x: start, y: axisRow, style: theme.style(.inactiveFg), clip: rect)
            }
        }
    }

    /// The points of a curve that fall in one dot column, one after the other.
    struct ColumnBucket {
        var column: Int
        var first: Double, last: Double, low: Double, high: Double
        /// The curve comes from the previous bucket (no value that is not finite between).
        var joinsPrevious: Bool
    }

    /// Many points fall in one dot column: there the curve is the vertical span between
    /// their lowest and highest value, joined to its neighbours from the first and the
    /// last. So drawing costs a few dots per column however many points there are.
    static func columnBuckets(xs: [Double], ys: [Double], dotX: DotAxis) -> [ColumnBucket] {
        var out: [ColumnBucket] = []
        var current = ColumnBucket(column: -1, first: 0, last: 0, low: 0, high: 0, joinsPrevious: false)
        var joins = false
        for k in 0..<min(xs.count, ys.count) {
            let x = xs[k], y = ys[k]
            guard x.isFinite, y.isFinite else {
                if current.column >= 0 { out.append(current) }
                current.column = -1
                joins = false
                continue
            }
            let dx = dotX(x)
            if dx == current.column {
                current.last = y
                current.low = min(current.low, y)
                current.high = max(current.high, y)
            } else {
                if current.column >= 0 { out.append(current) }
                current = ColumnBucket(column: dx, first: y, last: y, low: y, high: y, joinsPrevious: joins)
                joins = true
            }
        }
        if current.column >= 0 { out.append(current) }
        return out
    }

    /// Maps a value in `lo...hi` to a dot index in `0..<count` (top down when `flip`).
    struct DotAxis {
        let halfLo: Double, inverseSpan: Double, last: Double, lastIndex: Int, flip: Bool

        init(lo: Double, hi: Double, count: Int, flip: Bool) {
            // Halves keep hi - lo finite for values near the largest Double.
            let span = hi * 0.5 - lo * 0.5
            halfLo = lo * 0.5
            inverseSpan = span > 0 ? 1 / span : 0
            last = Double(count - 1)
            lastIndex = count - 1
            self.flip = flip
        }

        @inline(__always)
        func callAsFunction(_ v: Double) -> Int {
            var f = inverseSpan > 0 ? (v * 0.5 - halfLo) * inverseSpan : 0.5
            if flip { f = 1 - f }
            let d = f * last + 0.5
            guard d > 0 else { return 0 }
            return min(Int(d), lastIndex)
        }
    }

    /// Calls `plot` for every dot of the line from `a` to `b` (Bresenham), ends included.
    static func line(from a: (Int, Int), to b: (Int, Int), _ plot: (Int, Int) -> Void) {
        var (x, y) = a
        let dx = abs(b.0 - x), dy = -abs(b.1 - y)
        let sx = x < b.0 ? 1 : -1, sy = y < b.1 ? 1 : -1
        var err = dx + dy
        while true {
            plot(x, y)
            if x == b.0 && y == b.1 { return }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    /// One series' name, last value and colour in a legend.
    public struct LegendEntry: Sendable {
        public var name: String
        public var value: String
        public var color: Color
        public var width: Int { 2 + columnWidth(name) + 1 + columnWidth(value) }
    }

    public static func legendEntries(_ series: [ChartSeries], theme: Theme) -> [LegendEntry] {
        series.enumerated().map { i, s in
            let value = s.points.last.map { Format.value($0.y) } ?? "-"
            return LegendEntry(name: s.name, value: value, color: theme.seriesColor(s.colorIndex ?? i))
        }
    }

    /// Entry indices per row, filling rows greedily with two blanks between entries.
    public static func layoutLegend(_ entries: [LegendEntry], width: Int) -> [[Int]] {
        var rows: [[Int]] = []
        var current: [Int] = []
        var used = 0
        for (i, e) in entries.enumerated() {
            let need = (current.isEmpty ? 0 : 2) + e.width
            if !current.isEmpty && used + need > width {
                rows.append(current)
                current = []
                used = 0
            }
            used += (current.isEmpty ? 0 : 2) + e.width
            current.append(i)
        }
        if !current.isEmpty { rows.append(current) }
        return rows
    }

    static func drawLegend(_ entries: [LegendEntry], layout: [[Int]], rows: Int, theme: Theme,
                           into canvas: inout Canvas, at rect: Rect) {
        guard rows > 0 else { return }
        for r in 0..<min(rows, layout.count) {
            var x = rect.x
            let y = rect.y + r
            var hidden = r == rows - 1 ? layout[(r + 1)...].reduce(0) { $0 + $1.count } : 0
            let moreWidth = hidden > 0 ? 2 + columnWidth("+\(hidden + layout[r].count)") : 0
            for (k, i) in layout[r].enumerated() {
                let e = entries[i]
                if hidden > 0, x + (x > rect.x ? 2 : 0) + e.width + moreWidth > rect.maxX {
                    hidden += layout[r].count - k
                    break
                }
                if x > rect.x { x += 2 }
                x = canvas.put("━", x: x, y: y, style: Style(fg: e.color, attributes: .bold), clip: rect)
                x = canvas.put(" " + e.name + " ", x: x, y: y, style: theme.style(.graphText), clip: rect)
                x = canvas.put(e.value, x: x, y: y, style: theme.style(.mainFg), clip: rect)
            }
            if hidden > 0 {
                let more = "+\(hidden)"
                canvas.put(more, x: rect.maxX - columnWidth(more), y: y, style: theme.style(.inactiveFg), clip: rect)
            }
        }
    }
}
