// Pictures in real pixels on terminals that can show them: the kitty graphics protocol
// and sixel, each encoded here in a few dozen lines (no library), and `GraphicsLayer`,
// which keeps what the terminal shows in step with a frame's images. The half-blocks stay
// in the cells underneath: the sequences only ever add pixels over them.

/// How preview images are drawn.
public enum GraphicsMode: String, CaseIterable, Sendable {
    /// `resolved(environment:)` picks one of the others.
    case auto
    /// The kitty graphics protocol (kitty, Ghostty, WezTerm).
    case kitty
    /// DEC sixel graphics (foot, mlterm, mintty, xterm built with it).
    case sixel
    /// Coloured half-blocks in the cells, which every colour terminal shows.
    case blocks

    /// What the mode comes to in this environment: `auto` is `blocks` inside tmux or
    /// screen (they do not pass images through by default), without colour (`NO_COLOR`,
    /// `TERM` empty or `dumb`) and on terminals not known to show images; `kitty` on kitty
    /// (`TERM=xterm-kitty` or `KITTY_WINDOW_ID`), Ghostty and WezTerm; `sixel` on foot,
    /// mlterm, yaft and mintty. Other modes are returned as they are. Only the environment
    /// is read: the terminal is never asked (its answer would arrive as keys).
    public func resolved(environment: [String: String]) -> GraphicsMode {
        guard self == .auto else { return self }
        let term = (environment["TERM"] ?? "").lowercased()
        let program = (environment["TERM_PROGRAM"] ?? "").lowercased()
        func set(_ name: String) -> Bool { !(environment[name] ?? "").isEmpty }
        if set("TMUX") || term.hasPrefix("tmux") || term.hasPrefix("screen") { return .blocks }
        if set("NO_COLOR") || term.isEmpty || term == "dumb" { return .blocks }
        if term == "xterm-kitty" || set("KITTY_WINDOW_ID") || term == "xterm-ghostty" || program == "ghostty"
            || program == "wezterm" {
            return .kitty
        }
        if term.hasPrefix("foot") || term.hasPrefix("mlterm") || term.hasPrefix("yaft") || program == "mintty" {
            return .sixel
        }
        return .blocks
    }
}

/// An image a frame shows in real pixels where the terminal can: `rgb` holds `width` x
/// `height` pixels, row-major, three bytes each, shown over the cells of `rect` (which
/// also hold its half-block rendering).
public struct CanvasImage: Sendable, Equatable {
    public var rect: Rect
    public var width: Int
    public var height: Int
    public var rgb: [UInt8]

    public init(rect: Rect, width: Int, height: Int, rgb: [UInt8]) {
        self.rect = rect
        self.width = width
        self.height = height
        self.rgb = rgb
    }

    public var isValid: Bool { width > 0 && height > 0 && rgb.count == width * height * 3 && !rect.isEmpty }
}

/// The kitty graphics protocol: `ESC _ G keys ; base64 payload ESC \`.
public enum KittyGraphics {
    /// Base64 bytes per escape sequence (the protocol's limit).
    public static let chunkSize = 4096
    /// Images get the fixed ids `firstID ..< firstID + maxImages` (slot order in the
    /// frame), so that a crash handler can delete them without knowing the frame.
    public static let firstID: UInt32 = 4701
    public static let maxImages = 16

    /// Transmits `image` and places it at the cursor, scaled to its rect's cells: RGB
    /// (`f=24`), the cursor left where it is (`C=1`), no replies (`q=2`, they would
    /// arrive as keys). Payloads longer than `chunkSize` are split, `m=1` on every chunk
    /// but the last (`m=0`), the keys on the first.
    public static func place(_ image: CanvasImage, id: UInt32) -> [UInt8] {
        let payload = base64(image.rgb)
        let keys = "a=T,f=24,s=\(image.width),v=\(image.height),i=\(id),c=\(image.rect.width),"
            + "r=\(image.rect.height),C=1,q=2"
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 64 * (payload.count / chunkSize + 1))
        if payload.count <= chunkSize {
            out += Array("\u{1B}_G\(keys);".utf8) + payload + [0x1B, 0x5C]
            return out
        }
        var start = 0
        while start < payload.count {
            let end = min(start + chunkSize, payload.count)
            let more = end < payload.count ? 1 : 0
            let head = start == 0 ? "\(keys),m=\(more)" : "m=\(more),q=2"
            out += Array("\u{1B}_G\(head);".utf8)
            out += payload[start..<end]
            out += [0x1B, 0x5C]
            start = end
        }
        return out
    }

    /// Deletes the image `id`, its placements and its data (`d=I`).
    public static func delete(id: UInt32) -> [UInt8] { Array("\u{1B}_Ga=d,d=I,i=\(id),q=2\u{1B}\\".utf8) }

    /// Standard base64 with padding (RFC 4648).
    static func base64(_ bytes: [UInt8]) -> [UInt8] {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < bytes.count {
            let v = Int(bytes[i]) << 16 | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2])
            out += [table[v >> 18], table[(v >> 12) & 63], table[(v >> 6) & 63], table[v & 63]]
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            let v = Int(bytes[i]) << 16 | (rest == 2 ? Int(bytes[i + 1]) << 8 : 0)
            out += [table[v >> 18], table[(v >> 12) & 63], rest == 2 ? table[(v >> 6) & 63] : 0x3D, 0x3D]
        }
        return out
    }
}

