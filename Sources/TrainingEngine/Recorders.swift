import AGGAN
import Basics
import Foundation
import Imaging

/// Reports a recorder's write failures once each: the first failure, and the first one
/// after writes worked again (a full disk fails every step; one line says so).
final class FailureReport: @unchecked Sendable {
    private let onFailure: @Sendable (String) -> Void
    private(set) var current: String?

    init(_ onFailure: @escaping @Sendable (String) -> Void) { self.onFailure = onFailure }

    func failed(_ message: String) {
        if current == nil { onFailure(message) }
        current = message
    }

    func succeeded() { current = nil }
}

/// Appends every iteration's losses to `metrics.jsonl` (one JSON object per step) and to a
/// CycleGAN-style `loss_log.txt`. It reads the snapshot's history, so a skipped snapshot
/// loses no line. A write that fails (a full or read-only disk) is undone (the file is cut
/// back to where it was) and retried with the next snapshot, so the files never hold a
/// partial or repeated line; the first failure is reported to `onFailure`.
public final class MetricsRecorder: TrainingObserver, @unchecked Sendable {
    private let dir: RunDirectory
    /// The last step in each file.
    private var written: (jsonl: Int, log: Int)
    /// Open for appending (-1 while closed).
    private var jsonl: Int32 = -1
    private var log: Int32 = -1
    private let report: FailureReport

    /// The latest write failure, while writes fail (nil once they work again).
    public var error: String? { report.current }

    /// `after`: the last step already in the files (0 for a new run).
    public init(_ dir: RunDirectory, after step: Int = 0, onFailure: @escaping @Sendable (String) -> Void = { _ in }) {
        self.dir = dir
        written = (step, step)
        report = FailureReport(onFailure)
    }

    deinit { for fd in [jsonl, log] where fd >= 0 { close(fd) } }

    public func didPublish(_ snapshot: TrainingSnapshot) {
        let points = snapshot.history.points(after: min(written.jsonl, written.log))
        guard !points.isEmpty else { return }
        var j = "", l = ""
        let config = snapshot.config
        for p in points {
            let epoch = config.epoch(ofStep: p.step - 1)
            if p.step > written.jsonl {
                var fields = ["\"step\":\(p.step)", "\"epoch\":\(epoch + 1)", "\"stage\":\(config.stage(ofStep: p.step - 1))",
                              "\"lr\":\(config.learningRate(epoch: epoch))"]
                fields += p.losses.terms.map { "\"\($0.rawValue)\":\(Self.number($1))" }
                fields += (p.attention?.fields ?? []).map { "\"\($0)\":\(Self.number($1))" }
                fields += (p.discriminator?.fields ?? []).map { "\"\($0)\":\(Self.number($1))" }
                j += "{" + fields.joined(separator: ",") + "}\n"
            }
            if p.step > written.log {
                let iter = (p.step - 1) % config.iterationsPerEpoch + 1
                l += "(epoch: \(epoch + 1), iters: \(iter), step: \(p.step)) "
                    + p.losses.terms.map { "\($0.rawValue): \(String(format: "%.4f", $1))" }.joined(separator: " ") + "\n"
            }
        }
        let last = points.last!.step
        do {
            if !j.isEmpty { try Self.append(j, to: &jsonl, path: dir.metricsFile); written.jsonl = last }
            if !l.isEmpty { try Self.append(l, to: &log, path: dir.lossLogFile); written.log = last }
            report.succeeded()
        } catch {
            report.failed("cannot write metrics in '\(dir.path)' (retrying every step): \(error)")
        }
    }

    /// Appends `text` to the file open in `fd` (opening it first). On failure the file is
    /// cut back to its length before the write and closed, so the next try starts clean.
    static func append(_ text: String, to fd: inout Int32, path: String) throws(FileFailure) {
        if fd < 0 {
            fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw FileFailure(path: path, code: errno) }
        }
        let start = lseek(fd, 0, SEEK_END)
        var failure: Int32?
        Array(text.utf8).withUnsafeBytes { b in
            var done = 0
            while done < b.count {
                let n = write(fd, b.baseAddress! + done, b.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                done += n
            }
        }
        guard let code = failure else { return }
        if start >= 0 { _ = ftruncate(fd, start) }
        close(fd)
        fd = -1
        throw FileFailure(path: path, code: code)
    }

    /// JSON has no NaN or infinity: they are written as null.
    static func number(_ v: Float) -> String { v.isFinite ? "\(v)" : "null" }

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

/// A file a recorder could not write: the path and the system's reason.
struct FileFailure: Error, CustomStringConvertible {
    let path: String
    let reason: String

    init(path: String, code: Int32) {
        self.path = path
        reason = String(cString: strerror(code)).lowercased()
    }

    var description: String { "cannot write '\(path)': \(reason)" }
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
    private let report: FailureReport

    /// The latest write failure, while writes fail (nil once they work again).
    public var error: String? { report.current }

    /// `onFailure` hears of the first failed write (and the first after a recovery).
    public init(_ dir: RunDirectory, every: Int, onFailure: @escaping @Sendable (String) -> Void = { _ in }) {
        self.dir = dir
        self.every = max(1, every)
        report = FailureReport(onFailure)
    }

    public func didPublish(_ snapshot: TrainingSnapshot) {
        let step = snapshot.previewStep
        guard Self.isDue(snapshot, every: every, lastWritten: lastWritten) else { return }
        do {
            let strip = try Self.strip(snapshot.previews)
            try strip.writePNG(to: dir.previewsDir + "/" + String(format: "step-%07d.png", step))
            lastWritten = step
            report.succeeded()
        } catch {
            report.failed("cannot write a preview (training goes on): \(error)")
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
