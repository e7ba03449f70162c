// The dashboard screen: a pure function of (snapshot, view state, size, theme) -> Canvas.
//
// ╭ aggan · run ──────── stage 2 · epoch 13/20 · step 1284 · 31.2 it/s RUNNING ─╮
// │ Losses  EMA 0.6 · log · by step          │ Attention A→B   tau 0.10 · soft │
// │  generator terms (braille, legend)       │   ASCII ramp or colour map of   │
// │  discriminator terms, x axis             │   the sample's attention        │
// │                                          │ 25.6% > tau   0 ·.:-=+*#%@ 1    │
// ├ Preview A→B · sample 1/4 ────────────────┴──────────┬─────────────────────┤
// │ input      attention    generated    composite      │ bg drift, ckpt, lr  │
// ╰─ space pause  n step  +/- tau  t mode ... ? help  q quit ─────────────────╯
//
// From 40 rows on, the preview shows both directions, one strip each.
import Basics
import TerminalKit
import AGGAN
import Foundation
import TrainingEngine

/// Where the parts of the dashboard go for a terminal size and view.
public struct DashboardLayout: Sendable, Equatable {
    public let size: Size
    /// Row of the divider above the preview.
    public let dividerY: Int
    /// Column of the divider between losses and attention.
    public let splitX: Int
    /// Column of the divider between the preview images and their figures.
    public let infoX: Int
    /// Preview rows: one per direction when there is room for both at full size.
    public let strips: Int
    public let imageRows: Int
    /// The attention map and the health panel share the column right of the losses.
    public let showsMap: Bool
    public let showsHealth: Bool

    /// Rows of the health panel: its title (on a divider below the map) and five figures.
    public static let healthRows = 6
    /// Rows the map needs beside the health panel (its title and figure row included).
    static let minimumMapRows = 9

    public init(size: Size, view: ViewState = ViewState()) {
        self.size = size
        let w = size.width, h = size.height
        let infoWidth = w >= 140 ? 32 : 21
        infoX = w - 2 - infoWidth
        let imagesWidth = infoX - 3
        let slot = max(1, (imagesWidth - ImageStrip.gap * 3) / 4)
        // Rows that show a square crop as wide as its slot (two pixels per row).
        let filling = max(1, Int((Double(slot) / 2).rounded()))
        if view.zoom != nil {
            // One image and its reference side by side, as large as the width allows,
            // leaving a third of the height (at least 10 rows) to the charts above.
            strips = 1
            let top = max(10, (h - 2) / 3)
            let byWidth = max(1, Int((Double((imagesWidth - ImageStrip.gap) / 2) / 2).rounded(.up)))
            imageRows = max(1, min(h - 2 - top - 1, byWidth))
        } else {
            // Both directions only when each strip still fills its slots.
            let maxInner = Int(Double(h - 2) * 0.42)
            strips = h >= 40 && maxInner / 2 - 1 >= filling ? 2 : 1
            imageRows = max(1, min(filling, maxInner / strips - 1))
        }
        dividerY = h - 2 - strips * (1 + imageRows)
        // The column right of the losses: the map above, the health panel below it.
        let columnRows = dividerY - 1
        let room = columnRows >= Self.minimumMapRows + Self.healthRows
        showsHealth = view.health || room
        showsMap = !view.health
        let mapRows = columnRows - 2 - (showsHealth && showsMap ? Self.healthRows : 0)
        let attentionWidth = min(max(32, mapRows * 2 + 2), (w - 3) / 2)
        splitX = w - 2 - attentionWidth - 1
    }

    /// The column right of the losses (title row included).
    public var column: Rect { Rect(x: splitX + 2, y: 1, width: size.width - splitX - 4, height: dividerY - 1) }
    /// The loss panel inside the frame (title row included).
    public var losses: Rect { Rect(x: 2, y: 1, width: splitX - 3, height: dividerY - 1) }
    /// The attention panel (title row and figure row included): the column, less the
    /// health panel below it.
    public var attention: Rect {
        let c = column
        guard showsMap else { return Rect(x: c.x, y: c.y, width: c.width, height: 1) }
        return Rect(x: c.x, y: c.y, width: c.width, height: c.height - (showsHealth ? Self.healthRows : 0))
    }
    /// The health panel at the bottom of the column (its title row included).
    public var health: Rect? {
        guard showsHealth else { return nil }
        let c = column
        let rows = showsMap ? Self.healthRows : c.height - 1
        return Rect(x: c.x, y: c.maxY - rows, width: c.width, height: rows)
    }
    /// The preview images.
    public var images: Rect { Rect(x: 2, y: dividerY + 1, width: infoX - 3, height: size.height - 2 - dividerY) }
    /// The figures beside the images.
    public var info: Rect {
        Rect(x: infoX + 2, y: dividerY + 1, width: size.width - infoX - 4, height: size.height - 2 - dividerY)
    }
}

/// The dashboard screen.
public enum Dashboard {
    /// Below this size the dashboard says it is too small.
    public static var minimumSize: Size { TooSmall.minimumSize }

