// The ncurses backend: opens the terminal, turns key codes into `Key`s and blits a Canvas,
// writing only the cells that changed since the last frame, then (kitty or sixel) the
// frame's images in real pixels over their cells. The only file that imports CNCurses.
import CNCurses
import Foundation

/// A full-screen terminal session on standard input and output (or, for benchmarks, on
/// an output file with a given terminal type and size).
public final class NCursesTerminal: Terminal {
    /// The colours cells are drawn with (what was asked for, lowered to what the terminal
    /// can show).
    public let depth: ColorDepth
    /// The terminal type ncurses runs with (`xterm-direct` when truecolor came from there).
    public let terminalType: String
    public private(set) var size: Size

    private var screen: OpaquePointer?
    private var output: UnsafeMutablePointer<FILE>?
    private var input: UnsafeMutablePointer<FILE>?
    private var window: UnsafeMutablePointer<WINDOW>?
    private var open = false
    /// Colour numbers are RGB values (a direct-colour terminal type).
    private let direct: Bool
    /// The terminal has fewer than 16 colours: bright colours fold onto the 8 basic ones.
    private let eightColours: Bool
    private let maxPair: Int32
    private var pairs: [UInt64: Int32] = [:]
    private var nextPair: Int32 = 1
    private var foregrounds: [UInt32: (code: Int32, attributes: attr_t)] = [:]
    private var backgrounds: [UInt32: Int32] = [:]
    private var previous: [Cell] = []
    private var previousWidth = -1, previousHeight = -1
    private let attrBold, attrDim, attrReverse, attrUnderline: attr_t
    private let wide = UnsafeMutablePointer<wchar_t>.allocate(capacity: 8)
    /// The images in real pixels (inactive for half-blocks).
    private let graphicsLayer: GraphicsLayer
    /// How images are drawn: `.kitty`, `.sixel` or `.blocks` (the cells alone).
    public var graphics: GraphicsMode { graphicsLayer.mode }