/// DEC sixel graphics: six rows of pixels per band, one character per column and colour.
public enum Sixel {
    /// `width` x `height` RGB pixels as a sixel image drawn at the cursor.
    ///
    /// The colours are the sixel's own percent levels (`#n;2;r;g;b`, 0-100): registers in
    /// order of first appearance, row by row; when there are more than 256 of them, the
    /// pixels are mapped to the xterm 256-colour palette's cube and grey ramp first. The
    /// header is `ESC P 0;1 q` (pixels a colour leaves at 0 stay transparent, so the last
    /// band's rows below the image touch nothing) with raster attributes `"1;1;W;H`
    /// (square pixels). Per band, each colour present, in register order: `#n`, its
    /// columns (`?` + the band's bits, trailing `?` dropped, runs of more than 3 as
    /// `!count c`), joined by `$`; bands joined by `-`; then `ESC \`.
    public static func encode(rgb: [UInt8], width: Int, height: Int) -> [UInt8] {
        guard width > 0, height > 0, rgb.count >= width * height * 3 else { return [] }
        let n = width * height
        func percent(_ v: UInt8) -> Int { (Int(v) * 100 + 127) / 255 }
        // Colours as percent triples, then registers.
        var keys = [Int](repeating: 0, count: n)
        for i in 0..<n {
            keys[i] = percent(rgb[3 * i]) << 16 | percent(rgb[3 * i + 1]) << 8 | percent(rgb[3 * i + 2])
        }
        if Set(keys).count > 256 {
            for i in 0..<n {
                let c = ColorConversion.xterm256RGB(ColorConversion.xterm256Index(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]))
                keys[i] = percent(UInt8(c.r)) << 16 | percent(UInt8(c.g)) << 8 | percent(UInt8(c.b))
            }
        }
        var register: [Int: Int] = [:]
        var palette: [Int] = []
        var pixels = [Int](repeating: 0, count: n)
        for i in 0..<n {
            if let r = register[keys[i]] {
                pixels[i] = r
            } else {
                register[keys[i]] = palette.count
                pixels[i] = palette.count
                palette.append(keys[i])
            }
        }

        var out = Array("\u{1B}P0;1q\"1;1;\(width);\(height)".utf8)
        for (r, k) in palette.enumerated() {
            out += Array("#\(r);2;\(k >> 16);\((k >> 8) & 255);\(k & 255)".utf8)
        }
        var line = [UInt8](repeating: 0, count: width)
        var present = [Bool](repeating: false, count: palette.count)
        for top in stride(from: 0, to: height, by: 6) {
            if top > 0 { out.append(UInt8(ascii: "-")) }
            let rows = min(6, height - top)
            for i in (top * width)..<((top + rows) * width) { present[pixels[i]] = true }
            var first = true
            for colour in 0..<palette.count where present[colour] {
                present[colour] = false
                for x in 0..<width {
                    var bits: UInt8 = 0
                    for k in 0..<rows where pixels[(top + k) * width + x] == colour { bits |= 1 << k }
                    line[x] = 63 + bits
                }
                if !first { out.append(UInt8(ascii: "$")) }
                first = false
                out += Array("#\(colour)".utf8)
                var end = width
                while end > 0 && line[end - 1] == 63 { end -= 1 }
                var x = 0
                while x < end {
                    var run = 1
                    while x + run < end && line[x + run] == line[x] { run += 1 }
                    if run > 3 {
                        out += Array("!\(run)".utf8)
                        out.append(line[x])
                    } else {
                        for _ in 0..<run { out.append(line[x]) }
                    }
                    x += run
                }
            }
        }
        out += [0x1B, 0x5C]
        return out
    }
}

/// Keeps the images a terminal shows in step with the frames: after the cells of a frame
/// are on screen, `frame` gives the bytes that add, replace or remove images; `clear`
/// the bytes that remove them all (on leaving the screen). Images are identified by their
/// slot, their order in the frame (at most `KittyGraphics.maxImages`).
public final class GraphicsLayer {
    /// `.kitty` or `.sixel` (`blocks` and `auto` send nothing).
    public let mode: GraphicsMode
    /// A cell's size in pixels (sixel images are scaled to their cells' pixels).
    public var cellPixels: Size
    private var shown: [CanvasImage?] = []
    /// Per slot, the sixel sequence of the image shown (redrawn as it is when text
    /// was drawn over it).
    private var encoded: [[UInt8]] = []

    public init(mode: GraphicsMode, cellPixels: Size = Size(width: 10, height: 20)) {
        self.mode = mode
        self.cellPixels = Size(width: max(1, cellPixels.width), height: max(1, cellPixels.height))
    }

    /// Whether anything will be sent at all.
    public var isActive: Bool { mode == .kitty || mode == .sixel }

