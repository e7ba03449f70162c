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

struct BenchEngine: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-engine",
        abstract: "Training throughput of the engine with no observers versus three (one slow).")

    @Option(help: "Data folder (CycleGAN layout); default: samples/nuclei.") var data: String = "samples/nuclei"
    @Option(help: "Iterations per measurement.") var steps: Int = 60
    @Option(help: "Measurements per setting (alternating).") var rounds: Int = 3
    @Option(help: "Delay of the slow observer per snapshot, ms.") var slowMs: Int = 200
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        var config = Config(preset: .tiny)
        config.channels = 1
        var rates: [String: [Double]] = ["none": [], "3 observers": []]
        for round in 0..<rounds {
            for setting in ["none", "3 observers"] {
                let folders = try DatasetFolders(cycleGANRoot: data)
                let d = try TrainingData(folders: folders, channels: 1, cropSize: config.imageSize, seed: 1)
                var o = EngineOptions()
                o.maxSteps = steps; o.threads = threads.threads; o.checkpointEvery = 0
                let engine = try Engine(config: config, data: d, options: o)
                let observers = setting == "none" ? [] : [IdleObserver(delayMilliseconds: 0), IdleObserver(delayMilliseconds: 1),
                                                         IdleObserver(delayMilliseconds: slowMs)]
                for ob in observers { engine.observers.add(ob) }
                let t0 = DispatchTime.now().uptimeNanoseconds
                engine.start()
                engine.waitUntilFinished()
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                rates[setting]!.append(Double(steps) / seconds)
                let calls = observers.map { "\($0.calls.current)" }.joined(separator: "/")
                print(String(format: "round %d %-12@ %.3f it/s", round + 1, setting as NSString, Double(steps) / seconds)
                      + (observers.isEmpty ? "" : "  (snapshots delivered: \(calls))"))
            }
        }
        let none = stats(rates["none"]!).median, three = stats(rates["3 observers"]!).median
        print(String(format: "median: none %.3f it/s, 3 observers %.3f it/s, ratio %.4f", none, three, three / none))
    }
}