    /// Draws the whole screen.
    ///
    /// - Parameters:
    ///   - live: the newest snapshot (nil before the first one: a frame that says so).
    ///   - view: what the user chose to look at.
    ///   - history: the engine's snapshot history, oldest first, for scrubbing.
    ///   - colors: what the terminal shows. With 16 colours or fewer the preview images are
    ///     drawn in ASCII (a ramp of 10 levels says more than 4 greys) and the theme's
    ///     background is left to the terminal; with none the attention map is ASCII too.
    ///   - runs: several runs' curves to overlay, one colour each, on the loss charts
    ///     (g_total above, the mean of d_s and d_t below) instead of the live run's terms.
    public static func render(_ live: TrainingSnapshot?, view: ViewState, history: [TrainingSnapshot] = [],
                              size: Size, theme: Theme, colors: ColorDepth = .truecolor,
                              runs: [RunCurves] = []) -> Canvas {
        let colorless = colors == .none
        let fewColors = colors == .none || colors == .ansi16
        var theme = theme
        if fewColors { theme.colors[.mainBg] = .default }
        var canvas = Canvas(width: size.width, height: size.height, foreground: theme[.mainFg],
                            background: theme[.mainBg])
        guard size.width >= minimumSize.width, size.height >= minimumSize.height else {
            TooSmall.draw(needed: minimumSize, theme: theme, into: &canvas)
            if view.quitPrompt, let live { drawQuitPrompt(live, theme: theme, into: &canvas) }
            return canvas
        }
        let layout = DashboardLayout(size: size, view: view)
        let timeline = DashboardInput.scrubbable(history, live: live)
        let scrubIndex = view.scrubIndex(in: timeline)
        let shown = scrubIndex.map { timeline[$0] } ?? live
        let scrub = scrubIndex.map { (step: timeline[$0].previewStep, position: $0 + 1, count: timeline.count) }

        drawFrame(layout, theme: theme, into: &canvas)
        drawHeader(live, view: view, scrub: scrub, theme: theme, into: &canvas)
        drawLosses(live, view: view, cursorStep: scrub?.step, layout: layout, theme: theme, runs: runs, into: &canvas)
        drawAttention(shown, view: view, layout: layout, theme: theme, colorless: colorless, into: &canvas)
        drawHealth(live, layout: layout, theme: theme, into: &canvas)
        drawPreview(shown, live: live, view: view, scrub: scrub, layout: layout, theme: theme,
                    asciiImages: fewColors, into: &canvas)
        drawFooter(layout, theme: theme, into: &canvas)

        if view.quitPrompt, let live {
            drawQuitPrompt(live, theme: theme, into: &canvas)
        } else if view.stopping {
            drawNotice(["stopping: finishing the step" + (live?.hasUnsavedSteps == true ? " and saving…" : "…")],
                       title: "quit", theme: theme, into: &canvas)
        }
        if view.helpShown { KeyTable.drawHelp(theme: theme, into: &canvas) }
        return canvas
    }

    // MARK: - Frame

    static func drawFrame(_ l: DashboardLayout, theme: Theme, into canvas: inout Canvas) {
        let line = theme.style(.divLine)
        let w = l.size.width, h = l.size.height
        canvas.box(canvas.bounds, border: .rounded, style: line)
        canvas.verticalDivider(x: l.splitX, from: 0, to: l.dividerY, style: line)
        canvas.set("─", x: l.splitX, y: 0, style: line)  // the header runs over the top edge
        canvas.horizontalDivider(y: l.dividerY, from: 0, to: w - 1, style: line)
        canvas.verticalDivider(x: l.infoX, from: l.dividerY, to: h - 1, style: line)
        canvas.set(l.splitX == l.infoX ? "┼" : "┴", x: l.splitX, y: l.dividerY, style: line)
        canvas.set(l.splitX == l.infoX ? "┼" : "┬", x: l.infoX, y: l.dividerY, style: line)
        if l.showsMap, let health = l.health {
            // The health panel's title row is a divider across the column.
            canvas.horizontalDivider(y: health.y, from: l.splitX, to: w - 1, style: line)
        }
    }

    static func drawFooter(_ l: DashboardLayout, theme: Theme, into canvas: inout Canvas) {
        let room = l.size.width - 6
        let text = KeyTable.footer(width: room)
        guard !text.isEmpty else { return }
        let width = columnWidth(text)
        canvas.fill(Rect(x: 2, y: l.size.height - 1, width: width + 2, height: 1), style: Style())
        KeyTable.drawFooter(theme: theme, into: &canvas, in: Rect(x: 3, y: l.size.height - 1, width: room, height: 1))
    }

    // MARK: - Header

    /// The state word at the right of the header.
    static func stateBadge(_ live: TrainingSnapshot?, view: ViewState) -> (String, ThemeKey) {
        guard let live else { return ("STARTING", .inactiveFg) }
        if view.readOnly { return ("VIEW", .statusPaused) }
        switch live.state {
        case .finished: return ("FINISHED", .statusRunning)
        case .stopped: return ("STOPPED", .statusPaused)
        case .failed: return ("FAILED", .warningFg)
        default: break
        }
        if live.fault != nil { return ("HALTED", .warningFg) }
        if view.stopping { return ("STOPPING", .warningFg) }
        switch live.state {
        case .running: return ("RUNNING", .statusRunning)
        case .idle: return ("STARTING", .inactiveFg)
        default: return ("PAUSED", .statusPaused)
        }
    }

