// One table of key bindings drives dispatch, the footer hints, the help overlay and the
// README's key list.
import TerminalKit
import Foundation

/// What a key asks the dashboard to do.
public enum KeyAction: String, CaseIterable, Sendable {
    case pauseResume
    case stepOnce
    case tauUp
    case tauDown
    case cycleThresholdMode
    case previousSample
    case nextSample
    case swapDirection
    case toggleAttentionRendering
    case zoom
    case toggleStretch
    case scrubBack
    case scrubForward
    case returnToLive
    case smoothingDown
    case smoothingUp
    case toggleLogScale
    case toggleXAxis
    case save
    case nextTheme
    case help
    case quit
}

/// One row of the key table.
public struct KeyBinding: Sendable {
    /// The keys, the first shown in hints; the others are aliases (for keyboards where
    /// the first needs Shift, say).
    public var keys: [Key]
    public var action: KeyAction
    /// One line for the help overlay and the README.
    public var help: String
    /// The footer label; bindings next to each other with the same hint share it
    /// (`+/- tau`). `nil` keeps the binding out of the footer.
    public var hint: String?
    /// Footer hints with a higher priority survive a narrow terminal longer.
    public var hintPriority: Int

    public init(_ keys: [Key], _ action: KeyAction, help: String, hint: String? = nil, hintPriority: Int = 0) {
        self.keys = keys
        self.action = action
        self.help = help
        self.hint = hint
        self.hintPriority = hintPriority
    }
}

/// The key bindings of the dashboard.
///
/// The issue asks for `t` to cycle the threshold mode and also for `t` to show the
/// thresholded view. One key does both: `t` cycles soft -> zero below tau -> binary, and
/// the attention panel always shows the attention the composite uses in that mode, so
/// in binary mode it shows `1[A > tau]`. `a` switches between ASCII, colour and the
/// attention's health over time.
public enum KeyTable {
    private static func c(_ ch: Character) -> Key { .character(ch) }

    public static let bindings: [KeyBinding] = [
        KeyBinding([c(" ")], .pauseResume, help: "pause or resume training", hint: "pause", hintPriority: 9),
        KeyBinding([c("n")], .stepOnce, help: "run one training step (while paused)", hint: "step", hintPriority: 8),
        KeyBinding([c("+"), c("=")], .tauUp, help: "raise tau, the attention threshold", hint: "tau", hintPriority: 7),
        KeyBinding([c("-"), c("_")], .tauDown, help: "lower tau", hint: "tau", hintPriority: 7),
        KeyBinding([c("t")], .cycleThresholdMode,
                   help: "threshold mode: soft, zero below tau, binary 1[A>tau]", hint: "mode", hintPriority: 6),
        KeyBinding([c("a")], .toggleAttentionRendering, help: "attention panel: ASCII map, colour map, health over time",
                   hint: "attention", hintPriority: 5),
        KeyBinding([c("z")], .zoom, help: "zoom a preview: input, attention, generated, composite, off",
                   hint: "zoom", hintPriority: 5),
        KeyBinding([c("c")], .toggleStretch, help: "display stretch (auto-contrast) of the previews on or off",
                   hint: "stretch", hintPriority: 2),
        KeyBinding([c("[")], .previousSample, help: "previous preview sample", hint: "sample", hintPriority: 4),
        KeyBinding([c("]")], .nextSample, help: "next preview sample", hint: "sample", hintPriority: 4),
        KeyBinding([c("d")], .swapDirection, help: "swap direction A→B / B→A", hint: "dir", hintPriority: 3),
        KeyBinding([.left], .scrubBack, help: "back through the snapshot history", hint: "history", hintPriority: 3),
        KeyBinding([.right], .scrubForward, help: "forward through the snapshot history", hint: "history",
                   hintPriority: 3),
        KeyBinding([.end, c("G")], .returnToLive, help: "back to the live snapshot", hint: "live", hintPriority: 2),
        KeyBinding([c("<"), c(",")], .smoothingDown, help: "less smoothing of the loss curves", hint: "smooth",
                   hintPriority: 1),
        KeyBinding([c(">"), c(".")], .smoothingUp, help: "more smoothing of the loss curves", hint: "smooth",
                   hintPriority: 1),
        KeyBinding([c("l")], .toggleLogScale, help: "log scale for the losses on or off", hint: "log", hintPriority: 1),
        KeyBinding([c("x")], .toggleXAxis, help: "loss x axis in steps or epochs"),
        KeyBinding([c("s")], .save, help: "save a checkpoint now", hint: "save", hintPriority: 5),
        KeyBinding([c("T")], .nextTheme, help: "next colour theme", hint: "theme", hintPriority: 0),
        KeyBinding([c("?"), c("h")], .help, help: "show or hide this help", hint: "help", hintPriority: 10),
        KeyBinding([c("q")], .quit, help: "quit (asks to save if the last checkpoint is old)", hint: "quit",
                   hintPriority: 10),
    ]

    private static let dispatch: [Key: KeyAction] = {
        var d: [Key: KeyAction] = [:]
        for b in bindings {
            for k in b.keys where d[k] == nil { d[k] = b.action }
        }
        return d
    }()

    /// The action bound to `key`, if any.
    public static func action(for key: Key) -> KeyAction? { dispatch[key] }

