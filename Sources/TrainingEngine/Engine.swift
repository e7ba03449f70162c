import AGGAN
import Basics
import Foundation
import Imaging
import Tensor

/// What the user can ask of a running engine. Commands are applied between iterations,
/// in the order they were sent.
public enum EngineCommand: Sendable, Equatable {
    case start, pause, resume
    /// Run exactly n iterations, then stay paused.
    case step(Int)
    /// Finish the current iteration, save a checkpoint (when `save`) and end.
    case stop(save: Bool)
    /// The threshold for the previews' composite and attention views.
    case setTau(Float)
    case setMode(ThresholdMode)
    /// Which preview samples to compute (indices into the preview set).
    case setPreviewSamples([Int])
    /// Save a checkpoint now.
    case save
    /// Something an observer has to say, shown as the run's latest message (a metrics or
    /// preview write that failed).
    case report(String)
}

/// Settings of one run that are not part of the model's config.
public struct EngineOptions: Sendable {
    public var runDirectory: RunDirectory?
    public var runName = "run"
    /// Previews are recomputed every this many steps (and on every step while paused).
    public var previewEvery = 20
    /// A checkpoint every this many steps (0: only at the end and on request).
    public var checkpointEvery = 500
    public var keepCheckpoints = 3
    /// Stop after this step (nil: at the end of the schedule).
    public var maxSteps: Int?
    /// Compute threads for oneDNN (the most, with `adaptiveThreads`).
    public var threads = 2
    /// Choose the thread count by timing steps (`ThreadTuner`, `--threads auto`).
    public var adaptiveThreads = false
    /// Snapshots with distinct previews kept for scrubbing back.
    public var snapshotHistory = 64
    /// Steps an attention map must stay all-black or all-white before the alarm.
    public var collapsePatience = 100
    /// What a step with a NaN or infinite loss or gradient does (the update is never
    /// applied and nothing is saved after it either way): pause with `fault` set, for a
    /// user who wants to look (the dashboard), or end the run as failed (the default).
    public var pauseOnFault = false
    /// Histograms of each network's weights every this many steps, in the snapshots
    /// (0: none).
    public var weightHistogramEvery = 0

    public init() {}
}

/// Owns the model, the data and the optimisers, and trains them on one serial queue.
/// Everyone else sends commands (any thread) and observes snapshots.
///
/// `start()` runs the loop on the engine's queue. Tests can instead drive it by hand with
/// `pump()`, which applies the pending commands and runs at most one iteration on the
/// calling thread (like swift-nio's EmbeddedEventLoop).
public final class Engine: @unchecked Sendable {
    public let observers = ObserverRegistry()
    public let options: EngineOptions

    private let queue = DispatchQueue(label: "aggan.engine", qos: .userInitiated)
    private let inbox = LockedBox<[EngineCommand]>([])
    private let wake = DispatchSemaphore(value: 0)
    private let done = DispatchGroup()
    private let latest = LockedBox<TrainingSnapshot?>(nil)
    private let ring: LockedBox<SnapshotRing>

    // Confined to the thread that runs the loop (the queue, or the test's thread).
    public let trainer: Trainer
    public let data: TrainingData
    private var state: RunState = .idle
    private var pendingSteps = 0
    private var viewTau: Float
    private var mode: ThresholdMode = .soft
    private var previewIndices: [Int]
    private var previews: [SamplePreview] = []
    private var previewStep = -1
    private var history = LossHistory()
    private var lastLosses: Losses?
    private var checkpointSteps: [Int] = []
    private var message: String?
    private var sequence = 0
    private var secondsPerIteration: Double?
    private var lastIterationEnd: UInt64?
    private var collapsedSince: [Int?] = [nil, nil]
    /// Held while the engine lives: no second process writes this run folder.
    private let runLock: RunLock?
    private var attentionAlarm: String?
    /// Set once a step was refused for a non-finite value: the model may no longer be
    /// trained or saved.
    private var fault: String?
    /// While checkpoints fail: the error without its path and the step of the first
    /// failure (reported once).
    private var checkpointTrouble: (reason: String, since: Int)?
    private var weightHistograms: WeightHistograms?
    /// The thread count of `--threads auto` (engine thread only).
    private lazy var threadTuner = ThreadTuner(maximum: options.threads)

