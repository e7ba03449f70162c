// One line that says where training is.
import Basics
import Foundation

/// What the status line shows; every field is optional (`nil` is left out).
public struct StatusFields: Sendable, Equatable {
    public var runName: String?
    public var stage: Int?
    public var epoch: Int?
    public var epochs: Int?
    public var step: Int?
    public var iterationsPerSecond: Double?
    public var etaSeconds: Double?
    public var learningRate: Double?
    public var tau: Double?
    /// `soft`, `zero<tau`, `binary`: the engine's name for its threshold mode.
    public var thresholdMode: String?
    public var isPaused: Bool?
    public var lastCheckpointStep: Int?

    public init(runName: String? = nil, stage: Int? = nil, epoch: Int? = nil, epochs: Int? = nil,
                step: Int? = nil, iterationsPerSecond: Double? = nil, etaSeconds: Double? = nil,
                learningRate: Double? = nil, tau: Double? = nil, thresholdMode: String? = nil,
                isPaused: Bool? = nil, lastCheckpointStep: Int? = nil) {
        self.runName = runName
        self.stage = stage
        self.epoch = epoch
        self.epochs = epochs
        self.step = step
        self.iterationsPerSecond = iterationsPerSecond
        self.etaSeconds = etaSeconds
        self.learningRate = learningRate
        self.tau = tau
        self.thresholdMode = thresholdMode
        self.isPaused = isPaused
        self.lastCheckpointStep = lastCheckpointStep
    }
}

/// The status line: `nuclei · stage 1 · epoch 12/100 · step 1284 · 31.2 it/s · ETA 4:51 ·
/// lr 1e-4 · tau 0.10 · soft · ckpt 1200 · RUNNING`, dropping the least important
/// fields first when the width is short. It never draws past its width.
public enum StatusLine {
    /// One field as shown, with how long it survives a short width (higher stays longer).
    public struct Segment: Sendable, Equatable {
        public var text: String
        public var priority: Int
        public var key: ThemeKey
        public var attributes: TextAttributes
    }

    /// The fields in display order.
    public static func segments(_ f: StatusFields) -> [Segment] {
        var s: [Segment] = []
        func add(_ text: String, _ priority: Int, _ key: ThemeKey = .mainFg, _ attributes: TextAttributes = []) {
            s.append(Segment(text: text, priority: priority, key: key, attributes: attributes))
        }
        if let name = f.runName, !name.isEmpty { add(name, 1, .title, .bold) }
        if let stage = f.stage { add("stage \(stage)", 8) }
        if let epoch = f.epoch {
            add(f.epochs.map { "epoch \(epoch)/\($0)" } ?? "epoch \(epoch)", 7)
        }
        if let step = f.step { add("step \(step)", 10, .hiFg) }
        if let rate = f.iterationsPerSecond { add("\(Format.rate(rate)) it/s", 4) }
        if f.etaSeconds != nil || f.iterationsPerSecond != nil { add("ETA \(Format.duration(f.etaSeconds))", 3) }
        if let lr = f.learningRate { add("lr \(Format.scientific(lr, digits: 1))", 2) }
        if let tau = f.tau { add("tau " + formatTau(tau), 6, .hiFg) }
        if let mode = f.thresholdMode, !mode.isEmpty { add(mode, 5) }
        if let ckpt = f.lastCheckpointStep { add("ckpt \(ckpt)", 0) }
        if let paused = f.isPaused {
            add(paused ? "PAUSED" : "RUNNING", 11, paused ? .statusPaused : .statusRunning, .bold)
        }
        return s
    }

    public static func formatTau(_ tau: Double) -> String {
        abs(tau) >= 0.01 && abs(tau) < 10 ? String(format: "%.2f", tau) : Format.value(tau)
    }

    public static let separator = " · "

    /// The segments that fit in `width`: the least important are dropped until the rest
    /// fit; if even the most important alone does not, it is cut with `…`.
    public static func fitted(_ f: StatusFields, width: Int) -> [Segment] {
        guard width > 0 else { return [] }
        var kept = segments(f)
        func length(_ segs: [Segment]) -> Int {
            segs.reduce(0) { $0 + columnWidth($1.text) } + max(0, segs.count - 1) * columnWidth(separator)
        }
        while kept.count > 1 && length(kept) > width {
            let lowest = kept.indices.min { kept[$0].priority < kept[$1].priority }!
            kept.remove(at: lowest)
        }
        if kept.count == 1 { kept[0].text = truncated(kept[0].text, to: width) }
        return kept
    }

    /// The status line as plain text.
    public static func text(_ f: StatusFields, width: Int) -> String {
        fitted(f, width: width).map(\.text).joined(separator: separator)
    }

    /// Draws the status line on the first row of `rect`, right-aligned when `alignRight`
    /// (as in a box title), and returns the column where it starts.
    @discardableResult
    public static func draw(_ f: StatusFields, theme: Theme, into canvas: inout Canvas, in rect: Rect,
                            alignRight: Bool = false) -> Int {
        let rect = rect.intersection(canvas.bounds)
        guard !rect.isEmpty else { return rect.x }
        let segs = fitted(f, width: rect.width)
        let total = columnWidth(segs.map(\.text).joined(separator: separator))
        let start = alignRight ? rect.maxX - total : rect.x
        var x = start
        for (i, s) in segs.enumerated() {
            if i > 0 { x = canvas.put(separator, x: x, y: rect.y, style: theme.style(.inactiveFg), clip: rect) }
            x = canvas.put(s.text, x: x, y: rect.y, style: theme.style(s.key, s.attributes), clip: rect)
        }
        return start
    }
}