    /// The binding of `action`.
    public static func binding(for action: KeyAction) -> KeyBinding? {
        bindings.first { $0.action == action }
    }

    /// A footer hint: `+/-` and `tau`.
    public struct Hint: Sendable, Equatable {
        public var keys: String
        public var label: String
        public var priority: Int
    }

    /// The footer hints in table order; neighbouring bindings with the same hint merge.
    public static var hints: [Hint] {
        var out: [Hint] = []
        var previous: String? = nil
        for b in bindings {
            guard let hint = b.hint, let key = b.keys.first else { previous = nil; continue }
            if hint == previous, !out.isEmpty {
                out[out.count - 1].keys += "/" + key.display
                out[out.count - 1].priority = max(out[out.count - 1].priority, b.hintPriority)
            } else {
                out.append(Hint(keys: key.display, label: hint, priority: b.hintPriority))
            }
            previous = hint
        }
        return out
    }

    /// The hints that fit in `width` (two blanks apart), dropping the least important.
    public static func fittedHints(width: Int) -> [Hint] {
        var kept = hints
        func length(_ h: [Hint]) -> Int {
            h.reduce(0) { $0 + columnWidth($1.keys) + 1 + columnWidth($1.label) } + max(0, h.count - 1) * 2
        }
        while !kept.isEmpty && length(kept) > width {
            let lowest = kept.indices.min { kept[$0].priority < kept[$1].priority }!
            kept.remove(at: lowest)
        }
        return kept
    }

    /// The footer as plain text: `space pause  n step  +/- tau ...  ? help  q quit`.
    public static func footer(width: Int) -> String {
        fittedHints(width: width).map { $0.keys + " " + $0.label }.joined(separator: "  ")
    }

    /// Draws the footer on the first row of `rect`: keys in `hi_fg`, labels in `main_fg`.
    public static func drawFooter(theme: Theme, into canvas: inout Canvas, in rect: Rect) {
        let rect = rect.intersection(canvas.bounds)
        guard !rect.isEmpty else { return }
        var x = rect.x
        for (i, h) in fittedHints(width: rect.width).enumerated() {
            if i > 0 { x += 2 }
            x = canvas.put(h.keys, x: x, y: rect.y, style: theme.style(.hiFg, .bold), clip: rect)
            x = canvas.put(" " + h.label, x: x, y: rect.y, style: theme.style(.mainFg), clip: rect)
        }
    }

    /// The keys of a binding as the help and the README list them: `+ =`, `End G`.
    public static func keyList(_ b: KeyBinding) -> String {
        b.keys.map(\.display).joined(separator: " ")
    }

    /// The help overlay: a box titled `keys`, centred on the canvas over whatever is
    /// there, listing every binding, with `any key closes this help` below the list (or,
    /// when that line does not fit, on the bottom edge of the box). Rows that do not fit
    /// are cut with a last `…` row.
    public static func drawHelp(theme: Theme, into canvas: inout Canvas) {
        let keyWidth = bindings.map { columnWidth(keyList($0)) }.max() ?? 0
        let closing = "any key closes this help"
        let textWidth = max(bindings.map { columnWidth($0.help) }.max() ?? 0, columnWidth(closing) - keyWidth - 2)
        // The closing line moves onto the border when it would cut the list.
        let compact = canvas.height < bindings.count + 4 && canvas.height >= bindings.count + 2
        let inner = Size(width: 1 + keyWidth + 2 + textWidth + 1, height: bindings.count + (compact ? 0 : 2))
        let outer = Size(width: min(canvas.width, inner.width + 2), height: min(canvas.height, inner.height + 2))
        guard outer.width >= 4, outer.height >= 3 else { return }
        let box = canvas.bounds.centered(outer)
        let background = Style(fg: theme[.mainFg], bg: theme[.mainBg])
        canvas.fill(box, style: background)
        canvas.box(box, title: "keys", border: .rounded, style: theme.style(.divLine),
                   titleStyle: theme.style(.title, .bold))
        let inside = box.inset(by: 1)
        let rows = inside.height
        let listed = rows >= inner.height ? bindings.count : max(0, rows - 1)
        for (i, b) in bindings.prefix(listed).enumerated() {
            let y = inside.y + i
            canvas.put(keyList(b), x: inside.x + 1, y: y, style: theme.style(.hiFg, .bold), clip: inside)
            canvas.put(b.help, x: inside.x + 1 + keyWidth + 2, y: y, style: theme.style(.mainFg), clip: inside)
        }
        if listed < bindings.count {
            canvas.put("…", x: inside.x + 1, y: inside.y + listed, style: theme.style(.inactiveFg), clip: inside)
        } else if compact {
            let note = " " + closing + " "
            canvas.put(note, x: box.maxX - 2 - columnWidth(note), y: box.maxY - 1, style: theme.style(.inactiveFg),
                       clip: box)
        } else {
            canvas.put(closing, x: inside.maxX - 1 - columnWidth(closing), y: inside.maxY - 1,
                       style: theme.style(.inactiveFg), clip: inside)
        }
    }

    /// The key list for the README, as a Markdown table.
    public static func markdown() -> String {
        var lines = ["| key | action |", "| --- | --- |"]
        for b in bindings {
            let keys = b.keys.map { "`\($0.display)`" }.joined(separator: " ")
            let help = b.help.replacingOccurrences(of: "|", with: "\\|")
            lines.append("| \(keys) | \(help) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
