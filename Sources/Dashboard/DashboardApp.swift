// The dashboard loop: on the main thread, wait for a key or a snapshot, apply keys
// (engine commands go to the engine's inbox, never wait for it), redraw at most ~30
// times a second, and leave when the engine has ended. Training runs on the engine's own
// queue; the only link is a coalescing observer that keeps the newest snapshot.
import Basics
import TerminalKit
import Foundation
import TrainingEngine

/// A pipe that wakes a `poll` from other threads (snapshots, signals).
final class WakePipe: @unchecked Sendable {
    let readFD: Int32
    let writeFD: Int32
    private let pending = LockedBox(false)

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw TerminalError("cannot create a pipe: \(String(cString: strerror(errno)))") }
        readFD = fds[0]
        writeFD = fds[1]
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    /// Wakes the loop (at most one byte waits in the pipe).
    func signal() {
        let first = pending.withLock { p -> Bool in defer { p = true }; return !p }
        guard first else { return }
        var b: UInt8 = 1
        _ = write(writeFD, &b, 1)
    }

    func drain() {
        pending.withLock { $0 = false }
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(readFD, &buffer, buffer.count) > 0 {}
    }
}

/// Keeps the newest snapshot for the loop and wakes it.
final class LatestSnapshot: TrainingObserver, @unchecked Sendable {
    private let box = LockedBox<TrainingSnapshot?>(nil)
    private let wake: WakePipe

    init(wake: WakePipe) { self.wake = wake }

    func didPublish(_ snapshot: TrainingSnapshot) {
        box.withLock { $0 = snapshot }
        wake.signal()
    }

    /// The snapshot that arrived since the last call, if any.
    func take() -> TrainingSnapshot? { box.withLock { s in defer { s = nil }; return s } }
}

/// How the dashboard runs.
public struct DashboardOptions: Sendable {
    /// The themes `T` cycles through, and the one to start with.
    public var themes: [Theme]
    public var themeIndex: Int
    /// The colours wanted (lowered to what the terminal can show).
    public var colorDepth: ColorDepth
    /// The shortest time between two frames after a key or a resize.
    public var frameInterval: Double
    /// The shortest time between two frames that only show new snapshots: a fast run
    /// publishes one per step, and drawing each would take CPU from training.
    public var snapshotInterval: Double
    /// How preview images are drawn: kitty or sixel pixels over the half-blocks, or the
    /// half-blocks alone (`auto` is resolved from the environment when the terminal opens).
    public var graphics: GraphicsMode

    public init(themes: [Theme], themeIndex: Int = 0, colorDepth: ColorDepth, frameInterval: Double = 1.0 / 30,
                snapshotInterval: Double = 1.0 / 8, graphics: GraphicsMode = .blocks) {
        self.graphics = graphics
        self.themes = themes.isEmpty ? [Theme.default] : themes
        self.themeIndex = min(max(themeIndex, 0), self.themes.count - 1)
        self.colorDepth = colorDepth
        self.frameInterval = frameInterval
        self.snapshotInterval = max(frameInterval, snapshotInterval)
    }
}

/// How the dashboard ended.
public struct DashboardResult: Sendable {
    /// The last snapshot (nil if the engine never published one).
    public var snapshot: TrainingSnapshot?
    /// Left because of Ctrl-C, SIGTERM or a closed terminal.
    public var interrupted: Bool
    /// Left without waiting for the engine (a second Ctrl-C).
    public var forced: Bool
    /// Frames drawn and their mean build + blit time in milliseconds.
    public var frames: Int
    public var meanFrameMilliseconds: Double
    /// The colour depth that was used.
    public var colorDepth: ColorDepth

    /// The run ended well (finished or stopped, not failed).
    public var succeeded: Bool { snapshot?.state != .failed && !forced }
}

/// What the dashboard needs of a training engine: `Engine` in the product, a fake in
/// the app loop's tests.
public protocol DashboardEngine: AnyObject, Sendable {
    var observers: ObserverRegistry { get }
    var latestSnapshot: TrainingSnapshot? { get }
    var snapshotHistory: [TrainingSnapshot] { get }
    func send(_ command: EngineCommand)
    func start(paused: Bool)
    func waitUntilFinished()
    /// Looking at runs rather than training one (`aggan view`): the dashboard stays when
    /// the run has ended and quits without asking.
    var isReadOnly: Bool { get }
    /// Several runs' curves to overlay on the loss charts (empty for one run).
    var comparedRuns: [RunCurves] { get }
    /// The dashboard is about to show the previews of `step` (a viewer recomputes them
    /// from that step's checkpoint and publishes a snapshot when they are ready).
    func showing(step: Int)
}

extension DashboardEngine {
    public var isReadOnly: Bool { false }
    public var comparedRuns: [RunCurves] { [] }
    public func showing(step: Int) {}
}

extension Engine: DashboardEngine {}

public enum DashboardApp {
    /// Runs the dashboard on the terminal until the engine has ended; starts the engine
    /// (running). The terminal is restored on every way out: quit, Ctrl-C, SIGTERM,
    /// SIGHUP, errors.
    public static func run(engine: some DashboardEngine, options: DashboardOptions) throws -> DashboardResult {
        let wake = try WakePipe()
        let signals = StopSignals { _ in wake.signal() }
        let terminal = try NCursesTerminal(depth: options.colorDepth, graphics: options.graphics)
        defer { terminal.restore() }
        return loop(engine: engine, terminal: terminal, options: options, wake: wake, signals: signals)
    }

