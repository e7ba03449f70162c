import AGGAN
import Basics
import Foundation
import Imaging
import Tensor

/// A run folder read back, read-only, for looking at it again (`aggan view`): its config,
/// the loss history of `metrics.jsonl`, the preview strips of `previews/` and its
/// checkpoints. Nothing in the folder is written or locked, so a run another process is
/// training can be read while it grows.
public struct RunRecord: Sendable {
    public let directory: RunDirectory
    public let config: Config
    public let history: LossHistory
    /// The preview strips, oldest first, each decoded into its samples.
    public let previews: [(step: Int, samples: [SamplePreview])]
    public let checkpointSteps: [Int]
    /// Files that could not be read (named, with why), skipped.
    public let problems: [String]

    /// Reads `directory`. Throws (naming the file) when it is not a run folder: no
    /// readable `config.json`. Unreadable metrics lines and preview files are skipped and
    /// listed in `problems`.
    public static func load(_ directory: RunDirectory) throws -> RunRecord {
        guard let data = FileManager.default.contents(atPath: directory.configFile) else {
            throw EngineError("'\(directory.path)' is not a run folder: no '\(directory.configFile)'")
        }
        let config: Config
        do { config = try JSONDecoder().decode(Config.self, from: data) } catch {
            throw EngineError("'\(directory.configFile)' is not a readable config: \(error)")
        }
        var problems: [String] = []
        let (history, bad) = readMetrics(directory.metricsFile)
        if bad > 0 { problems.append("'\(directory.metricsFile)': \(bad) unreadable line(s) skipped") }
        var previews: [(step: Int, samples: [SamplePreview])] = []
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.previewsDir)) ?? []).sorted()
        for name in names where name.hasPrefix("step-") && name.hasSuffix(".png") {
            guard let step = Int(name.dropFirst(5).dropLast(4)) else { continue }
            let path = directory.previewsDir + "/" + name
            do {
                previews.append((step, try PreviewRecorder.read(path, tau: config.tau)))
            } catch {
                problems.append("\(error)")
            }
        }
        return RunRecord(directory: directory, config: config, history: history, previews: previews,
                         checkpointSteps: directory.checkpoints().map(\.step), problems: problems)
    }

    /// The history in `path` (empty when there is none) and the count of lines that could
    /// not be read; a last line without its newline (being written) is left for later.
    static func readMetrics(_ path: String) -> (LossHistory, Int) {
        guard let data = FileManager.default.contents(atPath: path) else { return (LossHistory(), 0) }
        var history = LossHistory()
        var bad = 0
        var lastStep = Int.min
        let complete = data.last == UInt8(ascii: "\n") ? data[...] : data[..<(data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0)]
        for line in complete.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            guard let m = try? JSONDecoder().decode(MetricsLine.self, from: Data(line)), m.step > lastStep else {
                bad += 1
                continue
            }
            history.append(m.point)
            lastStep = m.step
        }
        return (history, bad)
    }

    /// Snapshots to look at: one per checkpoint and per preview strip (the last one is
    /// "live"), each with the loss history up to its step, as an ended run (`.finished`
    /// when its last step is the schedule's end, else `.stopped`). A step's previews are
    /// those recomputed from its checkpoint when `computed` has them, else its strip's,
    /// else none (until they are computed). `notes` replace the message of their steps (why
    /// a checkpoint's previews could not be computed). A run with neither gives one
    /// snapshot. Sequences follow the steps, so they stay the same when the folder is read
    /// again.
    public func snapshots(runName: String, computed: [Int: [SamplePreview]] = [:],
                          notes: [Int: String] = [:]) -> [TrainingSnapshot] {
        let points = history.points
        let lastStep = max(points.last?.step ?? 0, previews.last?.step ?? 0, checkpointSteps.last ?? 0)
        let ended: RunState = lastStep >= config.totalSteps ? .finished : .stopped
        let strips = Dictionary(previews.map { ($0.step, $0.samples) }, uniquingKeysWith: { a, _ in a })
        let steps = Set(previews.map(\.step)).union(checkpointSteps).sorted()
        let shown: [(step: Int, samples: [SamplePreview])] = steps.isEmpty
            ? [(-1, [])] : steps.map { ($0, computed[$0] ?? strips[$0] ?? []) }
        return shown.enumerated().map { i, p in
            let isLast = i == shown.count - 1
            let upTo = isLast ? lastStep : p.step
            let kept = LossHistory(points: points.filter { $0.step <= upTo })
            let switchStep = config.baseline ? nil : config.switchEpoch * config.iterationsPerEpoch
            let epoch = config.epoch(ofStep: max(0, upTo - 1))
            var problem = notes[p.step] ?? problems.first
            if p.step >= 0, p.samples.isEmpty, problem == nil {
                problem = previews.isEmpty ? "no preview strip to take the sample images from"
                    : "computing the previews of checkpoint step \(p.step)…"
            }
            return TrainingSnapshot(
                runName: runName, config: config, step: upTo, totalSteps: config.totalSteps, epoch: epoch,
                stage: config.stage(ofStep: max(0, upTo - 1)), stageSwitchStep: switchStep,
                learningRate: config.learningRate(epoch: epoch), losses: kept.last?.losses, history: kept,
                iterationsPerSecond: 0, eta: nil, tau: config.tau, mode: .soft, state: ended, previews: p.samples,
                previewStep: p.step, lastCheckpointStep: checkpointSteps.last { $0 <= upTo },
                checkpointSteps: checkpointSteps.filter { $0 <= upTo },
                message: problem ?? "viewing \(directory.path) (read-only)", sequence: (isLast ? upTo : p.step) + 1)
        }
    }
}

