// The dashboard on finished or running runs, read-only (`aggan view`): a DashboardEngine
// whose snapshots come from run folders. It never writes or locks a folder; while it is
// shown it reads the folders again every second when their files grew.
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
    private let state: LockedBox<(snapshots: [TrainingSnapshot], runs: [RunCurves], signature: [Int])>
    private let queue = DispatchQueue(label: "aggan.view")
    /// Confined to `queue`.
    private var timer: DispatchSourceTimer?

    /// Reads every folder; throws the first that is not a run folder (naming it).
    public init(_ directories: [RunDirectory]) throws {
        self.directories = directories
        let loaded = try Self.load(directories)
        state = LockedBox(loaded)
    }

    static func name(_ d: RunDirectory) -> String { d.name }

    static func load(_ directories: [RunDirectory]) throws
        -> (snapshots: [TrainingSnapshot], runs: [RunCurves], signature: [Int]) {
        let records = try directories.map { try RunRecord.load($0) }
        let runs = records.map { RunCurves(name: name($0.directory), history: $0.history) }
        return (records[0].snapshots(runName: name(records[0].directory)), runs, directories.flatMap(signature))
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
        guard now != state.withLock({ $0.signature }), let loaded = try? Self.load(directories) else { return }
        state.withLock { $0 = loaded }
        if let last = loaded.snapshots.last { observers.publish(last) }
    }

    public func waitUntilFinished() {
        queue.sync {
            timer?.cancel()
            timer = nil
        }
    }
}