    /// The fixed kitty ids this layer may use.
    public static var kittyIDs: Range<UInt32> {
        KittyGraphics.firstID..<(KittyGraphics.firstID + UInt32(KittyGraphics.maxImages))
    }

    /// The rectangles of sixel images that go away or move with this frame: their cells
    /// must be drawn again (the terminal keeps a sixel's pixels until text covers them).
    public func vacated(by images: [CanvasImage]) -> [Rect] {
        guard mode == .sixel else { return [] }
        let next = Self.slots(images)
        return shown.enumerated().compactMap { slot, old in
            guard let old else { return nil }
            return slot < next.count && next[slot]?.rect == old.rect ? nil : old.rect
        }
    }

    /// The bytes that bring the terminal from the last frame's images to `images`, wrapped
    /// in save/restore cursor (`ESC 7` ... `ESC 8`) so that the cursor and attributes
    /// ncurses believes in stay true; empty when nothing changes.
    ///
    /// - Parameters:
    ///   - cleared: the screen was cleared (a resize, a new size): every image is sent
    ///     again, kitty's old placements deleted first.
    ///   - repainted: whether cells in a rectangle were drawn this frame (a sixel is
    ///     drawn again over them; kitty images stay above the text).
    public func frame(_ images: [CanvasImage], cleared: Bool = false, repainted: (Rect) -> Bool = { _ in false })
        -> [UInt8] {
        guard isActive else { return [] }
        let next = Self.slots(images)
        let count = max(shown.count, next.count)
        if shown.count < count { shown += Array(repeating: nil, count: count - shown.count) }
        if encoded.count < count { encoded += Array(repeating: [], count: count - encoded.count) }
        var out: [UInt8] = []
        for slot in 0..<count {
            let new = slot < next.count ? next[slot] : nil
            let old = shown[slot]
            shown[slot] = new
            let id = KittyGraphics.firstID + UInt32(slot)
            switch mode {
            case .kitty:
                guard cleared || new != old else { continue }
                if old != nil { out += KittyGraphics.delete(id: id) }
                if let new { out += Self.moveCursor(new.rect) + KittyGraphics.place(new, id: id) }
            default:
                guard let new else {
                    encoded[slot] = []
                    continue
                }
                // Encoded again for a cleared screen too: the cells' pixel size may have changed.
                if cleared || new != old { encoded[slot] = sixel(new) }
                if cleared || new != old || repainted(new.rect) { out += Self.moveCursor(new.rect) + encoded[slot] }
            }
        }
        shown = Array(shown.prefix(next.count))
        encoded = Array(encoded.prefix(next.count))
        guard !out.isEmpty else { return [] }
        return [0x1B, 0x37] + out + [0x1B, 0x38]
    }

    /// The bytes that remove every image shown (kitty: deleted by id; a sixel goes with
    /// the screen it was drawn on). Nothing is shown afterwards.
    public func clear() -> [UInt8] {
        defer {
            shown = []
            encoded = []
        }
        guard mode == .kitty else { return [] }
        var out: [UInt8] = []
        for (slot, image) in shown.enumerated() where image != nil {
            out += KittyGraphics.delete(id: KittyGraphics.firstID + UInt32(slot))
        }
        return out
    }

    /// Deletes of every fixed kitty id, whatever is shown (for a crash handler, which
    /// cannot ask what is on screen).
    public static func kittyDeleteAll() -> [UInt8] { kittyIDs.flatMap { KittyGraphics.delete(id: $0) } }

    /// The valid images, at most `maxImages`.
    static func slots(_ images: [CanvasImage]) -> [CanvasImage?] {
        images.filter(\.isValid).prefix(KittyGraphics.maxImages).map { Optional($0) }
    }

    /// `ESC [ row ; column H` to the rectangle's top left.
    static func moveCursor(_ r: Rect) -> [UInt8] { Array("\u{1B}[\(r.y + 1);\(r.x + 1)H".utf8) }

    /// The image scaled to the largest size that fits its cells' pixels (aspect kept),
    /// as a sixel.
    private func sixel(_ image: CanvasImage) -> [UInt8] {
        let maxW = image.rect.width * cellPixels.width, maxH = image.rect.height * cellPixels.height
        let scale = min(Double(maxW) / Double(image.width), Double(maxH) / Double(image.height))
        let w = max(1, min(maxW, Int((Double(image.width) * scale).rounded())))
        let h = max(1, min(maxH, Int((Double(image.height) * scale).rounded())))
        if w == image.width && h == image.height { return Sixel.encode(rgb: image.rgb, width: w, height: h) }
        let n = image.width * image.height
        let planes = (0..<3).map { c in
            Raster.resample((0..<n).map { Float(image.rgb[3 * $0 + c]) }, width: image.width, height: image.height,
                            toWidth: w, toHeight: h)
        }
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for i in 0..<(w * h) {
            for c in 0..<3 { rgb[3 * i + c] = UInt8(min(max(planes[c][i].rounded(), 0), 255)) }
        }
        return Sixel.encode(rgb: rgb, width: w, height: h)
    }
}