    static func drawHeader(_ live: TrainingSnapshot?, view: ViewState, scrub: (step: Int, position: Int, count: Int)?,
                           theme: Theme, into canvas: inout Canvas) {
        let w = canvas.width
        // The scale chosen for the cells' size is part of what the run is: said beside its name.
        let title = "aggan" + (live.map { " · " + $0.runName + ($0.config.scale == 1 ? "" : " · scale " + Format.value($0.config.scale)) } ?? "")
        let titleText = " " + truncated(title, to: max(5, w / 3)) + " "
        var x = canvas.put(titleText, x: 1, y: 0, style: theme.style(.title, .bold))

        let (badge, badgeKey) = stateBadge(live, view: view)
        let badgeText = " " + badge + " "
        let badgeX = w - 2 - columnWidth(badgeText)
        canvas.put(badgeText, x: badgeX, y: 0, style: theme.style(badgeKey, .bold))

        if let scrub {
            let text = " HISTORY step \(scrub.step) (\(scrub.position)/\(scrub.count)) "
            if x + 1 + columnWidth(text) < badgeX - 4 {
                x = canvas.put(text, x: x + 1, y: 0, style: Style(fg: theme[.mainBg], bg: theme[.hiFg],
                                                                    attributes: [.bold]))
            }
        }
        guard let live else { return }
        var right = badgeX
        if let fault = live.fault {
            // A refused step: a red banner over the whole header, before anything else.
            let text = " " + truncated(fault, to: max(8, badgeX - x - 4)) + " "
            canvas.put(text, x: x + 1, y: 0, style: Style(fg: theme[.mainBg], bg: theme[.warningFg], attributes: [.bold]))
            return
        }
        if let alarm = live.attentionAlarm {
            // The collapse alarm takes the header's room before the status fields.
            let text = " " + truncated(alarm, to: max(8, badgeX - x - 4)) + " "
            right = badgeX - 1 - columnWidth(text)
            if right > x + 1 { canvas.put(text, x: right, y: 0, style: theme.style(.warningFg, .bold)) } else { right = badgeX }
        }
        let wide = w >= 120
        let fields = StatusFields(
            stage: live.stage, epoch: min(live.epoch + 1, live.config.epochs), epochs: live.config.epochs,
            step: live.step,
            iterationsPerSecond: live.state == .running ? live.iterationsPerSecond : nil,
            etaSeconds: live.state == .running ? live.eta : nil,
            learningRate: Double(live.learningRate),
            tau: wide ? Double(view.effectiveTau(live) ?? live.tau) : nil,
            thresholdMode: wide ? (view.effectiveMode(live) ?? live.mode).label : nil,
            isPaused: nil, lastCheckpointStep: wide ? live.lastCheckpointStep : nil)
        let room = Rect(x: x + 2, y: 0, width: right - (x + 2), height: 1)
        guard room.width > 4 else { return }
        let start = StatusLine.draw(fields, theme: theme, into: &canvas, in: room, alignRight: true)
        canvas.put(" ", x: start - 1, y: 0, style: Style())
    }

    // MARK: - Losses


