// The dashboard on finished or running runs, read-only (`aggan view`): a DashboardEngine
// whose snapshots come from run folders, one per checkpoint and preview strip of the
// first run. The previews of a checkpoint are recomputed from it when the dashboard is
// about to show them (on a queue of their own, then published). It never writes or locks a
// folder; while it is shown it reads the folders again every second when their files grew.
import Foundation
import TrainingEngine

/// One run's curves, for overlaying several runs.
public struct RunCurves: Sendable {
    public var name: String
    public var history: LossHistory
    public init(name: String, history: LossHistory) { self.name = name; self.history = history }
}

public final class RunViewer: DashboardEngine, @unchecked Sendable {
    public let observers = ObserverRegistry()
    public let directories: [RunDirectory]
    private let state: LockedBox<Loaded>
    /// Previews recomputed from the first run's checkpoints, by step, and the steps being
    /// computed.
    private let computed = LockedBox<(previews: [Int: [SamplePreview]], failures: [Int: String], pending: Set<Int>)>(
        ([:], [:], []))
    private let queue = DispatchQueue(label: "aggan.view")
    private let computeQueue = DispatchQueue(label: "aggan.view.previews")

    struct Loaded {
        var record: RunRecord
        var snapshots: [TrainingSnapshot]
        var runs: [RunCurves]
        var signature: [Int]
    }
    /// Confined to `queue`.
    private var timer: DispatchSourceTimer?

    /// Reads every folder; throws the first that is not a run folder (naming it).
    public init(_ directories: [RunDirectory]) throws {
        self.directories = directories
        let loaded = try Self.load(directories)
        state = LockedBox(loaded)
    }

    static func name(_ d: RunDirectory) -> String { d.name }

    static func load(_ directories: [RunDirectory], computed: [Int: [SamplePreview]] = [:],
                     failures: [Int: String] = [:]) throws -> Loaded {
        let records = try directories.map { try RunRecord.load($0) }
        let runs = records.map { RunCurves(name: name($0.directory), history: $0.history) }
        return Loaded(record: records[0], snapshots: records[0].snapshots(runName: name(records[0].directory),
                                                                          computed: computed, notes: failures),
                      runs: runs, signature: directories.flatMap(signature))
    }

    /// What changes when a run writes: the size of its metrics and the files it keeps.
    static func signature(_ d: RunDirectory) -> [Int] {
        func size(_ path: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? -1 }
        func count(_ dir: String) -> Int { (try? FileManager.default.contentsOfDirectory(atPath: dir).count) ?? -1 }
        return [size(d.metricsFile), count(d.previewsDir), count(d.checkpointsDir)]
    }

    public var isReadOnly: Bool { true }
    public var latestSnapshot: TrainingSnapshot? { state.withLock { $0.snapshots.last } }
    public var snapshotHistory: [TrainingSnapshot] { state.withLock { $0.snapshots } }
    public var comparedRuns: [RunCurves] { state.withLock { $0.runs.count > 1 ? $0.runs : [] } }

    /// Commands change nothing in a finished run.
    public func send(_ command: EngineCommand) {}

    /// Starts following the folders (once a second).
    public func start(paused: Bool) {
        queue.sync {
            guard timer == nil else { return }
            let t = DispatchSource.makeTimerSource(queue: queue)
            t.schedule(deadline: .now() + 1, repeating: 1)
            t.setEventHandler { [weak self] in self?.refresh() }
            timer = t
            t.resume()
        }
    }

    /// Reads the folders again if their files changed, and publishes the newest snapshot.
    public func refresh() {
        let now = directories.flatMap(Self.signature)
        guard now != state.withLock({ $0.signature }) else { return }
        let (previews, failures) = computed.withLock { ($0.previews, $0.failures) }
        guard let loaded = try? Self.load(directories, computed: previews, failures: failures) else { return }
        state.withLock { $0 = loaded }
        if let last = loaded.snapshots.last { observers.publish(last) }
    }

    /// Recomputes the previews of the checkpoint at `step` (once; nothing for a step
    /// without a checkpoint), then publishes the newest snapshot so that the dashboard
    /// draws again. A checkpoint that cannot be read is named in the snapshots' message.
    public func showing(step: Int) {
        let record = state.withLock { $0.record }
        guard record.checkpointSteps.contains(step), !record.previews.isEmpty else { return }
        let start = computed.withLock { c -> Bool in
            guard c.previews[step] == nil, !c.pending.contains(step) else { return false }
            c.pending.insert(step)
            return true
        }
        guard start else { return }
        computeQueue.async { [weak self] in
            guard let self else { return }
            let result = Result { try record.checkpointPreviews(step: step) }
            let (all, failures) = self.computed.withLock { c -> ([Int: [SamplePreview]], [Int: String]) in
                c.pending.remove(step)
                switch result {
                case let .success(p): c.previews[step] = p
                case let .failure(error):
                    // Named on screen; the strip's previews (if any) stay, and it is not tried again.
                    c.previews[step] = record.previews.first { $0.step == step }?.samples ?? []
                    c.failures[step] = "\(error)"
                }
                return (c.previews, c.failures)
            }
            let last = self.state.withLock { s -> TrainingSnapshot? in
                s.snapshots = s.record.snapshots(runName: Self.name(s.record.directory), computed: all, notes: failures)
                return s.snapshots.last
            }
            if let last { self.observers.publish(last) }
        }
    }

    /// Waits until the previews asked for so far are computed (for tests).
    public func waitForPreviews() { computeQueue.sync {} }

    public func waitUntilFinished() {
        queue.sync {
            timer?.cancel()
            timer = nil
        }
    }
}