    /// A new run from `config` (its iterations per epoch are taken from the data).
    public init(config: Config, data: TrainingData, options: EngineOptions) throws {
        var c = config
        c.iterationsPerEpoch = data.iterationsPerEpoch
        trainer = try Trainer(config: c)
        self.data = data
        self.options = options
        ring = LockedBox(SnapshotRing(capacity: options.snapshotHistory))
        viewTau = c.tau
        previewIndices = Array(0..<min(data.previewA.count, data.previewB.count))
        runLock = try options.runDirectory?.open()
        if let dir = options.runDirectory {
            try dir.writeConfig(c)
            // A run killed before its first checkpoint left lines that no checkpoint holds.
            _ = try MetricsRecorder.truncate(dir, after: 0)
        }
        message = Self.firstLine(trainer.config, data)
    }

    /// The scale chosen for the cells' size and what the attention guide takes for cells,
    /// when they apply: the first line a user sees.
    static func firstLine(_ config: Config, _ data: TrainingData) -> String? {
        let parts = [data.scaleNote ?? (config.scale == 1 ? nil : "images resized by \(Format.value(config.scale))"),
                     config.guidesAttention ? "attention guide: A: \(data.priorA.summary); B: \(data.priorB.summary)" : nil]
        let line = parts.compactMap { $0 }.joined(separator: "; ")
        return line.isEmpty ? nil : line
    }

    /// Continues the run in `options.runDirectory` from its newest checkpoint: the model,
    /// optimiser, pools, random streams, data order and loss history as they were.
    public init(resuming data: TrainingData, options: EngineOptions) throws {
        guard let dir = options.runDirectory else { throw EngineError("resuming needs a run folder") }
        runLock = try dir.open()
        guard let newest = dir.checkpoints().last else { throw EngineError("no checkpoint in '\(dir.checkpointsDir)' to resume from") }
        let (trainer, meta) = try Checkpoint.resume(newest.path)
        try data.restore(meta)
        self.trainer = trainer
        self.data = data
        self.options = options
        ring = LockedBox(SnapshotRing(capacity: options.snapshotHistory))
        viewTau = Float(meta["view_tau"] ?? "") ?? trainer.config.tau
        mode = ThresholdMode(rawValue: meta["view_mode"] ?? "") ?? .soft
        previewIndices = Array(0..<min(data.previewA.count, data.previewB.count))
        history = try MetricsRecorder.truncate(dir, after: trainer.step)
        let eventWarnings = TensorBoardRecorder.truncate(dir, after: trainer.step)
        lastLosses = history.last?.losses
        checkpointSteps = dir.checkpoints().map(\.step).filter { $0 <= trainer.step }
        message = "resumed from \(URL(fileURLWithPath: newest.path).lastPathComponent)"
            + (Self.firstLine(trainer.config, data).map { "; " + $0 } ?? "")
            + (eventWarnings.first.map { "; " + $0 } ?? "")
    }

    // MARK: - Commands (any thread)

    public func send(_ command: EngineCommand) {
        inbox.withLock { $0.append(command) }
        wake.signal()
    }

    /// The newest published snapshot.
    public var latestSnapshot: TrainingSnapshot? { latest.current }

    /// Earlier snapshots for scrubbing back, oldest first: one per distinct preview
    /// computation, at most `options.snapshotHistory` of them.
    public var snapshotHistory: [TrainingSnapshot] { ring.withLock { $0.items } }

    /// Starts the loop on the engine's queue; it ends when the run finishes or is stopped.
    public func start(paused: Bool = false) {
        send(paused ? .step(0) : .start)
        done.enter()
        queue.async {
            Compute.setThreads(self.options.adaptiveThreads ? self.threadTuner.current : self.options.threads)
            self.publish()
            while self.runOnce(blocking: true) {}
            self.observers.flush()
            self.done.leave()
        }
    }

    /// Blocks until the loop has ended and every observer has seen the last snapshot.
    public func waitUntilFinished() { done.wait() }

    /// Manual driving for tests: applies pending commands and runs at most one iteration
    /// on the calling thread. Returns false once the run has ended.
    @discardableResult
    public func pump() -> Bool { runOnce(blocking: false) }

    // MARK: - The loop (engine thread)

    private func runOnce(blocking: Bool) -> Bool {
        let commands = inbox.withLock { c -> [EngineCommand] in defer { c.removeAll() }; return c }
        for c in commands { apply(c) }
        if state == .stopped || state == .finished || state == .failed { return false }
        if state == .running || pendingSteps > 0 {
            do { try iterate() } catch let refused as NonFiniteStep {
                halt(refused)
                return state != .failed
            } catch {
                state = .failed
                message = "training failed at step \(trainer.step + 1): \(error)"
                publish()
                return false
            }
            return state != .finished
        }
        if blocking { wake.wait() }
        return true
    }