    static func drawLosses(_ live: TrainingSnapshot?, view: ViewState, cursorStep: Int?, layout: DashboardLayout,
                           theme: Theme, runs: [RunCurves] = [], into canvas: inout Canvas) {
        let r = layout.losses
        let x = canvas.put("Losses", x: r.x, y: r.y, style: theme.style(.lossBox, .bold))
        var settings: [String] = [view.smoothing > 0 ? "EMA \(Format.value(view.smoothing))" : "raw"]
        if view.logScale { settings.append("log") }
        settings.append("by " + view.xAxis.rawValue)
        canvas.put("  " + settings.joined(separator: " · "), x: x, y: r.y, style: theme.style(.graphText), clip: r)

        let charts = Rect(x: r.x, y: r.y + 1, width: r.width, height: r.height - 1)
        guard let live else {
            let msg = "waiting for the first step…"
            canvas.put(msg, x: charts.x + (charts.width - columnWidth(msg)) / 2, y: charts.y + charts.height / 2,
                       style: theme.style(.inactiveFg), clip: charts)
            return
        }
        let points = live.history.points
        let perEpoch = Double(max(1, live.config.iterationsPerEpoch))
        func xValue(_ step: Int) -> Double { view.xAxis == .epoch ? Double(step) / perEpoch : Double(step) }
        var xs = points.map { xValue($0.step) }
        let maxPoints = max(64, charts.width * 8)
        var generator = lossSeries(points, xs: xs, terms: LossTerm.generator, firstColor: 0,
                                   smoothing: view.smoothing, maxPoints: maxPoints)
        var discriminator = lossSeries(points, xs: xs, terms: LossTerm.discriminator, firstColor: 5,
                                       smoothing: view.smoothing, maxPoints: maxPoints)
        if runs.count > 1 {
            // One colour per run, named by its folder: g_total above, (d_s + d_t) / 2 below.
            generator = []
            discriminator = []
            for (i, run) in runs.enumerated() {
                let p = run.history.points
                let rx = p.map { xValue($0.step) }
                let g = p.map { Double($0.losses[.gTotal]) }
                let d = p.map { (Double($0.losses[.dS]) + Double($0.losses[.dT])) / 2 }
                generator.append(series(run.name, xs: rx, ys: g, color: i, smoothing: view.smoothing,
                                        maxPoints: maxPoints))
                discriminator.append(series(run.name, xs: rx, ys: d, color: i, smoothing: view.smoothing,
                                            maxPoints: maxPoints))
                xs += rx
            }
            xs.sort()
        }

        var markers: [ChartMarker] = []
        let lastCheckpoint = live.checkpointSteps.last
        for c in live.checkpointSteps {
            markers.append(ChartMarker(x: xValue(c), label: c == lastCheckpoint ? "ckpt" : "", kind: .checkpoint))
        }
        if let s = live.stageSwitchStep { markers.append(ChartMarker(x: xValue(s), label: "stage 2", kind: .stage)) }
        if let c = cursorStep { markers.append(ChartMarker(x: xValue(c), label: "◆", kind: .cursor)) }
        let unlabelled = markers.map { ChartMarker(x: $0.x, label: "", kind: $0.kind) }

        // The x axis ends a little past the last step, on a round number, so that the curves
        // stay put while the run goes on (rescaling every step makes the whole chart
        // shimmer, and redraws every cell of it).
        let xRange: ClosedRange<Double>? = xs.isEmpty ? nil : xs.first!...paddedEnd(xs.first!, xs.last!)
        // The generator legend takes up to three rows on a narrow panel rather than hide a loss.
        let legendRows = min(3, LineChart.layoutLegend(LineChart.legendEntries(generator, theme: theme),
                                                       width: charts.width).count)
        var options = LineChartOptions(smoothing: view.smoothing, logScale: view.logScale,
                                       xLabel: view.xAxis.rawValue, maxLegendRows: legendRows, showXAxis: false,
                                       minLabelWidth: 5, xRange: xRange)
        let dHeight = max(4, charts.height * 2 / 5)
        let gRect = Rect(x: charts.x, y: charts.y, width: charts.width, height: charts.height - dHeight)
        let dRect = Rect(x: charts.x, y: gRect.maxY, width: charts.width, height: dHeight)
        LineChart.draw(generator, markers: markers, options: options, theme: theme, into: &canvas, in: gRect)
        options.showXAxis = true
        options.maxLegendRows = 1
        LineChart.draw(discriminator, markers: unlabelled, options: options, theme: theme, into: &canvas, in: dRect)
    }

    /// The end of the x axis: `last` rounded up to a quarter of its power of ten (1284 ->
    /// 1500, 1001 -> 1250, 37 -> 40), so that at most a fifth of the chart waits empty.
    static func paddedEnd(_ first: Double, _ last: Double) -> Double {
        guard last.isFinite, first.isFinite, last > first else { return max(first, last) }
        let magnitude = pow(10, floor(log10(max(last, 1e-9))))
        let unit = magnitude / 4
        let end = (last / unit).rounded(.up) * unit
        return end > first ? end : last
    }

    /// One series per loss name. With more points than `maxPoints` the curves are
    /// smoothed over every point first and then thinned to the first, lowest, highest and
    /// last point of each bucket, which draws the same braille at a fraction of the cost.
    static func lossSeries(_ points: [LossPoint], xs: [Double], terms: [LossTerm], firstColor: Int,
                           smoothing: Double, maxPoints: Int) -> [ChartSeries] {
        terms.enumerated().map { i, term in
            series(term.rawValue, xs: xs, ys: points.map { Double($0.losses[term]) }, color: firstColor + i,
                   smoothing: smoothing, maxPoints: maxPoints)
        }
    }

    /// One curve, thinned as `lossSeries` says.
    static func series(_ name: String, xs: [Double], ys: [Double], color: Int, smoothing: Double,
                       maxPoints: Int) -> ChartSeries {
        guard ys.count > maxPoints, maxPoints >= 4 else {
            return ChartSeries(name: name, points: zip(xs, ys).map { ChartPoint(x: $0, y: $1) }, colorIndex: color)
        }
        let smoothed = smoothing > 0 ? LineChart.smooth(ys, weight: smoothing) : nil
        let keep = thinnedIndices(ys, buckets: maxPoints / 4)
        return ChartSeries(name: name, points: keep.map { ChartPoint(x: xs[$0], y: ys[$0]) },
                           colorIndex: color, smoothedValues: smoothed.map { s in keep.map { s[$0] } })
    }

    /// Per bucket of consecutive values: the first, the lowest, the highest and the last,
    /// in order. A value that is not finite is always kept (it breaks the line).
    static func thinnedIndices(_ ys: [Double], buckets: Int) -> [Int] {
        let n = ys.count
        var out: [Int] = []
        out.reserveCapacity(buckets * 4 + 8)
        var start = 0
        for b in 0..<buckets {
            let end = (b + 1) * n / buckets
            guard end > start else { continue }
            var lo = start, hi = start
            var picked: [Int] = [start]
            for j in start..<end {
                let y = ys[j]
                if !y.isFinite { picked.append(j); continue }
                if !ys[lo].isFinite || y < ys[lo] { lo = j }
                if !ys[hi].isFinite || y > ys[hi] { hi = j }
            }
            picked += [lo, hi, end - 1]
            picked.sort()
            for j in picked where out.last != j { out.append(j) }
            start = end
        }
        return out
    }

