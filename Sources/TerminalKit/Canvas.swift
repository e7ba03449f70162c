// A Canvas is a grid of styled cells. Widgets draw into it; a backend blits it.
// Nothing here knows about ncurses: every frame can be dumped as text for tests.

/// A colour as a theme or a widget asks for it.
///
/// `.default` is the terminal's own foreground or background colour; `.rgb` is
/// converted to what the terminal can show (`ColorDepth.resolve`) only when blitting.
public enum Color: Hashable, Sendable {
    case `default`
    case rgb(UInt8, UInt8, UInt8)

    /// A grey level: `.rgb(level, level, level)`.
    public static func grey(_ level: UInt8) -> Color { .rgb(level, level, level) }

    /// `#rrggbb`, or `default`.
    public var hex: String {
        switch self {
        case .default: return "default"
        case let .rgb(r, g, b): return "#" + hexByte(r) + hexByte(g) + hexByte(b)
        }
    }

    /// Linear interpolation in RGB; `t` is clamped to 0...1. A `.default` end cannot be
    /// mixed, so the nearer end wins.
    public func mixed(with other: Color, _ t: Double) -> Color {
        let t = t.isNaN ? 0 : min(max(t, 0), 1)
        guard case let .rgb(r0, g0, b0) = self, case let .rgb(r1, g1, b1) = other else {
            return t < 0.5 ? self : other
        }
        func lerp(_ a: UInt8, _ b: UInt8) -> UInt8 {
            UInt8((Double(a) + (Double(b) - Double(a)) * t).rounded())
        }
        return .rgb(lerp(r0, r1), lerp(g0, g1), lerp(b0, b1))
    }
}

private func hexByte(_ v: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(v >> 4)], digits[Int(v & 15)]])
}

/// Text attributes a terminal can show.
public struct TextAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = TextAttributes(rawValue: 1 << 0)
    public static let dim = TextAttributes(rawValue: 1 << 1)
    public static let reverse = TextAttributes(rawValue: 1 << 2)
    public static let underline = TextAttributes(rawValue: 1 << 3)
}

/// How to draw: colours and attributes. A `nil` background keeps the background of the
/// cell drawn over, so widgets can write on a panel without knowing its colour.
public struct Style: Hashable, Sendable {
    public var fg: Color
    public var bg: Color?
    public var attributes: TextAttributes

    public init(fg: Color = .default, bg: Color? = nil, attributes: TextAttributes = []) {
        self.fg = fg
        self.bg = bg
        self.attributes = attributes
    }

    public var bold: Style { var s = self; s.attributes.insert(.bold); return s }
    public var dim: Style { var s = self; s.attributes.insert(.dim); return s }
}

/// One terminal cell. A character two columns wide occupies its cell and the next one,
/// which is marked `isContinuation` (a backend skips it, `text()` skips it).
public struct Cell: Hashable, Sendable {
    public var character: Character
    public var fg: Color
    public var bg: Color
    public var attributes: TextAttributes
    public var isContinuation: Bool

    public init(_ character: Character = " ", fg: Color = .default, bg: Color = .default,
                attributes: TextAttributes = [], isContinuation: Bool = false) {
        self.character = character
        self.fg = fg
        self.bg = bg
        self.attributes = attributes
        self.isContinuation = isContinuation
    }
}

/// A size in cells.
public struct Size: Hashable, Sendable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
    /// `80x24`.
    public var description: String { "\(width)x\(height)" }
}

/// A rectangle of cells: origin at the top left, `x` to the right, `y` down.
public struct Rect: Hashable, Sendable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width <= 0 || height <= 0 }
    public var size: Size { Size(width: width, height: height) }
    public var description: String { "(\(x),\(y) \(width)x\(height))" }

    public func contains(x px: Int, y py: Int) -> Bool {
        px >= x && px < maxX && py >= y && py < maxY
    }

    /// Shrunk by `d` cells on every side (a box's inside for `d == 1`).
    public func inset(by d: Int) -> Rect {
        Rect(x: x + d, y: y + d, width: width - 2 * d, height: height - 2 * d)
    }

    public func intersection(_ other: Rect) -> Rect {
        let x0 = max(x, other.x), y0 = max(y, other.y)
        let x1 = min(maxX, other.maxX), y1 = min(maxY, other.maxY)
        return Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    /// A rectangle of `size` centred in this one (rounded towards the top left).
    public func centered(_ size: Size) -> Rect {
        Rect(x: x + (width - size.width) / 2, y: y + (height - size.height) / 2,
             width: size.width, height: size.height)
    }
}

/// The characters of a box.
public enum BorderStyle: Sendable {
    /// `╭─╮ │ ╰─╯`
    case rounded
    /// `┌─┐ │ └─┘`
    case light

