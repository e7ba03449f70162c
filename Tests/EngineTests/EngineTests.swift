import Basics
import AGGAN
import Foundation
import Imaging
import Tensor
@testable import TrainingEngine
import TestSupport
import XCTest

/// Collects what it receives; can be made to block inside `didPublish`.
final class Recorder: TrainingObserver, @unchecked Sendable {
    let received = LockedBox<[TrainingSnapshot]>([])
    let gate = LockedBox<DispatchSemaphore?>(nil)
    func didPublish(_ snapshot: TrainingSnapshot) {
        if let g = gate.current { g.wait(); g.signal() }
        received.withLock { $0.append(snapshot) }
    }
}

final class EngineTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("aggan-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func makeEngine(runDir: Bool = false, maxSteps: Int? = nil, collapsePatience: Int = 100, checkpointEvery: Int = 0,
                    pauseOnFault: Bool = false, weightHistogramEvery: Int = 0, threads: Int = 2, adaptiveThreads: Bool = false) throws -> Engine {
        let data = try TrainingData(folders: makeDataset(in: dir.appendingPathComponent("data")), channels: 1, cropSize: 32, seed: 5)
        var o = EngineOptions()
        o.previewEvery = 3
        o.maxSteps = maxSteps
        o.snapshotHistory = 4
        o.checkpointEvery = checkpointEvery
        o.pauseOnFault = pauseOnFault
        o.collapsePatience = collapsePatience
        o.weightHistogramEvery = weightHistogramEvery
        o.threads = threads
        o.adaptiveThreads = adaptiveThreads
        if runDir { o.runDirectory = RunDirectory(dir.appendingPathComponent("run").path) }
        return try Engine(config: engineConfig(), data: data, options: o)
    }

    func testStepWhilePausedRunsExactlyN() throws {
        let engine = try makeEngine()
        engine.send(.pause)
        engine.send(.step(3))
        for _ in 0..<10 { engine.pump() }
        XCTAssertEqual(engine.trainer.step, 3)
        XCTAssertEqual(engine.latestSnapshot?.state, .paused)
        engine.send(.step(1))
        for _ in 0..<5 { engine.pump() }
        XCTAssertEqual(engine.trainer.step, 4)
        // Every paused step recomputes the previews.
        XCTAssertEqual(engine.latestSnapshot?.previewStep, 4)
    }

    /// Every 2 steps the snapshot carries a histogram of each network's weights, which the
    /// TensorBoard recorder writes once per histogram step.
    func testWeightHistogramsReachTheEventsFile() throws {
        let engine = try makeEngine(weightHistogramEvery: 2)
        let run = RunDirectory(dir.appendingPathComponent("tb-run").path)
        let recorder = TensorBoardRecorder(run, imageEvery: 100)
        engine.send(.step(5))
        var seen: [Int?] = []
        for _ in 0..<5 {
            engine.pump()
            let s = try XCTUnwrap(engine.latestSnapshot)
            seen.append(s.weightHistograms?.step)
            recorder.didPublish(s)
        }
        XCTAssertEqual(seen, [nil, 2, 2, 4, 4])
        let h = try XCTUnwrap(engine.latestSnapshot?.weightHistograms)
        XCTAssertEqual(h.networks.map(\.name), engine.trainer.model.networks.map(\.0))
        for ((_, net), (_, hist)) in zip(engine.trainer.model.networks, h.networks) {
            XCTAssertEqual(Int(hist.count), net.parameters.map(\.data.count).reduce(0, +))
            XCTAssertEqual(hist.buckets.reduce(0, +), hist.count)
        }
        XCTAssertNil(recorder.error)
        let events = try EventFileWriter.read(try XCTUnwrap(TensorBoardRecorder.eventFiles(run).first))
        XCTAssertEqual(events.filter { $0.values.contains { $0.tag == "weights/gen_st" } }.map(\.step), [2, 4])
        XCTAssertEqual(events.filter { $0.values.contains { $0.tag == "loss/g_total" } }.map(\.step), [1, 2, 3, 4, 5])
    }

    func testCollapsedAttentionRaisesTheAlarmAndLogsItsStatistics() throws {
        let engine = try makeEngine(collapsePatience: 3)
        // A last bias of -30 holds the attention at sigmoid(-30): all-black, for good.
        for (name, p) in engine.trainer.model.attentionParameters where name.contains(".out.") && name.hasSuffix("bias") {
            p.data = [Float](repeating: -30, count: p.count)
        }
        engine.send(.start)
        engine.pump(); engine.pump()
        XCTAssertNil(engine.latestSnapshot?.attentionAlarm, "two steps are within the patience")
        engine.pump()
        let s = try XCTUnwrap(engine.latestSnapshot)
        XCTAssertEqual(s.attentionAlarm, "attention collapsed: A_S all-black since step 1, A_T all-black since step 1")
        XCTAssertEqual(s.message, s.attentionAlarm)
        let point = try XCTUnwrap(s.history.last?.attention)
        XCTAssertLessThan(point.s.mean, 1e-6)
        XCTAssertEqual(point.t.aboveTau, 0)
        // Every step also logs the discriminators' mean outputs, finite.
        let d = try XCTUnwrap(s.history.last?.discriminator)
        for v in [d.realS, d.fakeS, d.realT, d.fakeT] { XCTAssertTrue(v.isFinite) }
    }

    func testMetricsKeepTheAttentionStatisticsAcrossAResume() throws {
        let run = RunDirectory(dir.appendingPathComponent("stats").path)
        let lock = try run.open()
        defer { withExtendedLifetime(lock) {} }
        let line = #"{"step":1,"epoch":1,"stage":1,"lr":0.0002,"adv_st":1,"adv_ts":1,"cyc_s":0.5,"cyc_t":0.5,"g_total":12,"d_s":0.3,"d_t":0.3,"att_s_mean":0.25,"att_s_above":0.2,"att_s_spread":0.4,"att_t_mean":0.5,"att_t_above":0.5,"att_t_spread":0.5,"d_s_real":0.7,"d_s_fake":0.25,"d_t_real":0.6,"d_t_fake":0.125}"#
        let old = #"{"step":2,"adv_st":1,"adv_ts":1,"cyc_s":0.5,"cyc_t":0.5,"g_total":12,"d_s":null,"d_t":0.3}"#
        try (line + "\n" + old + "\n").write(toFile: run.metricsFile, atomically: true, encoding: .utf8)
        let history = try MetricsRecorder.truncate(run, after: 2)
        XCTAssertEqual(history.count, 2)
        XCTAssertEqual(history.points[0].attention, AttentionPair(s: AttentionStats(mean: 0.25, aboveTau: 0.2, spread: 0.4),
                                                                  t: AttentionStats(mean: 0.5, aboveTau: 0.5, spread: 0.5)))
        XCTAssertNil(history.points[1].attention, "a line from before the statistics has none")
        XCTAssertEqual(history.points[0].discriminator, DiscriminatorOutputs(realS: 0.7, fakeS: 0.25, realT: 0.6, fakeT: 0.125))
        XCTAssertNil(history.points[1].discriminator)
        XCTAssertTrue(history.points[1].losses.dS.isNaN, "null reads as NaN")
        XCTAssertEqual(history.points[1].losses.gTotal, 12)
    }

    func testASecondWriterOfARunFolderIsRefused() throws {
        let first = try makeEngine(runDir: true)
        XCTAssertThrowsError(try makeEngine(runDir: true)) { error in
            XCTAssertTrue("\(error)".hasSuffix("is in use by another aggan process (pid \(getpid()), it holds run.lock)"), "\(error)")
        }
        // A temporary file of the first writer survives the refused second one.
        let temp = dir.appendingPathComponent("run/checkpoints/.step-0000001.safetensors.1.2.tmp").path
        FileManager.default.createFile(atPath: temp, contents: Data([1]))
        XCTAssertThrowsError(try makeEngine(runDir: true))
        XCTAssertTrue(FileManager.default.fileExists(atPath: temp))
        withExtendedLifetime(first) {}
    }

    func testTheLockIsReleasedWithTheEngine() throws {
        do { _ = try makeEngine(runDir: true) }
        XCTAssertNoThrow(try makeEngine(runDir: true))
    }

    func testARunWhoseFinalCheckpointFailsEndsAsFailed() throws {
        let engine = try makeEngine(runDir: true, maxSteps: 2)
        // Make the checkpoints folder unwritable even for root: a file in its place.
        let checkpoints = dir.appendingPathComponent("run/checkpoints").path
        try FileManager.default.removeItem(atPath: checkpoints)
        FileManager.default.createFile(atPath: checkpoints, contents: Data())
        engine.send(.start)
        while engine.pump() {}
        let s = try XCTUnwrap(engine.latestSnapshot)
        XCTAssertEqual(s.state, .failed)
        XCTAssertEqual(s.step, 2)
        XCTAssertTrue(s.message?.hasPrefix("the final checkpoint was not written (no checkpoint was written):") ?? false,
                      s.message ?? "no message")

        // The same for a stop that asks to save.
        let stopped = try makeEngine(runDir: false)
        stopped.send(.stop(save: true))
        XCTAssertFalse(stopped.pump())
        XCTAssertEqual(stopped.latestSnapshot?.state, .stopped, "without a run folder there is nothing to save")
    }

    /// Makes the next step's adversarial loss infinite with finite weights: D_T's last bias
    /// at 1e20 gives scores of 1e20, whose square overflows.
    func poisonDiscriminator(_ engine: Engine) throws {
        let (name, bias) = try XCTUnwrap(engine.trainer.model.discriminatorParameters.last { $0.name.hasPrefix("disc_t") && $0.name.hasSuffix("bias") })
        XCTAssertEqual(name.split(separator: ".").last, "bias")
        bias.data = [Float](repeating: 1e20, count: bias.count)
    }

    /// Everything a step could change, to compare before and after a refused step.
    func trainingState(_ t: Trainer) -> [[Float]] {
        t.model.namedParameters.map(\.tensor.data) + t.optG.m + t.optG.v + t.optD.m + t.optD.v
            + [t.optG.steps.map(Float.init) + t.optD.steps.map(Float.init)]
    }

    func testANonFiniteLossFailsAHeadlessRunWithoutTouchingWeightsOrCheckpoints() throws {
        let engine = try makeEngine(runDir: true, checkpointEvery: 1)
        let run = try XCTUnwrap(engine.options.runDirectory)
        engine.send(.step(2))
        engine.pump(); engine.pump()
        XCTAssertEqual(run.checkpoints().map(\.step), [1, 2])
        let good = try Data(contentsOf: URL(fileURLWithPath: run.checkpointPath(step: 2)))
        try poisonDiscriminator(engine)
        let before = trainingState(engine.trainer)

        engine.send(.start)
        XCTAssertFalse(engine.pump(), "a non-finite step ends a run that does not pause on faults")
        let s = try XCTUnwrap(engine.latestSnapshot)
        XCTAssertEqual(s.state, .failed)
        XCTAssertEqual(s.step, 2)
        XCTAssertEqual(s.fault, "non-finite loss at step 3: adv_st = inf; the update was not applied and nothing is saved after it (the last good checkpoint is step 2)")
        XCTAssertEqual(s.message, s.fault)
        XCTAssertFalse(s.message?.contains("\n") ?? true, "one line")
        XCTAssertEqual(engine.trainer.step, 2)
        XCTAssertTrue(trainingState(engine.trainer) == before, "weights, moments or step counts changed")
        XCTAssertTrue(engine.trainer.model.namedParameters.allSatisfy { $0.tensor.grad == nil }, "gradients left behind")
        XCTAssertEqual(s.history.count, 2, "the refused step is not logged")

        // Asking to save or stop with a save writes nothing: the last good checkpoint stays.
        engine.send(.save)
        engine.send(.stop(save: true))
        XCTAssertFalse(engine.pump())
        XCTAssertEqual(engine.latestSnapshot?.state, .failed)
        XCTAssertEqual(run.checkpoints().map(\.step), [1, 2])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: run.checkpointPath(step: 2))), good)
        let files = try FileManager.default.contentsOfDirectory(atPath: run.checkpointsDir)
        XCTAssertEqual(files.sorted(), ["step-0000001.safetensors", "step-0000002.safetensors"])
    }

    func testANonFiniteLossPausesARunThatPausesOnFaults() throws {
        let engine = try makeEngine(runDir: true, checkpointEvery: 2, pauseOnFault: true)
        let run = try XCTUnwrap(engine.options.runDirectory)
        engine.send(.start)
        engine.pump(); engine.pump(); engine.pump()
        XCTAssertEqual(run.checkpoints().map(\.step), [2])
        try poisonDiscriminator(engine)
        let before = trainingState(engine.trainer)
        XCTAssertTrue(engine.pump(), "a paused engine lives on")
        let s = try XCTUnwrap(engine.latestSnapshot)
        XCTAssertEqual(s.state, .paused)
        XCTAssertEqual(s.step, 3)
        XCTAssertTrue(s.fault?.hasPrefix("non-finite loss at step 4: adv_st = inf;") ?? false, s.fault ?? "no fault")
        XCTAssertTrue(s.fault?.hasSuffix("(the last good checkpoint is step 2)") ?? false, s.fault ?? "no fault")

        // Nothing trains or saves any more; the view still follows tau.
        for c: EngineCommand in [.resume, .step(2), .start, .save, .setTau(0.7)] { engine.send(c) }
        for _ in 0..<4 { XCTAssertTrue(engine.pump()) }
        XCTAssertEqual(engine.trainer.step, 3)
        XCTAssertTrue(trainingState(engine.trainer) == before)
        XCTAssertEqual(engine.latestSnapshot?.tau, 0.7)
        XCTAssertEqual(engine.latestSnapshot?.state, .paused)
        XCTAssertEqual(run.checkpoints().map(\.step), [2])

        // Quitting (even with a save) ends it as failed, with the fault as its last word.
        engine.send(.stop(save: true))
        XCTAssertFalse(engine.pump())
        XCTAssertEqual(engine.latestSnapshot?.state, .failed)
        XCTAssertEqual(engine.latestSnapshot?.message, s.fault)
        XCTAssertEqual(run.checkpoints().map(\.step), [2])
    }

    /// A full disk (metrics.jsonl or loss_log.txt a link to /dev/full, whose writes fail
    /// with ENOSPC): reported once, retried, and once writes work again each file holds
    /// every step exactly once.
    func testAFullDiskForMetricsIsReportedOnceAndLosesNoLine() throws {
        for full in ["metrics.jsonl", "loss_log.txt"] {
            let run = RunDirectory(dir.appendingPathComponent("full-\(full)").path)
            let lock = try run.open()
            defer { withExtendedLifetime(lock) {} }
            let target = run.path + "/" + full
            try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: "/dev/full")
            let reports = LockedBox<[String]>([])
            let recorder = MetricsRecorder(run, onFailure: { m in reports.withLock { $0.append(m) } })
            for step in 1...3 { recorder.didPublish(SyntheticSnapshot.make(step: step)) }
            XCTAssertEqual(reports.current, ["cannot write metrics in '\(run.path)' (retrying every step): cannot write '\(target)': no space left on device"])
            XCTAssertEqual(recorder.error, reports.current.first)

            try FileManager.default.removeItem(atPath: target)
            recorder.didPublish(SyntheticSnapshot.make(step: 5))
            XCTAssertNil(recorder.error)
            let steps = try String(contentsOfFile: run.metricsFile, encoding: .utf8).split(separator: "\n")
                .map { try JSONDecoder().decode(MetricsLine.self, from: Data($0.utf8)).step }
            XCTAssertEqual(steps, [1, 2, 3, 4, 5], "after a full \(full)")
            let log = try String(contentsOfFile: run.lossLogFile, encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(log.map { $0.contains("step: ") ? String($0.split(separator: ")")[0].split(separator: " ").last!) : "" },
                           ["1", "2", "3", "4", "5"], "after a full \(full)")
            XCTAssertEqual(reports.current.count, 1)
        }
    }

    /// Checkpoints that cannot be written (the folder gone, a file in its place): reported
    /// once while training goes on, the earlier checkpoint untouched, and the next one
    /// after the folder is back says so.
    func testFailingCheckpointsAreReportedOnceAndTrainingGoesOn() throws {
        let engine = try makeEngine(runDir: true, checkpointEvery: 1)
        let run = try XCTUnwrap(engine.options.runDirectory)
        let seen = Recorder()
        engine.observers.add(seen)
        engine.send(.start)
        engine.pump()
        let good = try Data(contentsOf: URL(fileURLWithPath: run.checkpointPath(step: 1)))
        let aside = run.path + "/aside"
        try FileManager.default.moveItem(atPath: run.checkpointsDir, toPath: aside)
        FileManager.default.createFile(atPath: run.checkpointsDir, contents: Data())
        for _ in 0..<3 { XCTAssertTrue(engine.pump()) }
        engine.observers.flush()
        XCTAssertEqual(engine.latestSnapshot?.state, .running)
        XCTAssertEqual(engine.trainer.step, 4)
        let failures = Set(seen.received.current.compactMap(\.message).filter { $0.hasPrefix("checkpoint failed") })
        XCTAssertEqual(failures, ["checkpoint failed: cannot write '\(run.checkpointPath(step: 2))': not a directory (training goes on; the last good checkpoint is step 1)"])

        try FileManager.default.removeItem(atPath: run.checkpointsDir)
        try FileManager.default.moveItem(atPath: aside, toPath: run.checkpointsDir)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: run.checkpointPath(step: 1))), good)
        engine.pump()
        XCTAssertEqual(engine.latestSnapshot?.message, "saved checkpoint step-0000005.safetensors (checkpoints had failed since step 2)")
        XCTAssertEqual(run.checkpoints().map(\.step), [1, 5])
    }

    func testStepDoesNotReviveAnEndedEngine() throws {
        let engine = try makeEngine()
        engine.send(.pause)
        engine.pump()
        engine.send(.stop(save: false))
        XCTAssertFalse(engine.pump())
        engine.send(.step(2))
        XCTAssertFalse(engine.pump(), "a stopped engine stays stopped")
        XCTAssertEqual(engine.latestSnapshot?.state, .stopped)
        XCTAssertEqual(engine.trainer.step, 0)

        let finished = try makeEngine(maxSteps: 1)
        finished.send(.start)
        while finished.pump() {}
        XCTAssertEqual(finished.latestSnapshot?.state, .finished)
        finished.send(.step(1))
        XCTAssertFalse(finished.pump())
        XCTAssertEqual(finished.latestSnapshot?.state, .finished)
        XCTAssertEqual(finished.trainer.step, 1)
    }

    func testCommandsApplyInOrder() throws {
        let engine = try makeEngine()
        engine.send(.setTau(0.3))
        engine.send(.setTau(0.05))
        engine.send(.setMode(.binary))
        engine.send(.start)
        engine.send(.pause)
        engine.pump()
        // start then pause in one batch: no iteration ran, the last tau and mode won.
        XCTAssertEqual(engine.trainer.step, 0)
        let s = try XCTUnwrap(engine.latestSnapshot)
        XCTAssertEqual(s.state, .paused)
        XCTAssertEqual(s.tau, 0.05)
        XCTAssertEqual(s.mode, .binary)
        engine.send(.resume)
        engine.pump(); engine.pump()
        XCTAssertEqual(engine.trainer.step, 2)
        engine.send(.stop(save: false))
        XCTAssertFalse(engine.pump())
        XCTAssertEqual(engine.latestSnapshot?.state, .stopped)
        XCTAssertEqual(engine.trainer.step, 2)
    }

    func testTauChangeReachesTheNextSnapshotAndItsPreviews() throws {
        let engine = try makeEngine()
        engine.send(.step(1))
        engine.pump()
        let before = try XCTUnwrap(engine.latestSnapshot)
        engine.send(.setTau(0.9))
        engine.pump()
        let after = try XCTUnwrap(engine.latestSnapshot)
        XCTAssertEqual(after.tau, 0.9)
        XCTAssertGreaterThan(after.sequence, before.sequence)
        // Attention of a fresh model is about 0.5 everywhere: nothing is above 0.9.
        XCTAssertEqual(after.previews.first?.ab.fractionAboveTau, 0)
        XCTAssertNotEqual(before.previews.first?.ab.fractionAboveTau, 0)
        engine.send(.setMode(.binary))
        engine.pump()
        let binary = try XCTUnwrap(engine.latestSnapshot?.previews.first?.ab)
        // A binary mask of zeros keeps the input exactly.
        XCTAssertEqual(binary.composite, binary.input)
        XCTAssertEqual(binary.backgroundDrift, 0)
    }

    func testSnapshotHistoryIsBounded() throws {
        let engine = try makeEngine()
        engine.send(.start)
        for _ in 0..<20 { engine.pump() }
        let history = engine.snapshotHistory
        XCTAssertEqual(history.count, 4)
        // Previews every 3 steps, and at step 20, the end of the 5 x 4-step schedule.
        XCTAssertEqual(history.map(\.previewStep), [12, 15, 18, 20])
        XCTAssertEqual(engine.latestSnapshot?.state, .finished)
        XCTAssertEqual(engine.latestSnapshot?.history.count, 20)
    }

    /// A blocked observer neither stops training nor queues snapshots without bound, and
    /// gets the latest snapshot when it unblocks.
    func testBlockedObserverDoesNotStopTraining() throws {
        let engine = try makeEngine(maxSteps: 12)
        let slow = Recorder(), fast = Recorder()
        let gate = DispatchSemaphore(value: 0)
        slow.gate.withLock { $0 = gate }
        engine.observers.add(slow)
        engine.observers.add(fast)
        engine.start()
        // Wait for the run to finish while the slow observer is still blocked.
        let deadline = Date().addingTimeInterval(120)
        while engine.latestSnapshot?.state != .finished && Date() < deadline { usleep(10_000) }
        XCTAssertEqual(engine.latestSnapshot?.state, .finished)
        XCTAssertEqual(engine.trainer.step, 12)
        XCTAssertTrue(slow.received.current.isEmpty)
        gate.signal()
        engine.waitUntilFinished()
        let got = slow.received.current
        // The snapshot it was blocked in, and the latest; one more when the gate opened
        // between the engine's last two publications (seen under ThreadSanitizer): no backlog.
        XCTAssertLessThanOrEqual(got.count, 3, "the blocked observer got a backlog: \(got.map(\.sequence))")
        XCTAssertEqual(got.last?.sequence, engine.latestSnapshot?.sequence)
        XCTAssertEqual(fast.received.current.last?.state, .finished)
    }

    func testObserversAddedAndRemovedConcurrently() throws {
        let registry = ObserverRegistry()
        let engine = try makeEngine()
        engine.send(.step(1)); engine.pump()
        let snapshot = try XCTUnwrap(engine.latestSnapshot)
        let observers = (0..<64).map { _ in Recorder() }
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            registry.add(observers[i])
            registry.publish(snapshot)
            if i % 2 == 0 { registry.remove(observers[i]) }
        }
        XCTAssertEqual(registry.count, 32)
        registry.publish(snapshot)
        registry.flush()
        for (i, o) in observers.enumerated() where i % 2 == 1 {
            XCTAssertFalse(o.received.current.isEmpty, "observer \(i) got nothing")
        }
    }

    /// A run stopped and resumed from its run folder continues with the same losses as a
    /// run never stopped (same data order, augmentation, pool and optimiser state).
    /// `--threads auto` switches between 2 threads and 1 while it times the first steps
    /// (and later); the losses are those of a run at a fixed count up to rounding. Not to
    /// the bit: oneDNN's GEMMs and primitives may split a sum between threads, and which
    /// ones do depends on the CPU (on an AMD EPYC with AVX2 even at these 32 px crops,
    /// from the first step; with AVX-512 not below 64 px), so a run under `auto`
    /// continues the curve, not the bits (README, "Speed and memory").
    func testAutomaticThreadsChangeOnlyTheSpeed() throws {
        let saved = Compute.threads
        defer { Compute.setThreads(saved) }
        func losses(threads: Int, adaptive: Bool) throws -> [Float] {
            let engine = try makeEngine(threads: threads, adaptiveThreads: adaptive)
            Compute.setThreads(threads)
            engine.send(.start)
            var counts = Set<Int>()
            for _ in 0..<8 { engine.pump(); counts.insert(Compute.threads) }
            if adaptive && Compute.maximumThreads >= 2 { XCTAssertEqual(counts, [1, 2], "the tuner tried both counts") }
            return engine.latestSnapshot!.history.points.flatMap { [$0.losses.gTotal, $0.losses.dS, $0.losses.dT] }
        }
        let fixed = try losses(threads: 1, adaptive: false)
        XCTAssertEqual(fixed.count, 24)
        let automatic = try losses(threads: 2, adaptive: true)
        XCTAssertEqual(automatic.count, fixed.count)
        for (i, (a, f)) in zip(automatic, fixed).enumerated() {
            XCTAssertEqual(a, f, accuracy: 1e-3 * max(abs(f), 1e-3), "loss \(i % 3) of step \(i / 3 + 1)")
        }
    }

    func testResumeFromRunFolderIsExact() throws {
        let straight = try makeEngine()
        straight.send(.start)
        for _ in 0..<8 { straight.pump() }
        let expected = straight.latestSnapshot!.history.points

        // The first run, as a process that stops and exits (its engine, and the run
        // folder's lock, go away with it).
        let options: EngineOptions
        do {
            let first = try makeEngine(runDir: true)
            first.send(.start)
            for _ in 0..<5 { first.pump() }
            first.send(.stop(save: true))
            first.pump()
            let metrics = MetricsRecorder(first.options.runDirectory!)
            metrics.didPublish(first.latestSnapshot!)
            options = first.options
        }

        let data = try TrainingData(folders: DatasetFolders(cycleGANRoot: dir.appendingPathComponent("data").path), channels: 1, cropSize: 32, seed: 5)
        let resumed = try Engine(resuming: data, options: options)
        XCTAssertEqual(resumed.trainer.step, 5)
        resumed.send(.start)
        for _ in 0..<3 { resumed.pump() }
        let got = resumed.latestSnapshot!.history.points
        XCTAssertEqual(got.map(\.step), Array(1...8))
        XCTAssertEqual(got, expected)
    }
}