    // MARK: - Attention

    static func attentionView(mode: ThresholdMode, tau: Float) -> AttentionView {
        switch mode {
        case .soft: return .soft
        case .zeroBelow: return .zeroBelow(tau: tau)
        case .binary: return .binary(tau: tau)
        }
    }

    static func directionLabel(_ d: Direction) -> String { d == .st ? "A→B" : "B→A" }

    static func currentSample(_ s: TrainingSnapshot?, view: ViewState) -> SamplePreview? {
        guard let s, !s.previews.isEmpty else { return nil }
        return s.previews[min(max(view.sampleIndex, 0), s.previews.count - 1)]
    }

    static func drawAttention(_ shown: TrainingSnapshot?, view: ViewState, layout: DashboardLayout, theme: Theme,
                              colorless: Bool, into canvas: inout Canvas) {
        let r = layout.attention
        let mapRect = Rect(x: r.x, y: r.y + 1, width: r.width, height: r.height - 2)
        let bottom = r.maxY - 1
        // Title: name and direction on the left, tau and mode of the previews on the right;
        // on a narrow panel the name shortens before tau or the mode go.
        let direction = directionLabel(view.direction)
        var right: (tau: String, mode: String)?
        if let shown { right = ("tau " + StatusLine.formatTau(Double(shown.tau)), shown.mode.label) }
        let rightWidth = right.map { columnWidth($0.tau + " · " + $0.mode) + 1 } ?? 0
        let name = ["Attention", "Attn", ""].first { columnWidth($0) + 1 + columnWidth(direction) + rightWidth <= r.width }
            ?? ""
        var x = r.x
        if !name.isEmpty { x = canvas.put(name + " ", x: x, y: r.y, style: theme.style(.attentionBox, .bold)) }
        x = canvas.put(direction, x: x, y: r.y, style: name.isEmpty ? theme.style(.attentionBox, .bold)
                       : theme.style(.mainFg), clip: r)
        if let right, r.maxX - rightWidth + 1 > x {
            var cx = canvas.put(right.tau, x: r.maxX - rightWidth + 1, y: r.y, style: theme.style(.hiFg, .bold))
            cx = canvas.put(" · ", x: cx, y: r.y, style: theme.style(.inactiveFg))
            canvas.put(right.mode, x: cx, y: r.y, style: theme.style(.mainFg))
        }
        guard let shown, r.height >= 3 else { return }

        guard let sample = currentSample(shown, view: view) else {
            let msg = "no preview yet"
            canvas.put(msg, x: mapRect.x + (mapRect.width - columnWidth(msg)) / 2, y: mapRect.y + mapRect.height / 2,
                       style: theme.style(.inactiveFg), clip: mapRect)
            return
        }
        let d = sample.direction(view.direction)
        let map = FloatMap(width: d.attention.width, height: d.attention.height,
                           values: Array(d.attention.pixels.prefix(d.attention.width * d.attention.height)))
        let rendering: MapRendering = colorless ? .ascii : view.attentionRendering
        let fitted = Raster.fittedSize(imageWidth: map.width, imageHeight: map.height,
                                       maxColumns: mapRect.width, maxRows: mapRect.height)
        let top = mapRect.y + max(0, (mapRect.height - fitted.height) / 2)
        HeatMap.draw(map, rendering: rendering, view: attentionView(mode: shown.mode, tau: shown.tau), theme: theme,
                     into: &canvas, in: Rect(x: mapRect.x, y: top, width: mapRect.width, height: fitted.height))

        // Figure row: the fraction above tau, and what the characters or colours mean.
        let percent = String(format: "%.1f%%", d.fractionAboveTau * 100)
        var fx = canvas.put(percent, x: r.x, y: bottom, style: theme.style(.hiFg, .bold))
        fx = canvas.put(" > tau", x: fx, y: bottom, style: theme.style(.graphText))
        drawScale(shown.mode, rendering: rendering, theme: theme, into: &canvas,
                  right: r.maxX, y: bottom, after: fx + 2)
    }

    // MARK: - Health