    /// Opens the terminal: locale, ncurses, cbreak, no echo, keypad, non-blocking input,
    /// hidden cursor, colours; and, on a real terminal, handlers that restore it if the
    /// process dies of a crash signal before `restore()` (CNCurses/shim.h).
    ///
    /// - Parameters:
    ///   - requested: the colour depth wanted (`ColorDepth.detect` or `--color`). Truecolor
    ///     needs a direct-colour terminal type: when `TERM` names a 256-colour one, its
    ///     `-direct` sibling is tried (`xterm-256color` -> `xterm-direct`), else the depth
    ///     falls to 256 colours.
    ///   - environment: for `TERM`.
    ///   - benchmarkOutput: draw into this file instead of the terminal, as `TERM` with
    ///     the size `benchmarkSize` (for `aggan bench-ui` and tests without a terminal).
    ///   - pairLimit: use at most this many colour pairs (tests of a full pair table).
    ///   - graphics: how images are drawn (`auto` is resolved from `environment`): kitty
    ///     or sixel sequences are written after each frame's cells; they are deleted on
    ///     resize and by `restore()`, and the kitty ones by the crash handler too.
    public init(depth requested: ColorDepth, environment: [String: String] = ProcessInfo.processInfo.environment,
                benchmarkOutput: String? = nil, benchmarkSize: Size = Size(width: 80, height: 24),
                pairLimit: Int32? = nil, graphics: GraphicsMode = .blocks) throws {
        let mode = graphics.resolved(environment: environment)
        graphicsLayer = GraphicsLayer(mode: mode == .auto ? .blocks : mode)
        Self.setUTF8Locale()
        let term = environment["TERM"].flatMap { $0.isEmpty ? nil : $0 } ?? "xterm-256color"
        if let path = benchmarkOutput {
            output = fopen(path, "w")
            input = fopen("/dev/null", "r")
            guard output != nil, input != nil else { throw TerminalError("cannot open '\(path)' to draw into") }
        } else {
            // A stream of our own on the terminal, fully buffered: ncurses flushes once per
            // frame instead of writing every few bytes.
            let fd = dup(STDOUT_FILENO)
            output = fd >= 0 ? fdopen(fd, "w") : nil
            if let output { setvbuf(output, nil, _IOFBF, 1 << 16) } else { output = aggan_stdout() }
            input = aggan_stdin()
            // A crash (a trap in the engine thread too) restores the terminal before the
            // process dies: the modes as they are now, before ncurses changes them; the
            // stream ncurses draws through is silenced then.
            aggan_install_crash_restore(output.map { fileno($0) } ?? STDOUT_FILENO)
        }
        var chosen = term
        if requested == .truecolor, !term.contains("direct"), term.hasSuffix("-256color") {
            let sibling = String(term.dropLast("-256color".count)) + "-direct"
            if let s = newterm(sibling, output, input) {
                screen = s
                chosen = sibling
            }
        }
        if screen == nil { screen = newterm(term, output, input) }
        guard let screen else {
            aggan_remove_crash_restore()
            throw TerminalError("cannot open the terminal: no terminal description for TERM='\(term)'")
        }
        terminalType = chosen
        set_term(screen)
        open = true
        window = aggan_stdscr()
        cbreak()
        noecho()
        nonl()
        keypad(window, true)
        nodelay(window, true)
        intrflush(window, false)
        set_escdelay(25)
        // No look for typed-ahead keys in the middle of a frame: that check flushes the
        // output line by line; the loop reads keys between frames anyway.
        typeahead(-1)
        curs_set(0)
        attrBold = aggan_a_bold()
        attrDim = aggan_a_dim()
        attrReverse = aggan_a_reverse()
        attrUnderline = aggan_a_underline()

        var depth = requested
        var isDirect = false
        if depth != .none, has_colors() {
            start_color()
            use_default_colors()
            let colours = aggan_colors()
            isDirect = colours >= 0x100_0000
            if !isDirect {
                if depth == .truecolor { depth = colours >= 256 ? .ansi256 : .ansi16 }
                if depth == .ansi256 && colours < 256 { depth = .ansi16 }
            }
            eightColours = colours < 16
        } else {
            depth = .none
            eightColours = false
        }
        self.depth = depth
        direct = isDirect
        maxPair = max(0, min(aggan_color_pairs() - 1, 65_535, pairLimit ?? .max))
        if benchmarkOutput != nil { resizeterm(Int32(benchmarkSize.height), Int32(benchmarkSize.width)) }
        size = Size(width: Int(aggan_cols()), height: Int(aggan_lines()))
        measureCells()
        if graphicsLayer.mode == .kitty, benchmarkOutput == nil {
            let deletes = GraphicsLayer.kittyDeleteAll()
            deletes.withUnsafeBufferPointer { p in
                p.withMemoryRebound(to: CChar.self) { aggan_set_crash_extra($0.baseAddress, Int32($0.count)) }
            }
        }
    }

    /// A cell's size in pixels, for sixel images (10x20 when the terminal does not say).
    private func measureCells() {
        guard let output else { return }
        var w: Int32 = 0, h: Int32 = 0
        aggan_cell_pixels(fileno(output), &w, &h)
        graphicsLayer.cellPixels = w > 0 && h > 0 ? Size(width: Int(w), height: Int(h)) : Size(width: 10, height: 20)
    }

    /// Sends bytes after what ncurses has sent.
    private func send(_ bytes: [UInt8]) {
        guard !bytes.isEmpty, let output else { return }
        bytes.withUnsafeBufferPointer { p in _ = fwrite(p.baseAddress, 1, p.count, output) }
        fflush(output)
    }

    /// Waits up to `timeout` milliseconds for a key on standard input or a byte on
    /// `wakeFD`.
    public func wait(timeoutMilliseconds timeout: Int32, wakeFD: Int32) -> TerminalWait {
        var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
        _ = poll(&fds, 2, timeout)
        return fds[0].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 ? .hangUp : .ready
    }

    deinit {
        restore()
        wide.deallocate()
    }

    /// Puts the terminal back as it was (ends curses mode). Safe to call more than once.
    public func restore() {
        guard open else { return }
        open = false
        // Images go first, while the screen they are on is still shown.
        send(graphicsLayer.clear())
        aggan_set_crash_extra(nil, 0)
        curs_set(1)
        endwin()
        aggan_remove_crash_restore()
        if let screen { delscreen(screen) }
        screen = nil
        if let output, output != aggan_stdout() { fclose(output) }
        if let input, input != aggan_stdin() { fclose(input) }
        output = nil
        input = nil
    }