final class EngineEndTests: XCTestCase {
    func testMaxStepsZeroRunsNothing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aggan-end-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try TrainingData(folders: makeDataset(in: dir), channels: 1, cropSize: 32, seed: 5)
        var o = EngineOptions()
        o.maxSteps = 0
        let engine = try Engine(config: engineConfig(), data: data, options: o)
        engine.send(.start)
        XCTAssertFalse(engine.pump())
        XCTAssertEqual(engine.trainer.step, 0)
        XCTAssertEqual(engine.latestSnapshot?.state, .finished)
    }
}

final class LossHistoryTests: XCTestCase {
    func testPointsAfterAStepAcrossChunks() {
        // Three chunks and a bit; steps with gaps, as a resumed history may have none but
        // a recorder may ask for any step.
        let n = 3 * 1024 + 17
        let points = (0..<n).map { LossPoint(step: 2 * $0 + 1, losses: Losses()) }
        let history = LossHistory(points: points)
        for after in [-5, 0, 1, 2, 2047, 2048, 2049, 4095, 2 * n - 3, 2 * n - 1, 2 * n + 10] {
            XCTAssertEqual(history.points(after: after).map(\.step), points.filter { $0.step > after }.map(\.step),
                           "after \(after)")
        }
        XCTAssertEqual(LossHistory().points(after: 0), [])
    }
}