    /// The attention's health over the run, per direction: its mean, the fraction above
    /// tau and its spatial spread on the training crops, then the mean output of the
    /// direction's discriminator (D_T for A→B, D_S for B→A) on real and on generated
    /// images. Each figure is a sparkline of the whole run on a fixed scale and the last
    /// value; a direction whose attention has collapsed says so in the warning colour.
    /// Below the map the directions are two columns; alone in the column (taller) each
    /// figure takes a row per direction, with longer sparklines.
    static func drawHealth(_ live: TrainingSnapshot?, layout: DashboardLayout, theme: Theme,
                           into canvas: inout Canvas) {
        guard let r = layout.health, r.height >= 2 else { return }
        canvas.put(layout.showsMap ? " Health " : "Health", x: layout.showsMap ? r.x - 1 : r.x, y: r.y,
                   style: theme.style(.attentionBox, .bold), clip: Rect(x: r.x - 1, y: r.y, width: 9, height: 1))
        guard let live else { return }
        let points = live.history.points
        let directions: [Direction] = [.st, .ts]
        typealias Figure = (label: String, range: ClosedRange<Double>)
        let figures: [Figure] = [("mean", 0...1), ("> tau", 0...1), ("spread", 0...0.5), ("D real", 0...1), ("D fake", 0...1)]
        // One pass over the run: values[figure][direction], NaN where a step has none.
        var values = [[[Double]]](repeating: [[], []], count: figures.count)
        for f in values.indices { for k in 0..<2 { values[f][k].reserveCapacity(points.count) } }
        for p in points {
            for (k, d) in directions.enumerated() {
                let a = p.attention.map { d == .st ? $0.s : $0.t }
                values[0][k].append(a.map { Double($0.mean) } ?? .nan)
                values[1][k].append(a.map { Double($0.aboveTau) } ?? .nan)
                values[2][k].append(a.map { Double($0.spread) } ?? .nan)
                // D_T judges A→B, D_S judges B→A.
                let o = p.discriminator
                values[3][k].append(o.map { Double(d == .st ? $0.realT : $0.realS) } ?? .nan)
                values[4][k].append(o.map { Double(d == .st ? $0.fakeT : $0.fakeS) } ?? .nan)
            }
        }
        let latest = points.last { $0.attention != nil }?.attention
        func collapse(_ d: Direction) -> AttentionCollapse? { latest.flatMap { (d == .st ? $0.s : $0.t).collapse() } }
        /// One figure of one direction: the sparkline in `rect` and the last value at its right.
        func drawFigure(_ f: Int, k: Int, in rect: Rect) {
            let series = values[f][k]
            let text = series.last.flatMap { $0.isFinite ? String(format: "%.3f", $0) : nil } ?? "-"
            let valueX = rect.maxX - text.count
            canvas.put(text, x: valueX, y: rect.y, style: theme.style(.hiFg), clip: rect)
            Sparkline.draw(series, range: figures[f].range, style: Style(fg: theme.seriesColor(k)), into: &canvas,
                           in: Rect(x: rect.x, y: rect.y, width: max(0, valueX - rect.x - 1), height: 1))
        }
        let labelWidth = 7
        if r.height - 1 >= 2 * figures.count {
            // Tall: `mean   A→B ▁▂▃▅▆▇ 0.213`, a row per figure and direction.
            var y = r.y + 1
            for (i, f) in figures.enumerated() {
                for (k, d) in directions.enumerated() {
                    canvas.put(k == 0 ? f.label : "", x: r.x, y: y, style: theme.style(.graphText), clip: r)
                    // The attention's own figures (the first three) carry its collapse.
                    let bad = collapse(d) != nil && i < 3
                    canvas.put(directionLabel(d), x: r.x + labelWidth, y: y,
                               style: bad ? theme.style(.warningFg, .bold) : theme.style(.mainFg), clip: r)
                    drawFigure(i, k: k, in: Rect(x: r.x + labelWidth + 4, y: y, width: r.maxX - r.x - labelWidth - 4,
                                                 height: 1))
                    y += 1
                }
            }
            if let alarm = live.attentionAlarm, y < r.maxY {
                canvas.put(truncated(alarm, to: r.width), x: r.x, y: y + min(1, r.maxY - y - 1),
                           style: theme.style(.warningFg, .bold), clip: r)
            }
            return
        }
        // Two columns, one per direction, titled on the first row.
        let columnWidth = max(1, (r.width - labelWidth) / 2)
        for (k, d) in directions.enumerated() {
            let x = r.x + labelWidth + k * columnWidth
            var title = directionLabel(d)
            var style = theme.style(.mainFg, .bold)
            if let c = collapse(d) {
                title += " " + c.rawValue
                style = theme.style(.warningFg, .bold)
            }
            canvas.put(" " + truncated(title, to: columnWidth - 2) + " ", x: x, y: r.y, style: style,
                       clip: Rect(x: x, y: r.y, width: columnWidth, height: 1))
        }
        for (i, f) in figures.enumerated() {
            let y = r.y + 1 + i
            guard y < r.maxY else { break }
            canvas.put(f.label, x: r.x, y: y, style: theme.style(.graphText), clip: r)
            for k in directions.indices {
                let x = r.x + labelWidth + k * columnWidth
                drawFigure(i, k: k, in: Rect(x: x + 1, y: y, width: columnWidth - 2, height: 1))
            }
        }
    }