    private func apply(_ c: EngineCommand) {
        if let fault {
            // Nothing trains or saves after a refused step (the view may still change);
            // a stop ends the run as failed.
            switch c {
            case .start, .resume, .step, .save: message = fault; publish(); return
            case .stop: state = .failed; message = fault; publish(); return
            default: break
            }
        }
        switch c {
        case .start:
            if state == .idle || state == .paused { state = .running }
        case .pause:
            if state == .running || state == .idle { state = .paused; refreshPreviews() }
        case .resume:
            if state == .paused || state == .idle { state = .running; pendingSteps = 0 }
        case .step(let n):
            if state == .idle || state == .paused { state = .paused; pendingSteps += max(0, n) }
        case .stop(let save):
            if save && (checkpointSteps.last != trainer.step || checkpointSteps.isEmpty) {
                if let failure = saveCheckpoint() { failFinalSave(failure); break }
            }
            state = .stopped
        case .setTau(let t):
            viewTau = min(max(t, 0), 0.99)
            refreshPreviews()
        case .setMode(let m):
            mode = m
            refreshPreviews()
        case .setPreviewSamples(let indices):
            let n = min(data.previewA.count, data.previewB.count)
            previewIndices = indices.filter { (0..<n).contains($0) }
            refreshPreviews()
        case .save:
            saveCheckpoint()
        case .report(let text):
            message = text
        }
        publish()
    }

    /// The last step of this run: the schedule's end or `maxSteps`.
    private var endStep: Int { min(options.maxSteps ?? Int.max, trainer.config.totalSteps) }

    private func iterate() throws {
        if trainer.step >= endStep {
            // Nothing left to do (--max-steps at or below a resumed step, or a finished run).
            state = .finished
            refreshPreviews()
            publish()
            return
        }
        let pair = try data.next(withGuide: trainer.config.guidesAttention)
        try BatchDump.write(step: trainer.step + 1, s: pair.s, t: pair.t, guide: pair.guide)
        let losses = options.adaptiveThreads
            ? try threadTuner.run { try trainer.step(pair.s, pair.t, guide: pair.guide) }
            : try trainer.step(pair.s, pair.t, guide: pair.guide)
        if pendingSteps > 0 { pendingSteps -= 1 }
        lastLosses = losses
        let attention = trainer.config.baseline ? nil : trainer.lastAttention.map { AttentionPair(s: $0.st, t: $0.ts) }
        history.append(LossPoint(step: trainer.step, losses: losses, attention: attention,
                                 discriminator: trainer.lastDiscriminatorOutputs))
        if let attention { watchAttention(attention) }
        let now = DispatchTime.now().uptimeNanoseconds
        if let last = lastIterationEnd {
            let dt = Double(now - last) / 1e9
            secondsPerIteration = secondsPerIteration.map { 0.9 * $0 + 0.1 * dt } ?? dt
        }
        lastIterationEnd = state == .running ? now : nil
        if trainer.step >= endStep {
            state = .finished
            if let failure = saveCheckpoint() { failFinalSave(failure) }
        } else if options.checkpointEvery > 0 && trainer.step % options.checkpointEvery == 0 {
            saveCheckpoint()
        }
        if state != .running || trainer.step % max(1, options.previewEvery) == 0 || previews.isEmpty { refreshPreviews() }
        if options.weightHistogramEvery > 0 && trainer.step % options.weightHistogramEvery == 0 {
            weightHistograms = WeightHistograms(step: trainer.step, networks: trainer.model.networks.map { name, net in
                (name, Histogram(parts: net.parameters.map(\.data)))
            })
        }
        publish()
    }

    /// Counts the steps each direction's attention has stayed collapsed (all-black or
    /// all-white on its training crops) and raises the alarm after `collapsePatience`
    /// of them in a row; clears it when the attention recovers.
    private func watchAttention(_ a: AttentionPair) {
        var alarms: [String] = []
        for (name, stats, i) in [("A_S", a.s, 0), ("A_T", a.t, 1)] {
            if let c = stats.collapse() {
                collapsedSince[i] = collapsedSince[i] ?? trainer.step
                if trainer.step - collapsedSince[i]! + 1 >= options.collapsePatience {
                    alarms.append("\(name) \(c.rawValue) since step \(collapsedSince[i]!)")
                }
            } else {
                collapsedSince[i] = nil
            }
        }
        let alarm = alarms.isEmpty ? nil : "attention collapsed: " + alarms.joined(separator: ", ")
        if alarm != attentionAlarm {
            if let alarm { message = alarm } else if message == attentionAlarm { message = "attention recovered at step \(trainer.step)" }
        }
        attentionAlarm = alarm
    }