extension EngineTests {
    /// `--scale auto`: images whose cells are too large for the crop are resized so the
    /// cells come out at 3/8 of it; mid-sized cells, or images too small to shrink, keep
    /// scale 1; the note says what was measured and chosen.
    func testAutomaticScaleResizesLargeCells() throws {
        func dataset(_ name: String, side: Int, radius: Int) throws -> DatasetFolders {
            let root = dir.appendingPathComponent(name)
            for sub in ["trainA", "trainB"] {
                let d = root.appendingPathComponent(sub)
                try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
                for i in 0..<2 {
                    // Bright discs on a dark background, a few per image.
                    let centres = [(side / 4, side / 4), (3 * side / 4, 3 * side / 4), (side / 4 + i, 3 * side / 4)]
                    let px = (0..<(side * side)).map { k -> Float in
                        let x = k % side, y = k / side
                        return centres.contains { (x - $0.0) * (x - $0.0) + (y - $0.1) * (y - $0.1) <= radius * radius } ? 0.8 : 0.1
                    }
                    try Image(width: side, height: side, channels: 1, pixels: px).writePNG(to: d.appendingPathComponent("im\(i).png").path)
                }
            }
            return try DatasetFolders(cycleGANRoot: root.path)
        }
        // Discs 40 px across in 160 px images, 32 px crops: resized by about 12/40.
        let large = try TrainingData.load(folders: dataset("large", side: 160, radius: 20), channels: 1, cropSize: 32, seed: 1, scale: nil)
        XCTAssertEqual(large.scale, 0.3, accuracy: 0.05)
        XCTAssertEqual(large.imagesA[0].width, Int((160 * large.scale).rounded()))
        XCTAssertTrue(large.scaleNote?.contains("resized by") == true, large.scaleNote ?? "no note")
        XCTAssertEqual(try XCTUnwrap(large.cellDiameter), 12, accuracy: 2, "the priors of the resized images")
        // Discs 18 px across in 46 px images cannot shrink below the crop: scale 1, and the note says why.
        let blocks = try TrainingData.load(folders: dataset("blocks", side: 46, radius: 9), channels: 1, cropSize: 32, seed: 1, scale: nil)
        XCTAssertEqual(blocks.scale, 1)
        XCTAssertTrue(blocks.scaleNote?.contains("cannot be resized") == true, blocks.scaleNote ?? "no note")
        // Cells of a suitable size: scale 1; a given scale is taken as it is, with no note.
        let fine = try TrainingData.load(folders: dataset("fine", side: 96, radius: 5), channels: 1, cropSize: 32, seed: 1, scale: nil)
        XCTAssertEqual(fine.scale, 1)
        let given = try TrainingData.load(folders: dataset("given", side: 96, radius: 5), channels: 1, cropSize: 32, seed: 1, scale: 0.5)
        XCTAssertEqual([given.scale, Double(given.imagesB[1].width)], [0.5, 48])
        XCTAssertNil(given.scaleNote)
    }
}
