// How many colours the terminal shows, and how an RGB colour comes down to them.

/// The colours a terminal can show.
public enum ColorDepth: String, CaseIterable, Sendable {
    /// 24-bit RGB.
    case truecolor
    /// The xterm 256-colour palette: 16 system colours, a 6x6x6 cube, a 24-step grey ramp.
    case ansi256 = "256"
    /// The 8 ANSI colours and their bright variants.
    case ansi16 = "16"
    /// No colour at all (`NO_COLOR`, `TERM=dumb`): attributes only.
    case none

    /// The depth a terminal with this environment most likely has.
    ///
    /// In order: `NO_COLOR` set and not empty -> `.none`; `TERM` unset, empty or `dumb` ->
    /// `.none`; `COLORTERM` `truecolor` or `24bit` -> `.truecolor`; `TERM` containing
    /// `direct` -> `.truecolor`; `TERM` containing `256color` -> `.ansi256`; else `.ansi16`.
    public static func detect(environment: [String: String]) -> ColorDepth {
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return .none }
        let term = (environment["TERM"] ?? "").lowercased()
        if term.isEmpty || term == "dumb" { return .none }
        let colorterm = (environment["COLORTERM"] ?? "").lowercased()
        if colorterm == "truecolor" || colorterm == "24bit" { return .truecolor }
        if term.contains("direct") { return .truecolor }
        if term.contains("256color") { return .ansi256 }
        return .ansi16
    }

    /// A depth from a command-line word: `truecolor`/`24bit`, `256`, `16`, `none`/`no`.
    public init?(name: String) {
        switch name.lowercased() {
        case "truecolor", "24bit", "24-bit", "rgb": self = .truecolor
        case "256", "ansi256", "256color": self = .ansi256
        case "16", "ansi16", "ansi", "8": self = .ansi16
        case "none", "no", "mono", "off": self = .none
        default: return nil
        }
    }

    /// `color` as this depth can show it.
    public func resolve(_ color: Color) -> TerminalColor {
        guard case let .rgb(r, g, b) = color else { return .default }
        switch self {
        case .truecolor: return .rgb(r, g, b)
        case .ansi256: return .indexed(ColorConversion.xterm256Index(r, g, b))
        case .ansi16: return .indexed(ColorConversion.ansi16Index(r, g, b))
        case .none: return .default
        }
    }
}

/// A colour as the terminal is told it: the terminal's default, a palette index or RGB.
public enum TerminalColor: Hashable, Sendable {
    case `default`
    case indexed(UInt8)
    case rgb(UInt8, UInt8, UInt8)
}

/// Nearest-colour conversions to the xterm palettes.
public enum ColorConversion {
    /// The six levels of each axis of the xterm 6x6x6 cube.
    public static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

    /// The 16 ANSI colours as xterm draws them by default (indices 0...15).
    public static let ansi16Palette: [(r: Int, g: Int, b: Int)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0),
        (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0),
        (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]

    /// The RGB value xterm shows for palette index `index` (0...255).
    public static func xterm256RGB(_ index: UInt8) -> (r: Int, g: Int, b: Int) {
        let i = Int(index)
        if i < 16 { return ansi16Palette[i] }
        if i >= 232 { let v = 8 + 10 * (i - 232); return (v, v, v) }
        let c = i - 16
        return (cubeLevels[c / 36], cubeLevels[(c / 6) % 6], cubeLevels[c % 6])
    }

    /// The nearest colour of the cube (16...231) or the grey ramp (232...255).
    /// The 16 system colours are never chosen: terminals redefine them.
    public static func xterm256Index(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        let r = Int(r), g = Int(g), b = Int(b)
        func level(_ v: Int) -> Int { v < 48 ? 0 : v < 115 ? 1 : (v - 35) / 40 }
        let qr = level(r), qg = level(g), qb = level(b)
        let cr = cubeLevels[qr], cg = cubeLevels[qg], cb = cubeLevels[qb]
        let cubeIndex = 16 + 36 * qr + 6 * qg + qb
        if cr == r && cg == g && cb == b { return UInt8(cubeIndex) }
        let average = (r + g + b) / 3
        let greyStep = average > 238 ? 23 : max(0, (average - 3) / 10)
        let grey = 8 + 10 * greyStep
        let greyDistance = distanceSquared(grey, grey, grey, r, g, b)
        let cubeDistance = distanceSquared(cr, cg, cb, r, g, b)
        return greyDistance < cubeDistance ? UInt8(232 + greyStep) : UInt8(cubeIndex)
    }

    /// The nearest of the 16 ANSI colours (0...15), by distance in RGB.
    public static func ansi16Index(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        var best = 0
        var bestDistance = Int.max
        for (i, c) in ansi16Palette.enumerated() {
            let d = distanceSquared(c.r, c.g, c.b, Int(r), Int(g), Int(b))
            if d < bestDistance { best = i; bestDistance = d }
        }
        return UInt8(best)
    }

    /// Like `ansi16Index`, but a colour with a clear hue keeps it: the nearest of red,
    /// yellow, green, cyan, blue and magenta by hue, bright when the colour is light or
    /// pastel. Muted theme colours (`#e06c75`) are nearer grey than any ANSI colour by
    /// distance, which would draw every curve of a chart grey; greys still go to
    /// `ansi16Index`.
    public static func ansi16HueIndex(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        let ri = Int(r), gi = Int(g), bi = Int(b)
        let hi = max(ri, gi, bi), lo = min(ri, gi, bi)
        let chroma = hi - lo
        guard chroma >= 48 else { return ansi16Index(r, g, b) }
        var hue: Double
        let c = Double(chroma)
        if hi == ri {
            hue = 60 * (Double(gi - bi) / c)
        } else if hi == gi {
            hue = 60 * (Double(bi - ri) / c + 2)
        } else {
            hue = 60 * (Double(ri - gi) / c + 4)
        }
        if hue < 0 { hue += 360 }
        // Sectors centred on 0 (red), 60 (yellow), 120 (green), 180 (cyan), 240 (blue), 300 (magenta).
        let base: [UInt8] = [1, 3, 2, 6, 4, 5]
        let sector = Int(((hue + 30) / 60).rounded(.down)) % 6
        let bright = lo >= 96 || hi >= 240
        return base[sector] + (bright ? 8 : 0)
    }

    static func distanceSquared(_ r0: Int, _ g0: Int, _ b0: Int, _ r1: Int, _ g1: Int, _ b1: Int) -> Int {
        (r0 - r1) * (r0 - r1) + (g0 - g1) * (g0 - g1) + (b0 - b1) * (b0 - b1)
    }
}