    /// Braille and half-blocks need a UTF-8 locale: the user's, else C.UTF-8.
    static func setUTF8Locale() {
        setlocale(LC_ALL, "")
        if let cs = aggan_codeset(), String(cString: cs).uppercased().replacingOccurrences(of: "-", with: "") == "UTF8" {
            return
        }
        if setlocale(LC_CTYPE, "C.UTF-8") == nil { _ = setlocale(LC_CTYPE, "en_US.UTF-8") }
    }

    /// The keys pressed since the last call (never waits).
    public func readEvents() -> [TerminalEvent] {
        guard open else { return [] }
        var events: [TerminalEvent] = []
        var code: wint_t = 0
        while events.count < 256 {
            let r = wget_wch(window, &code)
            if r == aggan_err() { break }
            if r == aggan_key_code_yes() {
                let k = Int32(bitPattern: code)
                if k == aggan_key_resize() {
                    size = Size(width: Int(aggan_cols()), height: Int(aggan_lines()))
                    previousWidth = -1  // the terminal may have reflowed: draw everything (images too)
                    measureCells()
                    clearok(window, true)
                    events.append(.resize)
                } else if let key = Self.functionKey(k) {
                    events.append(.key(key))
                }
            } else if let key = Key(characterCode: UInt32(code)) {
                events.append(.key(key))
            }
        }
        return events
    }

    static func functionKey(_ k: Int32) -> Key? {
        switch k {
        case aggan_key_left(): return .left
        case aggan_key_right(): return .right
        case aggan_key_up(): return .up
        case aggan_key_down(): return .down
        case aggan_key_home(): return .home
        case aggan_key_end(): return .end
        case aggan_key_ppage(): return .pageUp
        case aggan_key_npage(): return .pageDown
        case aggan_key_enter(): return .enter
        case aggan_key_backspace(): return .backspace
        default: return nil
        }
    }

    /// The character ncurses holds at (x, y) of the screen (for tests).
    func character(x: Int, y: Int) -> Character {
        guard open, let s = Unicode.Scalar(aggan_char_at(window, Int32(y), Int32(x))) else { return "\u{0}" }
        return Character(s)
    }

    /// Makes the next `blit` draw every cell.
    public func invalidate() { previousWidth = -1 }

    /// Draws `canvas` at the top left: only the cells that differ from the last frame are
    /// handed to ncurses, which then sends the terminal what changed.
    public func blit(_ canvas: Canvas) {
        guard open else { return }
        let cleared = canvas.width != previousWidth || canvas.height != previousHeight
        if cleared {
            werase(window)
            previous = Array(repeating: Cell("\u{0}"), count: canvas.width * canvas.height)
            previousWidth = canvas.width
            previousHeight = canvas.height
        }
        let maxX = min(canvas.width, size.width), maxY = min(canvas.height, size.height)
        // Sixel images stay on screen until text covers them: cells under one that went away
        // or moved are drawn again, and an image under cells drawn this frame is sent again.
        let sixelImages = graphicsLayer.mode == .sixel ? canvas.images : []
        var repainted = [Bool](repeating: false, count: sixelImages.count)
        for r in graphicsLayer.vacated(by: canvas.images) {
            let r = r.intersection(Rect(x: 0, y: 0, width: maxX, height: maxY))
            guard !r.isEmpty else { continue }
            wredrawln(window, Int32(r.y), Int32(r.height))  // whole rows
            for (k, image) in sixelImages.enumerated() where image.rect.y < r.maxY && r.y < image.rect.maxY {
                repainted[k] = true
            }
        }
        // When the colour pair table fills up, it starts over and the whole frame is drawn
        // again from the first row (at most once a frame; after that the terminal's default
        // pair stands in).
        var resetThisFrame = false
        var again = true
        canvas.cells.withUnsafeBufferPointer { cells in
            while again {
                again = false
                rows: for y in 0..<maxY {
                    let row = y * canvas.width
                    for x in 0..<maxX {
                        let i = row + x
                        let cell = cells[i]
                        if cell.isContinuation || cell == previous[i] { continue }
                        let fg = foreground(cell.fg)
                        var pair = pairNumber(fg: fg.code, bg: background(cell.bg))
                        if pair < 0 {
                            if !resetThisFrame {
                                resetThisFrame = true
                                pairs.removeAll(keepingCapacity: true)
                                nextPair = 1
                                for j in previous.indices { previous[j] = Cell("\u{0}") }
                                again = true
                                break rows
                            }
                            pair = 0
                        }
                        put(cell, x: x, y: y, pair: pair, extra: fg.attributes)
                        previous[i] = cell
                        for (k, image) in sixelImages.enumerated() where image.rect.contains(x: x, y: y) {
                            repainted[k] = true
                        }
                    }
                }
            }
        }
        wnoutrefresh(window)
        doupdate()
        if graphicsLayer.isActive {
            send(graphicsLayer.frame(canvas.images, cleared: cleared, repainted: { rect in
                sixelImages.indices.contains { repainted[$0] && sixelImages[$0].rect == rect }
            }))
        }
    }

