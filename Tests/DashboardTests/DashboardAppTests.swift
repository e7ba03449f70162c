import AGGAN
import Imaging
import Tensor
@testable import Dashboard
import Foundation
import TerminalKit
import TestSupport
import TrainingEngine
import XCTest

/// An engine that answers commands at once with a synthetic snapshot in the new state
/// (as the real one does between iterations) and records what it was sent.
final class FakeEngine: DashboardEngine, @unchecked Sendable {
    let observers = ObserverRegistry()
    private let state = LockedBox<(snapshot: TrainingSnapshot?, commands: [EngineCommand], started: Int, waited: Int)>(
        (nil, [], 0, 0))

    init(_ snapshot: TrainingSnapshot?) { state.withLock { $0.snapshot = snapshot } }

    var commands: [EngineCommand] { state.current.commands }
    var starts: Int { state.current.started }
    var waits: Int { state.current.waited }
    var latestSnapshot: TrainingSnapshot? { state.current.snapshot }
    var snapshotHistory: [TrainingSnapshot] { [] }

    func send(_ command: EngineCommand) {
        let step = latestSnapshot?.step ?? 0
        let next: RunState?
        switch command {
        case .pause: next = .paused
        case .resume, .start: next = .running
        case .stop: next = .stopped
        default: next = nil
        }
        state.withLock { $0.commands.append(command) }
        if let next { publish(SyntheticSnapshot.make(step: step, state: next, sequence: commands.count + 1)) }
    }

    func start(paused: Bool) {
        state.withLock { $0.started += 1 }
        publish(SyntheticSnapshot.make(step: 1, state: paused ? .paused : .running, extraCheckpoint: nil, sequence: 1))
    }

    func waitUntilFinished() { state.withLock { $0.waited += 1 } }

    /// Publishes and waits until the dashboard's observer has taken it in.
    func publish(_ s: TrainingSnapshot) {
        state.withLock { $0.snapshot = s }
        observers.publish(s)
        observers.flush()
    }
}

/// A terminal that plays a script: each call of `readEvents` runs the next step (which
/// may also change the size or deliver a signal) and returns its events. When the script
/// is over it reports a hang-up, so a test that forgets to end the loop still ends.
final class FakeTerminal: Terminal {
    let depth: ColorDepth = .ansi256
    var size = Size(width: 100, height: 30)
    private var script: [() -> [TerminalEvent]]
    private(set) var frames: [Canvas] = []
    private(set) var restored = 0

    init(_ script: [() -> [TerminalEvent]]) { self.script = script }

    func wait(timeoutMilliseconds: Int32, wakeFD: Int32) -> TerminalWait {
        script.isEmpty ? .hangUp : .ready
    }

    func readEvents() -> [TerminalEvent] { script.isEmpty ? [] : script.removeFirst()() }
    func blit(_ canvas: Canvas) { frames.append(canvas) }
    func restore() { restored += 1 }
}

final class DashboardAppTests: XCTestCase {
    private func key(_ c: Character) -> () -> [TerminalEvent] { { [.key(.character(c))] } }

    private func run(_ engine: FakeEngine, _ terminal: FakeTerminal,
                     signals: StopSignals? = nil, wake: WakePipe? = nil) throws -> DashboardResult {
        let wake = try wake ?? WakePipe()
        let options = DashboardOptions(themes: [.default], colorDepth: .ansi256, frameInterval: 0, snapshotInterval: 0)
        return DashboardApp.loop(engine: engine, terminal: terminal, options: options, wake: wake,
                                 signals: signals ?? StopSignals(listening: false) { _ in wake.signal() })
    }

    func testStartsAnIdleEngineAndDrawsItsSnapshot() throws {
        let engine = FakeEngine(nil)
        let terminal = FakeTerminal([{ [] }, { [] }])
        _ = try run(engine, terminal)
        XCTAssertEqual(engine.starts, 1)
        XCTAssertTrue(terminal.frames.last?.lines().joined().contains("RUNNING") ?? false, "the live snapshot is drawn")
    }

    func testPauseThenStepSendsTheCommandsInOrder() throws {
        let engine = FakeEngine(SyntheticSnapshot.make(step: 10, state: .running))
        let terminal = FakeTerminal([key(" "), key("n"), key("n"), { [] }])
        let result = try run(engine, terminal)
        XCTAssertEqual(Array(engine.commands.prefix(3)), [.pause, .step(1), .step(1)])
        XCTAssertTrue(terminal.frames.contains { $0.lines().joined().contains("PAUSED") }, "the paused state was drawn")
        XCTAssertTrue(result.interrupted, "the script ends with a hang-up")
        XCTAssertEqual(terminal.restored, 1)
    }