    /// Recomputes the previews in eval mode with the current tau and mode.
    private func refreshPreviews() {
        do {
            previews = try Tensor.withoutGrad {
                try previewIndices.map { i in
                    SamplePreview(index: i, nameA: data.previewA[i].name, nameB: data.previewB[i].name,
                                  ab: try preview(data.previewA[i].image, .st), ba: try preview(data.previewB[i].image, .ts))
                }
            }
            previewStep = trainer.step
        } catch {
            message = "previews failed: \(error)"
        }
    }

    private func preview(_ image: Image, _ d: Direction) throws -> DirectionPreview {
        try DirectionPreview.compute(model: trainer.model, image: image, direction: d, channels: data.channels,
                                     mode: mode, tau: viewTau)
    }

    /// A step refused for a NaN or an infinity: pause or fail (`pauseOnFault`), with a
    /// one-line message that names the step, the term and the last good checkpoint.
    private func halt(_ refused: NonFiniteStep) {
        fault = "\(refused); the update was not applied and nothing is saved after it (\(lastGoodCheckpoint))"
        message = fault
        pendingSteps = 0
        state = options.pauseOnFault ? .paused : .failed
        refreshPreviews()
        publish()
    }

    /// A run that ends without its last checkpoint has failed: its caller must not
    /// believe it saved (the earlier checkpoints stay as they were).
    private func failFinalSave(_ failure: String) {
        state = .failed
        message = "the final checkpoint was not written (\(lastGoodCheckpoint)): \(failure)"
    }

    /// "the last good checkpoint is step N", for messages about what was not saved.
    private var lastGoodCheckpoint: String {
        checkpointSteps.last.map { "the last good checkpoint is step \($0)" } ?? "no checkpoint was written"
    }

    /// Saves a checkpoint; returns why it failed, if it did.
    @discardableResult
    private func saveCheckpoint() -> String? {
        guard let dir = options.runDirectory else { return nil }
        let path = dir.checkpointPath(step: trainer.step)
        // Every step the checkpoint holds reaches metrics.jsonl first: a run killed after
        // the checkpoint resumes with its whole history.
        publish()
        observers.flush()
        do {
            var extra = try data.state()
            extra["view_tau"] = String(viewTau)
            extra["view_mode"] = mode.rawValue
            extra["run_name"] = options.runName
            try Checkpoint.save(trainer, to: path, extra: extra)
            if checkpointSteps.last != trainer.step { checkpointSteps.append(trainer.step) }
            dir.prune(keep: options.keepCheckpoints)
            message = "saved checkpoint \(URL(fileURLWithPath: path).lastPathComponent)"
                + (checkpointTrouble.map { " (checkpoints had failed since step \($0.since))" } ?? "")
            checkpointTrouble = nil
            return nil
        } catch {
            // The first failure is reported; the same one again (a full disk) stays quiet.
            let reason = "\(error)".replacingOccurrences(of: path, with: "")
            if checkpointTrouble?.reason != reason {
                message = "checkpoint failed: \(error) (training goes on; \(lastGoodCheckpoint))"
                checkpointTrouble = (reason, trainer.step)
            }
            return "\(error)"
        }
    }

    private func publish() {
        sequence += 1
        let config = trainer.config
        let remaining = Double(endStep - trainer.step)
        let switchStep = config.baseline ? nil : config.switchEpoch * config.iterationsPerEpoch
        let snapshot = TrainingSnapshot(
            runName: options.runName, config: config, step: trainer.step, totalSteps: config.totalSteps,
            epoch: trainer.epoch, stage: trainer.stage, stageSwitchStep: switchStep, learningRate: trainer.learningRate,
            losses: lastLosses, history: history, iterationsPerSecond: secondsPerIteration.map { 1 / $0 } ?? 0,
            eta: secondsPerIteration.map { $0 * max(0, remaining) }, tau: viewTau, mode: mode, state: state,
            previews: previews, previewStep: previewStep, lastCheckpointStep: checkpointSteps.last,
            checkpointSteps: checkpointSteps, message: message, attentionAlarm: attentionAlarm, fault: fault,
            sequence: sequence, weightHistograms: weightHistograms)
        latest.withLock { $0 = snapshot }
        ring.withLock { $0.record(snapshot) }
        observers.publish(snapshot)
    }
}

/// A ring buffer of snapshots, one per preview computation (a newer snapshot with the same
/// previews replaces the older one).
struct SnapshotRing {
    let capacity: Int
    private(set) var items: [TrainingSnapshot] = []

    init(capacity: Int) { self.capacity = max(1, capacity) }

    mutating func record(_ s: TrainingSnapshot) {
        if let last = items.last, last.previewStep == s.previewStep, last.tau == s.tau, last.mode == s.mode {
            items[items.count - 1] = s
        } else {
            items.append(s)
            if items.count > capacity { items.removeFirst(items.count - capacity) }
        }
    }
}