    var glyphs: (tl: Character, tr: Character, bl: Character, br: Character, h: Character, v: Character) {
        switch self {
        case .rounded: return ("╭", "╮", "╰", "╯", "─", "│")
        case .light: return ("┌", "┐", "└", "┘", "─", "│")
        }
    }
}

/// How many terminal columns a character takes: 2 for East Asian wide characters and
/// most emoji, else 1. (Combining marks are part of the `Character` already.)
public func columnWidth(_ c: Character) -> Int {
    guard let v = c.unicodeScalars.first?.value, v >= 0x1100 else { return 1 }
    switch v {
    case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF,
         0x4E00...0x9FFF, 0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF,
         0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F,
         0x1F900...0x1F9FF, 0x20000...0x3FFFD:
        return 2
    default:
        return 1
    }
}

/// How many terminal columns a string takes.
public func columnWidth(_ s: String) -> Int {
    var n = 0
    for c in s { n += columnWidth(c) }
    return n
}

/// `s` cut to at most `width` columns; a cut string ends in `…`.
public func truncated(_ s: String, to width: Int) -> String {
    guard width > 0 else { return "" }
    if columnWidth(s) <= width { return s }
    var out = ""
    var used = 0
    for c in s {
        let w = columnWidth(c)
        if used + w > width - 1 { break }
        out.append(c)
        used += w
    }
    return out + "…"
}

/// A grid of styled cells, stored row by row.
public struct Canvas: Sendable {
    public let width: Int
    public let height: Int
    /// Row-major: the cell at (x, y) is `cells[y * width + x]`.
    public private(set) var cells: [Cell]
    /// Images to show in real pixels over their cells where the terminal can (the cells
    /// hold their half-block rendering too); a `fill` over one removes it.
    public var images: [CanvasImage] = []