    func testQuitWithUnsavedStepsAsksAndSaves() throws {
        // Step 1284 with the last checkpoint at 1200: quitting asks first.
        let engine = FakeEngine(SyntheticSnapshot.make(step: 1284, state: .running))
        let terminal = FakeTerminal([key("q"), key("y"), { [] }])
        let result = try run(engine, terminal)
        XCTAssertEqual(engine.commands, [.stop(save: true)])
        XCTAssertFalse(result.interrupted)
        XCTAssertEqual(result.snapshot?.state, .stopped)
        XCTAssertEqual(engine.waits, 1, "waits for the engine to save and end")
        XCTAssertTrue(terminal.frames.contains { $0.lines().joined().contains("save") }, "the prompt was shown")
    }

    func testQuitPromptCanQuitWithoutSaving() throws {
        let engine = FakeEngine(SyntheticSnapshot.make(step: 1284, state: .running))
        let terminal = FakeTerminal([key("q"), key("n"), { [] }])
        _ = try run(engine, terminal)
        XCTAssertEqual(engine.commands, [.stop(save: false)])
    }

    func testQuitWithNothingUnsavedLeavesAtOnce() throws {
        let engine = FakeEngine(SyntheticSnapshot.make(step: 1500, state: .running, extraCheckpoint: nil))
        XCTAssertFalse(engine.latestSnapshot!.hasUnsavedSteps)
        let terminal = FakeTerminal([key("q"), { [] }])
        _ = try run(engine, terminal)
        XCTAssertEqual(engine.commands, [.stop(save: false)])
    }

    func testSIGTERMStopsWithASaveAndASecondOneForcesTheWayOut() throws {
        let wake = try WakePipe()
        let signals = StopSignals(listening: false) { _ in wake.signal() }
        let engine = FakeEngine(SyntheticSnapshot.make(step: 10, state: .running))
        let terminal = FakeTerminal([{ signals.deliver(); return [] }, { [] }])
        let result = try run(engine, terminal, signals: signals, wake: wake)
        XCTAssertEqual(engine.commands, [.stop(save: true)])
        XCTAssertTrue(result.interrupted)
        XCTAssertFalse(result.forced)
        XCTAssertEqual(result.snapshot?.state, .stopped)

        let stubborn = FakeEngine(SyntheticSnapshot.make(step: 10, state: .running))
        let wake2 = try WakePipe()
        let signals2 = StopSignals(listening: false) { _ in wake2.signal() }
        signals2.deliver()
        signals2.deliver()
        let forced = try run(stubborn, FakeTerminal([{ [] }, { [] }]), signals: signals2, wake: wake2)
        XCTAssertTrue(forced.forced)
        XCTAssertEqual(stubborn.waits, 0, "a forced quit does not wait for the engine")
    }

    func testResizeRedrawsAtTheNewSize() throws {
        let engine = FakeEngine(SyntheticSnapshot.make(step: 10, state: .running))
        var terminal: FakeTerminal!
        terminal = FakeTerminal([{ [] }, { terminal.size = Size(width: 60, height: 20); return [.resize] }, { [] }])
        _ = try run(engine, terminal)
        XCTAssertEqual(terminal.frames.first.map { Size(width: $0.width, height: $0.height) }, Size(width: 100, height: 30))
        XCTAssertEqual(terminal.frames.last.map { Size(width: $0.width, height: $0.height) }, Size(width: 60, height: 20))
    }

    func testSnapshotBurstsAreCoalescedToTheFrameRate() throws {
        let engine = FakeEngine(SyntheticSnapshot.make(step: 10, state: .running))
        let options = DashboardOptions(themes: [.default], colorDepth: .ansi256, frameInterval: 0, snapshotInterval: 3600)
        let wake = try WakePipe()
        // The first frame, then 50 snapshots: the next frame for them is not due within the hour.
        let terminal = FakeTerminal([{ [] }, {
            for i in 0..<50 { engine.publish(SyntheticSnapshot.make(step: 11 + i, state: .running, sequence: 10 + i)) }
            return []
        }, { [] }])
        _ = DashboardApp.loop(engine: engine, terminal: terminal, options: options, wake: wake,
                              signals: StopSignals(listening: false) { _ in wake.signal() })
        XCTAssertEqual(terminal.frames.count, 1)
        XCTAssertTrue(terminal.frames[0].lines().joined().contains("step 10"), "the frame before the burst")
    }

