import Basics
import AGGAN
import TestSupport
import ArgumentParser
import Foundation
import Dashboard
import TerminalKit
import TrainingEngine

/// How fast the dashboard builds and blits a frame, on synthetic snapshots.
struct BenchUI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-ui",
        abstract: "Time building and blitting dashboard frames (synthetic snapshots; no training).",
        discussion: """
            Each frame is a new snapshot one step further (the loss curves move every frame, \
            the previews every 20 frames). On a terminal the frames are drawn on it; otherwise \
            ncurses draws into /dev/null as TERM at the given size. --dump prints one frame \
            as text instead (after applying --keys), which is how the golden frames are made.
            """)

    @Option(help: "Frame size, WIDTHxHEIGHT.") var size: String = "200x60"
    @Option(help: "Frames to time.") var frames: Int = 300
    @Option(help: "First step of the synthetic run.") var step: Int = 1000
    @Option(help: "Colours (default: detected).") var color: ColorDepth?
    @Option(help: "Theme name or file.") var theme: String = "default"
    @Option(help: "Preview images: blocks, kitty or sixel (the sequences are encoded and written like the cells).")
    var graphics: GraphicsMode = .blocks
    @Flag(help: "Print one frame as text and exit.") var dump = false
    @Option(help: "Keys to apply before --dump, e.g. \"a d ] t\" (space-separated; 'space', 'left', 'right', 'end').")
    var keys: String = ""

    func parsedSize() throws -> Size {
        let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts[0] > 0, parts[1] > 0 else {
            throw ValidationError("--size '\(size)' is not WIDTHxHEIGHT (e.g. 200x60)")
        }
        return Size(width: parts[0], height: parts[1])
    }

    func run() throws {
        let frameSize = try parsedSize()
        let environment = ProcessInfo.processInfo.environment
        let (themes, themeIndex) = try dashboardThemes(chosen: theme, environment: environment)
        if dump {
            // Keys act on a made-up engine: tau, mode and pause take effect at once.
            var view = ViewState()
            var tau: Float = 0.1, mode = ThresholdMode.soft
            var state = RunState.running
            func live() -> TrainingSnapshot { SyntheticSnapshot.make(step: step, state: state, tau: tau, mode: mode, sequence: 100) }
            let history = (0..<5).map { SyntheticSnapshot.make(step: step - 100 * (5 - $0), sequence: 95 + $0) }
            for word in keys.split(separator: " ") {
                let key: Key
                switch word {
                case "space": key = .character(" ")
                case "left": key = .left
                case "right": key = .right
                case "end": key = .end
                default: key = .character(word.first!)
                }
                let outcome = DashboardInput.handle(key, view: view, snapshot: live(), history: history + [live()],
                                                    themeCount: themes.count)
                view = outcome.view
                for c in outcome.commands {
                    switch c {
                    case let .setTau(t): tau = t
                    case let .setMode(m): mode = m
                    case .pause: state = .paused
                    case .resume: state = .running
                    default: break
                    }
                }
                view = view.reconciled(with: live())
            }
            let canvas = Dashboard.render(live(), view: view, history: history + [live()], size: frameSize,
                                          theme: themes[view.themeIndex])
            print(canvas.text())
            return
        }

        let depth = color ?? ColorDepth.detect(environment: environment)
        // Snapshots first, outside the timing.
        let snapshots = (0..<frames).map { i in
            SyntheticSnapshot.make(step: step + i, previewStep: ((step + i) / 20) * 20, sequence: i + 1)
        }
        let onTerminal = isatty(STDOUT_FILENO) == 1
        var terminalEnvironment = environment
        if !onTerminal, (environment["TERM"] ?? "").isEmpty || environment["TERM"] == "dumb" {
            terminalEnvironment["TERM"] = "xterm-256color"
        }
        let terminal = try NCursesTerminal(depth: depth, environment: terminalEnvironment,
                                           benchmarkOutput: onTerminal ? nil : "/dev/null", benchmarkSize: frameSize,
                                           graphics: graphics)
        let terminalSize = terminal.size
        var build: [Double] = [], blit: [Double] = []
        var changed: [Int] = []
        var previous: Canvas?
        let view = ViewState()
        for s in snapshots {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let canvas = Dashboard.render(s, view: view, size: frameSize, theme: themes[themeIndex],
                                          colors: terminal.depth)
            let t1 = DispatchTime.now().uptimeNanoseconds
            terminal.blit(canvas)
            let t2 = DispatchTime.now().uptimeNanoseconds
            build.append(Double(t1 - t0) / 1e6)
            blit.append(Double(t2 - t1) / 1e6)
            if let p = previous { changed.append(zip(p.cells, canvas.cells).reduce(0) { $0 + ($1.0 == $1.1 ? 0 : 1) }) }
            previous = canvas
        }
        let usedDepth = terminal.depth
        terminal.restore()
        func stats(_ v: [Double]) -> String {
            let s = Stats(v)
            return String(format: "mean %.2f ms  median %.2f ms  p95 %.2f ms", s.mean ?? 0, s.median ?? 0, s.percentile(0.95) ?? 0)
        }
        let total = zip(build, blit).map { $0 + $1 }
        print("bench-ui: \(frames) frames at \(frameSize) (terminal \(terminalSize), \(onTerminal ? "tty" : "/dev/null as \(terminal.terminalType)"), colours \(usedDepth.rawValue), images \(terminal.graphics.rawValue))")
        print("  build  " + stats(build))
        print("  blit   " + stats(blit))
        print("  total  " + stats(total))
        let first = total.first ?? 0
        print(String(format: "  first frame (every cell drawn) %.2f ms", first))
        let cells = frameSize.width * frameSize.height
        let meanChanged = Double(changed.reduce(0, +)) / Double(max(1, changed.count))
        print(String(format: "  cells changed per frame: mean %.0f of %d (%.1f%%)", meanChanged, cells,
                     100 * meanChanged / Double(cells)))
    }
}
