// What a terminal below the minimum size shows.

/// The "terminal too small" screen.
public enum TooSmall {
    /// The smallest terminal the dashboard lays out: 80x24.
    public static let minimumSize = Size(width: 80, height: 24)

    /// `terminal 60x18 is too small: aggan needs at least 80x24`.
    public static func message(current: Size, needed: Size = minimumSize) -> String {
        "terminal \(current) is too small: aggan needs at least \(needed)"
    }

    /// Clears the canvas and centres the message on it (split after the colon when one
    /// line is too wide, then cut), with `q quits` below when there is room.
    public static func draw(needed: Size = minimumSize, theme: Theme, into canvas: inout Canvas) {
        canvas.fill(canvas.bounds, style: Style(fg: theme[.mainFg], bg: theme[.mainBg]))
        guard canvas.width > 0, canvas.height > 0 else { return }
        let full = message(current: canvas.size, needed: needed)
        var lines: [(String, Style)]
        if columnWidth(full) <= canvas.width {
            lines = [(full, theme.style(.warningFg, .bold))]
        } else {
            lines = [("terminal \(canvas.size) is too small:", theme.style(.warningFg, .bold)),
                     ("aggan needs at least \(needed)", theme.style(.mainFg))]
        }
        let quit = ("q quits", theme.style(.inactiveFg))
        if canvas.height >= lines.count + 2 { lines += [("", Style()), quit] }
        lines = Array(lines.prefix(canvas.height))
        let top = (canvas.height - lines.count) / 2
        for (i, (text, style)) in lines.enumerated() {
            let t = truncated(text, to: canvas.width)
            canvas.put(t, x: (canvas.width - columnWidth(t)) / 2, y: top + i, style: style)
        }
    }
}