    private func put(_ cell: Cell, x: Int, y: Int, pair: Int32, extra: attr_t) {
        var n = 0
        for s in cell.character.unicodeScalars where n < 5 {
            wide[n] = wchar_t(bitPattern: s.value)
            n += 1
        }
        wide[n] = 0
        var attrs: attr_t = extra
        let a = cell.attributes
        if !a.isEmpty {
            if a.contains(.bold) { attrs |= attrBold }
            if a.contains(.dim) { attrs |= attrDim }
            if a.contains(.reverse) { attrs |= attrReverse }
            if a.contains(.underline) { attrs |= attrUnderline }
        }
        _ = aggan_put_cell(window, Int32(y), Int32(x), wide, attrs, pair)
    }

    /// The colour pair for two colour numbers, made on first use; -1 when the table is full.
    private func pairNumber(fg f: Int32, bg b: Int32) -> Int32 {
        guard depth != .none else { return 0 }
        if f == -1 && b == -1 { return 0 }
        let key = UInt64(UInt32(bitPattern: f)) << 32 | UInt64(UInt32(bitPattern: b))
        if let p = pairs[key] { return p }
        guard nextPair <= maxPair else { return -1 }
        let p = nextPair
        nextPair += 1
        init_extended_pair(p, f, b)
        pairs[key] = p
        return p
    }

    private static func key(_ c: Color) -> UInt32? {
        guard case let .rgb(r, g, b) = c else { return nil }
        return UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b)
    }

    /// The colour number for text, and attributes that stand in for a colour the
    /// terminal lacks: with 8 colours, bright ones are bold and bright black is dim white.
    private func foreground(_ c: Color) -> (code: Int32, attributes: attr_t) {
        guard let key = Self.key(c) else { return (-1, 0) }
        if let f = foregrounds[key] { return f }
        var f = (code: colourCode(c), attributes: attr_t(0))
        if eightColours, f.code >= 8 {
            f = f.code == 8 ? (7, attrDim) : (f.code - 8, attrBold)
        }
        foregrounds[key] = f
        return f
    }

    /// The colour number for a background (bright colours fold onto the 8 basic ones).
    private func background(_ c: Color) -> Int32 {
        guard let key = Self.key(c) else { return -1 }
        if let b = backgrounds[key] { return b }
        var b = colourCode(c)
        if eightColours, b >= 8 { b -= 8 }
        backgrounds[key] = b
        return b
    }

    /// The number ncurses knows a colour by: -1 for the terminal's default, a palette
    /// index, or in a direct-colour terminal the RGB value.
    private func colourCode(_ c: Color) -> Int32 {
        if depth == .ansi16, case let .rgb(r, g, b) = c {
            return Int32(ColorConversion.ansi16HueIndex(r, g, b))
        }
        switch depth.resolve(c) {
        case .default: return -1
        case let .rgb(r, g, b): return direct ? Int32(r) << 16 | Int32(g) << 8 | Int32(b) : -1
        case let .indexed(i):
            guard direct else { return Int32(i) }
            let rgb = ColorConversion.xterm256RGB(i)
            return Int32(rgb.r) << 16 | Int32(rgb.g) << 8 | Int32(rgb.b)
        }
    }
}