    /// `0 ␣.:-=+*#%@ 1` (ASCII), a gradient (colour) or `# > tau` (binary), right-aligned.
    static func drawScale(_ mode: ThresholdMode, rendering: MapRendering, theme: Theme, into canvas: inout Canvas,
                          right: Int, y: Int, after minX: Int) {
        if mode == .binary {
            let text = rendering == .ascii ? "# above" : "■ above"
            let start = right - columnWidth(text)
            guard start >= minX else { return }
            canvas.put(String(text.first!), x: start, y: y, style: Style(fg: theme[.heatEnd], attributes: .bold))
            canvas.put(String(text.dropFirst()), x: start + 1, y: y, style: theme.style(.graphText))
            return
        }
        let steps = 10
        let width = 2 + steps + 2
        let start = right - width
        guard start >= minX else { return }
        canvas.put("0 ", x: start, y: y, style: theme.style(.graphText))
        for i in 0..<steps {
            let t = (Double(i) + 0.5) / Double(steps)
            if rendering == .ascii {
                let ch = i == 0 ? "·" : HeatMap.ramp[i]
                canvas.set(ch, x: start + 2 + i, y: y, style: Style(fg: i == 0 ? theme[.inactiveFg] : theme.heat(t)))
            } else {
                canvas.set("█", x: start + 2 + i, y: y, style: Style(fg: theme.heat(t)))
            }
        }
        canvas.put(" 1", x: start + 2 + steps, y: y, style: theme.style(.graphText))
    }

    // MARK: - Preview

    /// A preview image of the engine as the image widgets take it.
    static func image(_ label: String, width: Int, height: Int, channels: Int, pixels: [Float]) -> StripImage {
        StripImage(label: label, width: width, height: height, channels: channels, pixels: pixels)
    }

    /// The four images of a direction. With `stretch`, input, generated and composite are
    /// each shown with auto-contrast on their percentiles (`DisplayRange.auto`) and their
    /// range in 8-bit levels as the note; the attention keeps its 0...1 scale (tau is on it).
    static func images(_ d: DirectionPreview, mode: ThresholdMode, tau: Float, stretch: Bool = false) -> [StripImage] {
        let a = d.attention
        let plane = Array(a.pixels.prefix(a.width * a.height))
        let shownAttention = HeatMap.apply(attentionView(mode: mode, tau: tau), to: plane)
        func shown(_ label: String, _ p: PreviewImage) -> StripImage {
            guard stretch else { return image(label, width: p.width, height: p.height, channels: p.channels, pixels: p.pixels) }
            let range = DisplayRange.auto(p.pixels)
            return StripImage(label: label, width: p.width, height: p.height, channels: p.channels,
                              pixels: range.apply(p.pixels), note: range.levels)
        }
        return [
            shown("input", d.input),
            image(mode == .soft ? "attention" : mode == .binary ? "1[A>tau]" : "A·1[A>tau]",
                  width: a.width, height: a.height, channels: 1, pixels: shownAttention),
            shown("generated", d.generated),
            shown("composite", d.composite),
        ]
    }

    static func drawPreview(_ shown: TrainingSnapshot?, live: TrainingSnapshot?, view: ViewState,
                            scrub: (step: Int, position: Int, count: Int)?, layout: DashboardLayout, theme: Theme,
                            asciiImages: Bool, into canvas: inout Canvas) {
        let sample = currentSample(shown, view: view)
        let count = shown?.previews.count ?? 0
        var title = layout.strips == 2 ? "Preview" : "Preview " + directionLabel(view.direction)
        if let zoom = view.zoom { title = "Zoom " + directionLabel(view.direction) + " " + zoom.rawValue }
        if sample != nil {
            let position = min(max(view.sampleIndex, 0), count - 1) + 1
            title += " · sample \(position)/\(count)"
        }
        if !view.stretch { title += " · raw levels" }
        if let scrub { title += " · step \(scrub.step), history" }
        let titleRoom = layout.infoX - 4
        canvas.put(" " + truncated(title, to: titleRoom) + " ", x: 1, y: layout.dividerY,
                   style: theme.style(.previewBox, .bold))

        let area = layout.images
        if let sample, let shown {
            let rendering: MapRendering = asciiImages ? .ascii : .halfBlock
            if let zoom = view.zoom {
                // The zoomed image beside its reference: the input (the composite for the input).
                let strip = images(sample.direction(view.direction), mode: shown.mode, tau: shown.tau,
                                   stretch: view.stretch)
                let index = ZoomTarget.allCases.firstIndex(of: zoom)!
                ImageStrip.draw([strip[index], strip[index == 0 ? 3 : 0]], rendering: rendering, theme: theme,
                                into: &canvas, in: area)
            } else {
                let directions: [Direction] = layout.strips == 2 ? [.st, .ts] : [view.direction]
                let stripHeight = area.height / directions.count
                for (k, d) in directions.enumerated() {
                    let rect = Rect(x: area.x, y: area.y + k * stripHeight, width: area.width, height: stripHeight)
                    let strip = images(sample.direction(d), mode: shown.mode, tau: shown.tau, stretch: view.stretch)
                    ImageStrip.draw(strip, rendering: rendering, theme: theme, into: &canvas, in: rect)
                    if directions.count == 2 {
                        // Name the direction in the first label; the current one stands out.
                        let current = d == view.direction
                        let label = directionLabel(d) + " " + strip[0].label
                        canvas.put(label, x: rect.x, y: rect.y,
                                   style: current ? theme.style(.hiFg, .bold) : theme.style(.graphText), clip: rect)
                    }
                }
            }
        } else {
            var msg = live == nil ? "starting…" : "no preview yet"
            // A viewed run's step says why it has none (being computed from its checkpoint).
            if view.readOnly, scrub != nil, let m = shown?.message { msg = m }
            canvas.put(msg, x: area.x + (area.width - columnWidth(msg)) / 2, y: area.y + area.height / 2,
                       style: theme.style(.inactiveFg), clip: area)
        }
        drawInfo(shown, live: live, view: view, sample: sample, layout: layout, theme: theme, into: &canvas)
    }