    /// `aggan view`: a finished run stays on screen, ← scrubs to its first preview, q leaves
    /// at once, and the folder is left as it was.
    func testViewingARunIsReadOnlyAndScrubs() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aggan-view-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = RunDirectory(folder.path)
        do {
            let lock = try run.open()
            try run.writeConfig(SyntheticSnapshot.config)
            let recorder = PreviewRecorder(run, every: 20)
            for step in [20, 40] { recorder.didPublish(SyntheticSnapshot.make(step: step, samples: 1, imageSize: 8)) }
            MetricsRecorder(run).didPublish(SyntheticSnapshot.make(step: 40, samples: 1, imageSize: 8))
            withExtendedLifetime(lock) {}
        }
        func listing() throws -> [String: Int] {
            var out: [String: Int] = [:]
            for sub in ["", "/previews", "/checkpoints"] {
                for name in try FileManager.default.contentsOfDirectory(atPath: run.path + sub) {
                    out[sub + "/" + name] = try FileManager.default.attributesOfItem(atPath: run.path + sub + "/" + name)[.size] as? Int
                }
            }
            return out
        }
        let before = try listing()
        let viewer = try RunViewer([run])
        let terminal = FakeTerminal([{ [] }, { [.key(.left)] }, { [] }, key("t"), key("q"), { [] }])
        let wake = try WakePipe()
        let options = DashboardOptions(themes: [.default], colorDepth: .ansi256, frameInterval: 0, snapshotInterval: 0)
        let result = DashboardApp.loop(engine: viewer, terminal: terminal, options: options, wake: wake,
                                       signals: StopSignals(listening: false) { _ in wake.signal() })
        XCTAssertFalse(result.interrupted, "q ended it, not the end of the script")
        let texts = terminal.frames.map { $0.lines().joined(separator: "\n") }
        XCTAssertTrue(texts.first?.contains("VIEW") ?? false)
        XCTAssertTrue(texts.contains { $0.contains("HISTORY step 20") }, "scrubbed to the first preview")
        XCTAssertTrue(texts.last?.contains("preview  step 20") ?? false)
        XCTAssertFalse(texts.contains { $0.contains("save before quitting") })
        XCTAssertEqual(try listing(), before, "nothing written")
    }

    /// The previews of any checkpoint are recomputed from it (on the sample images of the
    /// newest strip) when the dashboard is about to show them; a step with a checkpoint and
    /// no strip is in the timeline too.
    func testAViewedRunRecomputesPreviewsFromItsCheckpoints() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aggan-ckpt-view-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = RunDirectory(folder.path)
        var config = engineConfig()
        do {
            let lock = try run.open()
            try run.writeConfig(config)
            for (step, seed) in [(2, UInt64(5)), (4, UInt64(9))] {
                config.seed = seed
                try Checkpoint.save(try Trainer(config: config), to: run.checkpointPath(step: step))
            }
            PreviewRecorder(run, every: 4).didPublish(SyntheticSnapshot.make(step: 4, samples: 1, imageSize: 32, previewStep: 4))
            withExtendedLifetime(lock) {}
        }
        let viewer = try RunViewer([run])
        XCTAssertEqual(viewer.snapshotHistory.map(\.previewStep), [2, 4])
        XCTAssertTrue(viewer.snapshotHistory[0].previews.isEmpty, "no strip at step 2: nothing until computed")
        XCTAssertEqual(viewer.snapshotHistory[0].message, "computing the previews of checkpoint step 2…")
        viewer.showing(step: 2)
        viewer.showing(step: 4)
        viewer.waitForPreviews()
        let history = viewer.snapshotHistory
        let at2 = try XCTUnwrap(history[0].previews.first), at4 = try XCTUnwrap(history[1].previews.first)
        // Against the networks of the step-2 checkpoint run here on the strip's input.
        let model = try Checkpoint.loadModel(run.checkpointPath(step: 2)).model
        let input = at4.ab.input
        let expected = try Tensor.withoutGrad {
            try DirectionPreview.compute(model: model, image: try Image(width: input.width, height: input.height,
                                                                      channels: input.channels, pixels: input.pixels),
                                         direction: .st, channels: 1, mode: .soft, tau: config.tau)
        }
        // To rounding: the viewer computes on its own queue, whose OpenMP thread count need
        // not be this thread's, and the count changes the rounding on some CPUs (AVX2).
        XCTAssertEqual(at2.ab.input, expected.input)
        for (name, got, want) in [("attention", at2.ab.attention, expected.attention), ("generated", at2.ab.generated, expected.generated),
                                  ("composite", at2.ab.composite, expected.composite)] {
            XCTAssertEqual(got.pixels.count, want.pixels.count, name)
            XCTAssertLessThan(zip(got.pixels, want.pixels).map { abs($0 - $1) }.max() ?? 1, 1e-4, name)
        }
        XCTAssertEqual(at2.ab.backgroundDrift, expected.backgroundDrift, accuracy: 1e-3)
        XCTAssertEqual(at2.ab.input, at4.ab.input, "the same sample images")
        XCTAssertNotEqual(at2.ab.generated, at4.ab.generated, "each checkpoint's own networks")
        XCTAssertNotEqual(history[0].message, "computing the previews of checkpoint step 2…")
    }

    /// A run that is still training is read again when its files grow.
    func testAViewedRunFollowsItsFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aggan-follow-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = RunDirectory(folder.path)
        let lock = try run.open()  // another process "trains" here: the viewer must not need the lock
        defer { withExtendedLifetime(lock) {} }
        try run.writeConfig(SyntheticSnapshot.config)
        let previews = PreviewRecorder(run, every: 20), metrics = MetricsRecorder(run)
        previews.didPublish(SyntheticSnapshot.make(step: 20, samples: 1, imageSize: 8))
        metrics.didPublish(SyntheticSnapshot.make(step: 20, samples: 1, imageSize: 8))
        let viewer = try RunViewer([run])
        XCTAssertEqual(viewer.latestSnapshot?.step, 20)
        viewer.refresh()
        XCTAssertEqual(viewer.snapshotHistory.count, 1, "nothing changed, nothing re-read")
        let grown = SyntheticSnapshot.make(step: 45, samples: 1, imageSize: 8, previewStep: 40)
        previews.didPublish(grown)
        metrics.didPublish(grown)
        viewer.refresh()
        XCTAssertEqual(viewer.latestSnapshot?.step, 45)
        XCTAssertEqual(viewer.snapshotHistory.map(\.previewStep), [20, 40])
        XCTAssertTrue(viewer.comparedRuns.isEmpty, "one run: its own loss terms")
    }
}