extension RunRecord {
    /// The previews of the checkpoint at `step`, recomputed: its networks (eval mode, soft
    /// attention at the run's tau) on the sample images of the newest preview strip. Throws
    /// (naming the file) when the checkpoint cannot be read or there is no strip.
    public func checkpointPreviews(step: Int) throws -> [SamplePreview] {
        guard let path = directory.checkpoints().last(where: { $0.step == step })?.path else {
            throw EngineError("'\(directory.checkpointsDir)': no checkpoint of step \(step)")
        }
        guard let samples = previews.last?.samples, !samples.isEmpty else {
            throw EngineError("'\(directory.previewsDir)': no preview strip to take the sample images from")
        }
        let model = try Checkpoint.loadModel(path).model
        func image(_ p: PreviewImage) throws -> Image {
            try Image(width: p.width, height: p.height, channels: p.channels, pixels: p.pixels)
        }
        return try Tensor.withoutGrad {
            try samples.map { s in
                func direction(_ d: Direction) throws -> DirectionPreview {
                    try DirectionPreview.compute(model: model, image: try image(s.direction(d).input), direction: d,
                                                 channels: model.channels, mode: .soft, tau: config.tau)
                }
                return SamplePreview(index: s.index, nameA: s.nameA, nameB: s.nameB, ab: try direction(.st),
                                     ba: try direction(.ts))
            }
        }
    }
}

extension PreviewRecorder {
    /// Reads a preview strip written by `didPublish`: one row per sample and direction
    /// (A→B then B→A), input | attention | generated | composite, square tiles.
    /// The fraction above tau and the background drift are measured again at `tau`.
    public static func read(_ path: String, tau: Float) throws -> [SamplePreview] {
        let strip = try Image(pngFile: path)
        let w = strip.width / 4
        guard w > 0, strip.width == 4 * w, strip.height % w == 0, (strip.height / w) % 2 == 0 else {
            throw EngineError("'\(path)': \(strip.width)x\(strip.height) is not a strip of 4 square tiles per row, "
                              + "two rows per sample")
        }
        let c = strip.channels
        func tile(_ row: Int, _ col: Int, channels: Int) -> PreviewImage {
            var p = [Float](repeating: 0, count: channels * w * w)
            for ch in 0..<channels {
                for y in 0..<w { for x in 0..<w { p[(ch * w + y) * w + x] = strip[min(ch, c - 1), row * w + y, col * w + x] } }
            }
            return PreviewImage(width: w, height: w, channels: channels, pixels: p)
        }
        func direction(_ row: Int) -> DirectionPreview {
            let input = tile(row, 0, channels: c), attention = tile(row, 1, channels: 1)
            let composite = tile(row, 3, channels: c)
            var above = 0, drift = 0.0, outside = 0
            for i in 0..<(w * w) {
                if attention.pixels[i] > tau { above += 1; continue }
                outside += 1
                for ch in 0..<c { drift += Double(abs(composite.pixels[ch * w * w + i] - input.pixels[ch * w * w + i])) }
            }
            return DirectionPreview(input: input, attention: attention, generated: tile(row, 2, channels: c),
                                    composite: composite,
                                    backgroundDrift: outside > 0 ? drift * 255 / Double(outside * c) : 0,
                                    fractionAboveTau: Double(above) / Double(w * w))
        }
        return (0..<(strip.height / w / 2)).map { k in
            SamplePreview(index: k, nameA: "sample \(k + 1)", nameB: "sample \(k + 1)", ab: direction(2 * k), ba: direction(2 * k + 1))
        }
    }
}