    /// The figures beside the images: per direction the background drift and the share
    /// above tau (beside its strip when both are shown), then checkpoint, learning rate and
    /// preview step, and the engine's last message at the bottom.
    static func drawInfo(_ shown: TrainingSnapshot?, live: TrainingSnapshot?, view: ViewState, sample: SamplePreview?,
                         layout: DashboardLayout, theme: Theme, into canvas: inout Canvas) {
        let rect = layout.info
        guard let shown else { return }
        typealias Row = (label: String, value: String, key: ThemeKey)
        let labelWidth = 9
        let bottom = rect.maxY - (live?.message == nil ? 0 : 1)
        func draw(_ rows: [Row], from top: Int, to limit: Int) -> Int {
            var y = top
            for row in rows where y < limit {
                if row.label.hasPrefix("→") || row.label.hasPrefix("A→") || row.label.hasPrefix("B→") {
                    let current = row.key == .hiFg
                    let x = canvas.put(row.label, x: rect.x, y: y,
                                       style: current ? theme.style(.hiFg, .bold) : theme.style(.graphText, .bold),
                                       clip: rect)
                    canvas.put(truncated(row.value, to: max(0, rect.maxX - x - 1)), x: x + 1, y: y,
                               style: theme.style(.mainFg), clip: rect)
                } else {
                    canvas.put(row.label, x: rect.x, y: y, style: theme.style(.graphText), clip: rect)
                    canvas.put(truncated(row.value, to: rect.width - labelWidth), x: rect.x + labelWidth, y: y,
                               style: theme.style(row.key), clip: rect)
                }
                y += 1
            }
            return y
        }
        func figures(_ d: Direction) -> [Row] {
            guard let sample else { return [] }
            let p = sample.direction(d)
            return [("bg drift", String(format: "%.2f", p.backgroundDrift) + "/255", .hiFg),
                    ("> tau", String(format: "%.1f%%", p.fractionAboveTau * 100), .mainFg)]
        }
        func heading(_ d: Direction) -> [Row] {
            guard let sample else { return [] }
            return [(directionLabel(d), d == .st ? sample.nameA : sample.nameB, d == view.direction ? .hiFg : .mainFg)]
        }
        let ckpt = live ?? shown
        var common: [Row] = [
            ("ckpt", ckpt.lastCheckpointStep.map { "step \($0)" } ?? "none yet",
             ckpt.hasUnsavedSteps ? .mainFg : .statusRunning),
            ("lr", Format.scientific(Double(shown.learningRate), digits: 1), .mainFg),
        ]
        if shown.previewStep >= 0 { common.append(("preview", "step \(shown.previewStep)", .mainFg)) }

        if layout.strips == 2 {
            let stripHeight = layout.images.height / 2
            var y = draw(heading(.st) + figures(.st), from: rect.y, to: min(bottom, rect.y + stripHeight))
            y = draw(common, from: y + 1, to: min(bottom, rect.y + stripHeight))
            _ = draw(heading(.ts) + figures(.ts), from: max(y, rect.y + stripHeight), to: bottom)
        } else {
            _ = draw(figures(view.direction) + common + heading(view.direction), from: rect.y, to: bottom)
        }
        if let message = live?.message, bottom < rect.maxY {
            let failed = live?.state == .failed || live?.fault != nil
            canvas.put(truncated(message, to: rect.width), x: rect.x, y: rect.maxY - 1,
                       style: failed ? theme.style(.warningFg, .bold) : theme.style(.inactiveFg), clip: rect)
        }
    }

    // MARK: - Overlays

    static func drawQuitPrompt(_ live: TrainingSnapshot, theme: Theme, into canvas: inout Canvas) {
        let since = live.lastCheckpointStep.map { "last checkpoint: step \($0) · now step \(live.step)" }
            ?? "no checkpoint yet · now step \(live.step)"
        drawNotice(["save before quitting? (y/n/c)", since, "y save and quit · n quit without saving · c cancel"],
                   title: "quit", theme: theme, into: &canvas)
    }

    /// A small box in the middle of the screen; the first line stands out.
    static func drawNotice(_ lines: [String], title: String, theme: Theme, into canvas: inout Canvas) {
        let inner = (lines.map(columnWidth).max() ?? 0) + 2
        let size = Size(width: min(canvas.width, inner + 2), height: min(canvas.height, lines.count + 2))
        let box = canvas.bounds.centered(size)
        canvas.fill(box, style: Style(fg: theme[.mainFg], bg: theme[.mainBg]))
        canvas.box(box, title: title, border: .rounded, style: theme.style(.warningFg),
                   titleStyle: theme.style(.warningFg, .bold))
        for (i, line) in lines.enumerated() {
            canvas.put(line, x: box.x + 2, y: box.y + 1 + i,
                       style: i == 0 ? theme.style(.title, .bold) : theme.style(.graphText), clip: box.inset(by: 1))
        }
    }
}