    /// The app loop on any terminal: wait for a key, a snapshot or a signal; apply keys
    /// (commands go to the engine's inbox, never wait for it); draw at most one frame per
    /// `frameInterval` after a key or resize and per `snapshotInterval` for new
    /// snapshots; leave when the engine has ended, on quit, or on a signal (the second
    /// one leaves without waiting for the engine).
    static func loop(engine: some DashboardEngine, terminal: some Terminal, options: DashboardOptions,
                     wake: WakePipe, signals: StopSignals) -> DashboardResult {
        let latest = LatestSnapshot(wake: wake)
        engine.observers.add(latest)
        defer { engine.observers.remove(latest) }
        let readOnly = engine.isReadOnly
        if readOnly || engine.latestSnapshot == nil || engine.latestSnapshot?.state == .idle {
            engine.start(paused: false)
        }

        var view = ViewState()
        view.themeIndex = options.themeIndex
        view.readOnly = readOnly
        var live = engine.latestSnapshot
        var dirty = true
        var viewChanged = true  // a key or a resize: draw at the fast rate
        var lastFrame: UInt64 = 0
        var frames = 0
        var frameNanos: UInt64 = 0
        var handledSignals = 0
        var interrupted = false
        var forced = false
        let fastInterval = UInt64(max(0, options.frameInterval) * 1e9)
        let slowInterval = UInt64(max(0, options.snapshotInterval) * 1e9)
        var interval: UInt64 { viewChanged ? fastInterval : slowInterval }

        func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
        func stopForSignal() {
            interrupted = true
            if !view.stopping {
                view.stopping = true
                view.quitPrompt = false
                engine.send(.stop(save: true))
            }
            dirty = true
            viewChanged = true
        }

        loop: while true {
            // Wait for a key, a snapshot or a signal; or for the next frame when one is due.
            var timeout: Int32 = 250
            if dirty {
                let since = now() &- lastFrame
                timeout = since >= interval ? 0 : Int32((interval - since) / 1_000_000) + 1
            }
            let waited = terminal.wait(timeoutMilliseconds: timeout, wakeFD: wake.readFD)
            wake.drain()
            if waited == .hangUp {
                // The terminal went away: stop (saving) and leave without drawing.
                stopForSignal()
                break loop
            }

            let count = signals.received
            if count > handledSignals {
                handledSignals = count
                if count >= 2 { forced = true; interrupted = true; break loop }
                stopForSignal()
            }

            for event in terminal.readEvents() {
                switch event {
                case .resize:
                    dirty = true
                    viewChanged = true
                case let .key(key):
                    let history = key == .left || key == .right ? engine.snapshotHistory : []
                    let outcome = DashboardInput.handle(key, view: view, snapshot: live, history: history,
                                                        themeCount: options.themes.count)
                    for c in outcome.commands { engine.send(c) }
                    if outcome.quit && live == nil { engine.send(.stop(save: false)); break loop }
                    if outcome.quit && live?.state.hasEnded == true { break loop }
                    if outcome.view != view { dirty = true; viewChanged = true }
                    view = outcome.view
                }
            }

            if let s = latest.take() {
                live = s
                view = view.reconciled(with: s)
                dirty = true
            }
            if live?.state.hasEnded == true && !readOnly { break loop }

            if dirty && now() &- lastFrame >= interval {
                let start = now()
                let theme = options.themes[min(max(view.themeIndex, 0), options.themes.count - 1)]
                let history = view.isScrubbing ? engine.snapshotHistory : []
                if readOnly {
                    let timeline = DashboardInput.scrubbable(history, live: live)
                    let shown = view.scrubIndex(in: timeline).map { timeline[$0] } ?? live
                    if let step = shown?.previewStep, step >= 0 { engine.showing(step: step) }
                }
                let canvas = Dashboard.render(live, view: view,
                                              history: history,
                                              size: terminal.size, theme: theme,
                                              colors: terminal.depth, runs: engine.comparedRuns)
                terminal.blit(canvas)
                let end = now()
                frames += 1
                frameNanos += end - start
                lastFrame = end
                dirty = false
                viewChanged = false
            }
        }
        terminal.restore()
        if !forced { engine.waitUntilFinished() }
        return DashboardResult(snapshot: engine.latestSnapshot ?? live, interrupted: interrupted, forced: forced,
                               frames: frames,
                               meanFrameMilliseconds: frames > 0 ? Double(frameNanos) / Double(frames) / 1e6 : 0,
                               colorDepth: terminal.depth)
    }

    /// One line on how the run ended: `aggan: nuclei stopped at step 1284/2000 (epoch 13,
    /// stage 2) · last checkpoint step 1284 · g_total 1.23`.
    public static func summary(_ result: DashboardResult, runDirectory: String? = nil) -> String {
        guard let s = result.snapshot else { return "aggan: the run ended before its first step" }
        let word: String
        switch s.state {
        case .finished: word = "finished"
        case .failed: word = "FAILED"
        case .stopped: word = result.interrupted ? "interrupted and stopped" : "stopped"
        default: word = result.forced ? "left running (forced quit)" : "left"
        }
        var line = "aggan: \(s.runName) \(word) at step \(s.step)/\(s.totalSteps)"
            + " (epoch \(min(s.epoch + 1, s.config.epochs))/\(s.config.epochs), stage \(s.stage))"
        line += " · " + (s.lastCheckpointStep.map { "last checkpoint step \($0)" } ?? "no checkpoint")
        if let g = s.losses?.gTotal { line += " · g_total " + Format.value(Double(g)) }
        if let dir = runDirectory { line += " · " + dir }
        if s.state == .failed, let m = s.message { line += ": " + m }
        return line
    }
}
