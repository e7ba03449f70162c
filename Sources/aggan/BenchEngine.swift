import AGGAN
import ArgumentParser
import Foundation
import Imaging
import Tensor
import TrainingEngine

/// An observer that does nothing, or sleeps in every call (a slow screen or disk).
final class IdleObserver: TrainingObserver, @unchecked Sendable {
    let delay: useconds_t
    let calls = LockedBox(0)
    init(delayMilliseconds: Int) { delay = useconds_t(delayMilliseconds * 1000) }
    func didPublish(_ snapshot: TrainingSnapshot) {
        if delay > 0 { usleep(delay) }
        calls.withLock { $0 += 1 }
    }
}

/// Forwards snapshots to an observer and adds up the CPU time of its calls (thread CPU
/// time: what the observer itself costs, whatever else runs on the machine).
final class CPUTimedObserver: TrainingObserver, @unchecked Sendable {
    let inner: any TrainingObserver
    let seconds = LockedBox(0.0)
    init(_ inner: any TrainingObserver) { self.inner = inner }
    func didPublish(_ snapshot: TrainingSnapshot) {
        let t0 = Self.threadCPUTime()
        inner.didPublish(snapshot)
        let dt = Self.threadCPUTime() - t0
        seconds.withLock { $0 += dt }
    }
    static func threadCPUTime() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

struct BenchEngine: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-engine",
        abstract: "Training throughput of the engine with no observers versus three (one slow), or versus the TensorBoard recorder.",
        discussion: """
            With --tensorboard the second setting is the TensorBoard recorder at the default \
            intervals (preview image and weight histograms every 500 steps: give --steps 500 or \
            more to include them), writing into a temporary folder that is removed afterwards.
            """)

    @Option(help: "Data folder (CycleGAN layout); default: samples/nuclei.") var data: String = "samples/nuclei"
    @Option(help: "Iterations per measurement.") var steps: Int = 60
    @Option(help: "Measurements per setting (alternating).") var rounds: Int = 3
    @Option(help: "Delay of the slow observer per snapshot, ms.") var slowMs: Int = 200
    @Flag(help: "Compare with the TensorBoard recorder instead of the three idle observers.") var tensorboard = false
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        var config = Config(preset: .tiny)
        config.channels = 1
        let other = tensorboard ? "tensorboard" : "3 observers"
        var rates: [String: [Double]] = ["none": [], other: []]
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("aggan-bench-tb-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        for round in 0..<rounds {
            for setting in ["none", other] {
                let folders = try DatasetFolders(cycleGANRoot: data)
                let d = try TrainingData(folders: folders, channels: 1, cropSize: config.imageSize, seed: 1)
                var o = EngineOptions()
                o.maxSteps = steps; o.threads = threads.count; o.adaptiveThreads = threads.adaptive; o.checkpointEvery = 0
                if setting == "tensorboard" { o.weightHistogramEvery = 500 }
                let engine = try Engine(config: config, data: d, options: o)
                let observers = setting == "3 observers" ? [IdleObserver(delayMilliseconds: 0), IdleObserver(delayMilliseconds: 1),
                                                            IdleObserver(delayMilliseconds: slowMs)] : []
                for ob in observers { engine.observers.add(ob) }
                var recorder: TensorBoardRecorder?
                var timed: CPUTimedObserver?
                if setting == "tensorboard" {
                    recorder = TensorBoardRecorder(RunDirectory(scratch + "/round-\(round)"), imageEvery: 500)
                    timed = CPUTimedObserver(recorder!)
                    engine.observers.add(timed!)
                }
                let cpu0 = processCPUTime()
                let t0 = DispatchTime.now().uptimeNanoseconds
                engine.start()
                engine.waitUntilFinished()
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                engine.observers.flush()
                if let e = recorder?.error { throw ValidationError(e) }
                if let timed {
                    let spent = timed.seconds.current, total = processCPUTime() - cpu0
                    print(String(format: "round %d recorder CPU %.4f s of the process's %.2f s (%.3f %%)",
                                 round + 1, spent, total, 100 * spent / total))
                }
                rates[setting]!.append(Double(steps) / seconds)
                let calls = observers.map { "\($0.calls.current)" }.joined(separator: "/")
                print(String(format: "round %d %-12@ %.3f it/s", round + 1, setting as NSString, Double(steps) / seconds)
                      + (observers.isEmpty ? "" : "  (snapshots delivered: \(calls))"))
            }
        }
        let none = stats(rates["none"]!).median, with = stats(rates[other]!).median
        print(String(format: "median: none %.3f it/s, %@ %.3f it/s, ratio %.4f", none, other as NSString, with, with / none))
    }
}

/// CPU time of the whole process so far (all threads), seconds.
func processCPUTime() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
