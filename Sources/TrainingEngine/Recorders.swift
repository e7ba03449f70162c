import AGGAN
import Basics
import Foundation
import Imaging

/// Appends every iteration's losses to `metrics.jsonl` (one JSON object per step) and to a
/// CycleGAN-style `loss_log.txt`. It reads the snapshot's history, so a skipped snapshot
/// loses no line.
public final class MetricsRecorder: TrainingObserver, @unchecked Sendable {
    private let dir: RunDirectory
    private var written: Int
    private var jsonl: FileHandle?
    private var log: FileHandle?
    public private(set) var error: String?

    /// `after`: the last step already in the files (0 for a new run).
    public init(_ dir: RunDirectory, after step: Int = 0) {
        self.dir = dir
        written = step
    }

    deinit { try? jsonl?.close(); try? log?.close() }

    public func didPublish(_ snapshot: TrainingSnapshot) {
        let points = snapshot.history.points(after: written)
        guard !points.isEmpty else { return }
        do {
            if jsonl == nil { jsonl = try Self.appending(dir.metricsFile) }
            if log == nil { log = try Self.appending(dir.lossLogFile) }
            var j = "", l = ""
            let config = snapshot.config
            for p in points {
                let epoch = config.epoch(ofStep: p.step - 1)
                var fields = ["\"step\":\(p.step)", "\"epoch\":\(epoch + 1)", "\"stage\":\(config.stage(ofStep: p.step - 1))",
                              "\"lr\":\(config.learningRate(epoch: epoch))"]
                fields += p.losses.terms.map { "\"\($0.rawValue)\":\(Self.number($1))" }
                fields += (p.attention?.fields ?? []).map { "\"\($0)\":\(Self.number($1))" }
                fields += (p.discriminator?.fields ?? []).map { "\"\($0)\":\(Self.number($1))" }
                j += "{" + fields.joined(separator: ",") + "}\n"
                let iter = (p.step - 1) % config.iterationsPerEpoch + 1
                l += "(epoch: \(epoch + 1), iters: \(iter), step: \(p.step)) "
                    + p.losses.terms.map { "\($0.rawValue): \(String(format: "%.4f", $1))" }.joined(separator: " ") + "\n"
            }
            try jsonl?.write(contentsOf: Data(j.utf8))
            try log?.write(contentsOf: Data(l.utf8))
            written = points.last!.step
        } catch {
            self.error = "cannot write metrics in '\(dir.path)': \(error.localizedDescription)"
        }
    }

    /// JSON has no NaN or infinity: they are written as null.
    static func number(_ v: Float) -> String { v.isFinite ? "\(v)" : "null" }

    static func appending(_ path: String) throws -> FileHandle {
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try h.seekToEnd()
        return h
    }

    /// On resume: keeps only the lines up to `step` (a killed run may have logged steps
    /// after its last checkpoint) and returns the kept history.
    public static func truncate(_ dir: RunDirectory, after step: Int) throws -> LossHistory {
        var history = LossHistory()
        var keptJSON = "", keptLog = ""
        if let text = try? String(contentsOfFile: dir.metricsFile, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                guard let m = try? JSONDecoder().decode(MetricsLine.self, from: Data(line.utf8)), m.step <= step else { continue }
                history.append(LossPoint(step: m.step, losses: m.losses, attention: m.attention,
                                         discriminator: m.discriminator))
                keptJSON += line + "\n"
            }
        }
        if let text = try? String(contentsOfFile: dir.lossLogFile, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                guard let r = line.range(of: "step: "), let s = Int(line[r.upperBound...].prefix { $0.isNumber }), s <= step else { continue }
                keptLog += line + "\n"
            }
        }
        try AtomicFile.write(text: keptJSON, to: dir.metricsFile)
        try AtomicFile.write(text: keptLog, to: dir.lossLogFile)
        return history
    }
}

/// One line of `metrics.jsonl` as read back: the step, the loss terms, the attention
/// statistics and the discriminators' outputs (other fields are not needed to resume).
public struct MetricsLine: Decodable, Sendable {
    public let step: Int
    public let losses: Losses
    public let attention: AttentionPair?
    public let discriminator: DiscriminatorOutputs?

    /// The line as a history point.
    public var point: LossPoint { LossPoint(step: step, losses: losses, attention: attention, discriminator: discriminator) }

    private enum Key: CodingKey { case step }

    public init(from decoder: Decoder) throws {
        step = try decoder.container(keyedBy: Key.self).decode(Int.self, forKey: .step)
        losses = try Losses(from: decoder)
        attention = try AttentionPair(decodingFieldsOf: decoder)
        discriminator = try DiscriminatorOutputs(decodingFieldsOf: decoder)
    }
}

/// Writes a PNG strip of the previews every `every` steps into `previews/`: one row per
/// sample and direction, input | attention | generated | composite.
public final class PreviewRecorder: TrainingObserver, @unchecked Sendable {
    private let dir: RunDirectory
    private let every: Int
    private var lastWritten = -1
    public private(set) var error: String?

    public init(_ dir: RunDirectory, every: Int) {
        self.dir = dir
        self.every = max(1, every)
    }

    public func didPublish(_ snapshot: TrainingSnapshot) {
        let step = snapshot.previewStep
        guard Self.isDue(snapshot, every: every, lastWritten: lastWritten) else { return }
        do {
            let strip = try Self.strip(snapshot.previews)
            try strip.writePNG(to: dir.previewsDir + "/" + String(format: "step-%07d.png", step))
            lastWritten = step
        } catch {
            self.error = "cannot write a preview in '\(dir.previewsDir)': \(error)"
        }
    }

    /// Whether `snapshot`'s previews are to be written: they crossed a multiple of `every`
    /// since `lastWritten`, or they are the last of a finished run.
    static func isDue(_ snapshot: TrainingSnapshot, every: Int, lastWritten: Int) -> Bool {
        let step = snapshot.previewStep
        return step > 0 && !snapshot.previews.isEmpty
            && (step / every > lastWritten / every || (snapshot.state == .finished && step != lastWritten))
    }

    /// The previews as one strip: one row per sample and direction, input | attention |
    /// generated | composite (`read` reads it back).
    public static func strip(_ previews: [SamplePreview]) throws -> Image {
        guard let first = previews.first else { throw EngineError("no previews to draw") }
        let tiles = previews.flatMap { [$0.ab, $0.ba] }.map { [$0.input, $0.attention, $0.generated, $0.composite] }
        let w = first.ab.input.width, h = first.ab.input.height, c = first.ab.input.channels
        var strip = try Image(width: 4 * w, height: tiles.count * h, channels: c)
        for (row, images) in tiles.enumerated() {
            for (col, im) in images.enumerated() {
                for ch in 0..<c {
                    let src = im.channels == 1 ? 0 : ch
                    for y in 0..<h { for x in 0..<w { strip[ch, row * h + y, col * w + x] = im.pixels[(src * h + y) * w + x] } }
                }
            }
        }
        return strip
    }
}