/// The real ncurses backend (drawing into a file) behind a scripted key source.
final class ScriptedNCursesTerminal: Terminal {
    let inner: NCursesTerminal
    private var script: [() -> [TerminalEvent]]

    init(_ inner: NCursesTerminal, _ script: [() -> [TerminalEvent]]) {
        self.inner = inner
        self.script = script
    }

    var depth: ColorDepth { inner.depth }
    var size: Size { inner.size }
    func wait(timeoutMilliseconds: Int32, wakeFD: Int32) -> TerminalWait { script.isEmpty ? .hangUp : .ready }
    func readEvents() -> [TerminalEvent] { script.isEmpty ? [] : script.removeFirst()() }
    func blit(_ canvas: Canvas) { inner.blit(canvas) }
    func restore() { inner.restore() }
}

final class DashboardGraphicsTests: XCTestCase {
    /// The previews are kitty images with fixed ids; quitting deletes every one that was
    /// placed, after the last placement and before the screen is left.
    func testQuittingDeletesTheKittyImages() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("aggan-kitty-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let ncurses = try NCursesTerminal(depth: .truecolor, environment: ["TERM": "xterm-256color", "KITTY_WINDOW_ID": "1"],
                                          benchmarkOutput: path,
                                          benchmarkSize: Size(width: 120, height: 34), graphics: .auto)
        XCTAssertEqual(ncurses.graphics, .kitty)
        let engine = FakeEngine(SyntheticSnapshot.make(step: 1500, state: .running, extraCheckpoint: nil))
        let terminal = ScriptedNCursesTerminal(ncurses, [{ [] }, { [.key(.character("q"))] }, { [] }])
        let wake = try WakePipe()
        let options = DashboardOptions(themes: [.default], colorDepth: .truecolor, frameInterval: 0, snapshotInterval: 0)
        _ = DashboardApp.loop(engine: engine, terminal: terminal, options: options, wake: wake,
                              signals: StopSignals(listening: false) { _ in wake.signal() })
        XCTAssertEqual(engine.commands, [.stop(save: false)], "q left at once")

        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        let placed = Set((0..<KittyGraphics.maxImages).map { KittyGraphics.firstID + UInt32($0) }.filter {
            text.contains("a=T,f=24,") && text.contains(",i=\($0),c=")
        })
        XCTAssertEqual(placed.count, 4, "the four preview images were placed")
        guard let lastPlacement = text.range(of: "\u{1B}_Ga=T", options: .backwards) else { return XCTFail("no image") }
        let after = text[lastPlacement.upperBound...]
        for id in placed {
            XCTAssertTrue(after.contains("\u{1B}_Ga=d,d=I,i=\(id),q=2\u{1B}\\"), "image \(id) deleted after the last placement")
        }
        // The deletes come before ncurses leaves the screen (endwin's reset of the modes).
        if let firstDelete = after.range(of: "a=d,d=I") {
            XCTAssertFalse(after[firstDelete.upperBound...].contains("a=T"), "nothing is placed after the deletes")
        }
    }
}