    /// A canvas of blanks in `background` (with `foreground` as the text colour).
    public init(width: Int, height: Int, foreground: Color = .default, background: Color = .default) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: Cell(" ", fg: foreground, bg: background),
                      count: self.width * self.height)
    }

    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }
    public var size: Size { Size(width: width, height: height) }

    /// The cell at (x, y); a blank for a position outside the canvas.
    public subscript(x: Int, y: Int) -> Cell {
        guard x >= 0, x < width, y >= 0, y < height else { return Cell() }
        return cells[y * width + x]
    }

    /// Writes one character at (x, y) if it lies inside the canvas and `clip`.
    /// Control characters are shown as `?`. Returns the columns the character takes.
    @discardableResult
    public mutating func set(_ character: Character, x: Int, y: Int, style: Style, clip: Rect? = nil) -> Int {
        var ch = character
        let v = ch.unicodeScalars.first?.value ?? 0x20
        if v < 0x20 || v == 0x7F { ch = "?" }
        let w = v < 0x1100 ? 1 : columnWidth(ch)
        var area = bounds
        if let clip { area = area.intersection(clip) }
        guard area.contains(x: x, y: y) else { return w }
        if w == 2 && !area.contains(x: x + 1, y: y) {
            // Half of a wide character does not fit: leave a blank, never half a glyph.
            write(" ", x: x, y: y, style: style)
            return w
        }
        write(ch, x: x, y: y, style: style)
        if w == 2 {
            write(" ", x: x + 1, y: y, style: style)
            cells[y * width + x + 1].isContinuation = true
        }
        return w
    }

    private mutating func write(_ ch: Character, x: Int, y: Int, style: Style) {
        let i = y * width + x
        // Overwriting half of a wide character blanks its other half.
        if cells[i].isContinuation, x > 0 { cells[i - 1].character = " " }
        if x + 1 < width, cells[i + 1].isContinuation {
            cells[i + 1].isContinuation = false
            cells[i + 1].character = " "
        }
        cells[i].character = ch
        cells[i].fg = style.fg
        if let bg = style.bg { cells[i].bg = bg }
        cells[i].attributes = style.attributes
        cells[i].isContinuation = false
    }

    /// Writes `text` from (x, y) to the right on one row, clipped to the canvas and to
    /// `clip`. Returns the column after the text (whether or not it was all visible).
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: Style = Style(), clip: Rect? = nil) -> Int {
        var cx = x
        for c in text {
            cx += set(c, x: cx, y: y, style: style, clip: clip)
        }
        return cx
    }

    /// Fills `rect` (clipped) with `character` in `style`, over any image there too.
    public mutating func fill(_ rect: Rect, with character: Character = " ", style: Style = Style()) {
        let r = rect.intersection(bounds)
        guard !r.isEmpty else { return }
        if !images.isEmpty { images.removeAll { !$0.rect.intersection(r).isEmpty } }
        for y in r.y..<r.maxY {
            for x in r.x..<r.maxX { write(character, x: x, y: y, style: style) }
        }
    }

    /// Draws a box on the edge of `rect` with an optional `title` after the top-left
    /// corner (`┌ title ───┐`) and `rightTitle` before the top-right one.
    public mutating func box(_ rect: Rect, title: String? = nil, rightTitle: String? = nil,
                             border: BorderStyle = .rounded, style: Style = Style(),
                             titleStyle: Style? = nil) {
        guard rect.width >= 2, rect.height >= 2 else { return }
        let g = border.glyphs
        let x1 = rect.maxX - 1, y1 = rect.maxY - 1
        set(g.tl, x: rect.x, y: rect.y, style: style)
        set(g.tr, x: x1, y: rect.y, style: style)
        set(g.bl, x: rect.x, y: y1, style: style)
        set(g.br, x: x1, y: y1, style: style)
        for x in (rect.x + 1)..<x1 {
            set(g.h, x: x, y: rect.y, style: style)
            set(g.h, x: x, y: y1, style: style)
        }
        for y in (rect.y + 1)..<y1 {
            set(g.v, x: rect.x, y: y, style: style)
            set(g.v, x: x1, y: y, style: style)
        }
        drawTitles(left: title, right: rightTitle, y: rect.y, from: rect.x, to: x1, titleStyle: titleStyle ?? style)
    }

    /// A horizontal divider inside a box: `├ title ────┤` from `x0` to `x1` (inclusive).
    public mutating func horizontalDivider(y: Int, from x0: Int, to x1: Int, title: String? = nil,
                                           style: Style = Style(), titleStyle: Style? = nil) {
        guard x1 > x0 else { return }
        set("├", x: x0, y: y, style: style)
        set("┤", x: x1, y: y, style: style)
        for x in (x0 + 1)..<x1 { set("─", x: x, y: y, style: style) }
        drawTitles(left: title, right: nil, y: y, from: x0, to: x1, titleStyle: titleStyle ?? style)
    }

    /// A vertical divider inside a box: `┬ │ ┴` from `y0` to `y1` (inclusive).
    public mutating func verticalDivider(x: Int, from y0: Int, to y1: Int, style: Style = Style()) {
        guard y1 > y0 else { return }
        set("┬", x: x, y: y0, style: style)
        set("┴", x: x, y: y1, style: style)
        for y in (y0 + 1)..<y1 { set("│", x: x, y: y, style: style) }
    }

    private mutating func drawTitles(left: String?, right: String?, y: Int, from x0: Int, to x1: Int,
                                     titleStyle: Style) {
        // Room between the corners, less one blank either side of each title.
        var room = x1 - x0 - 1
        if let right, !right.isEmpty, room >= 5 {
            let t = truncated(right, to: min(room - 2, max(0, room / 2 - 2)))
            if !t.isEmpty {
                let start = x1 - 1 - columnWidth(t) - 1
                put(" " + t + " ", x: start, y: y, style: titleStyle)
                room = start - x0 - 1
            }
        }
        if let left, !left.isEmpty, room >= 3 {
            let t = truncated(left, to: room - 2)
            put(" " + t + " ", x: x0 + 1, y: y, style: titleStyle)
        }
    }

    /// The frame as plain text, one line per row, joined with newlines. Trailing blanks
    /// are cut unless `trimTrailing` is false.
    public func text(trimTrailing: Bool = true) -> String {
        lines(trimTrailing: trimTrailing).joined(separator: "\n")
    }

    /// The frame as plain text lines.
    public func lines(trimTrailing: Bool = true) -> [String] {
        (0..<height).map { y in
            var line = ""
            for x in 0..<width {
                let c = cells[y * width + x]
                if !c.isContinuation { line.append(c.character) }
            }
            if trimTrailing {
                while line.last == " " { line.removeLast() }
            }
            return line
        }
    }

    /// The frame with its styles: per row, runs of equal style as
    /// `fg=#rrggbb bg=default +bold "text"`, separated by ` | `. For colour tests.
    public func styledDump() -> String {
        (0..<height).map { y in
            var runs: [String] = []
            var x = 0
            while x < width {
                let first = cells[y * width + x]
                var text = ""
                while x < width {
                    let c = cells[y * width + x]
                    if c.fg != first.fg || c.bg != first.bg || c.attributes != first.attributes { break }
                    if !c.isContinuation { text.append(c.character) }
                    x += 1
                }
                var attrs = ""
                if first.attributes.contains(.bold) { attrs += " +bold" }
                if first.attributes.contains(.dim) { attrs += " +dim" }
                if first.attributes.contains(.reverse) { attrs += " +reverse" }
                if first.attributes.contains(.underline) { attrs += " +underline" }
                runs.append("fg=\(first.fg.hex) bg=\(first.bg.hex)\(attrs) \"\(text)\"")
            }
            return runs.joined(separator: " | ")
        }.joined(separator: "\n")
    }
}
