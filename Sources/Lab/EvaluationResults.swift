// `aggan eval --shard K/N --results FILE`: a large held-out set evaluated in parts (job
// arrays) and resumably (one JSON line per sample, appended as it is measured).

import AGGAN
import Foundation
import Imaging

/// Per-sample results of `aggan eval`, one JSON object a line:
/// `{"key": {...}, "sample": {...}, "sweep_iou": [...]}`, where `key` holds the
/// checkpoint's digest and the settings, `sample` is the sample's entry of the JSON
/// report and `sweep_iou` its IoU at each `Evaluation.sweepThresholds`. Lines with
/// another key, or that cannot be read (a line cut by a kill), are ignored. Shards'
/// files concatenated (`cat`) make one file from which the whole set's report is made
/// without measuring anything again.
public struct EvaluationResultsFile: Sendable {
    public let path: String
    public let key: [String: String]

    public init(path: String, key: [String: String]) {
        self.path = path
        self.key = key
    }

    struct Line: Codable {
        var key: [String: String]
        var sample: SampleEvaluation
        var sweep: [Double]
        enum CodingKeys: String, CodingKey { case key, sample, sweep = "sweep_iou" }
    }

    /// The samples already measured with this key, by name (a later line wins), and the
    /// number of lines ignored.
    func load() throws -> (samples: [String: SampleEvaluation], ignored: Int) {
        guard FileManager.default.fileExists(atPath: path) else { return ([:], 0) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InferenceError("cannot read the results file '\(path)'")
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var samples: [String: SampleEvaluation] = [:], ignored = 0
        for line in data.split(separator: 0x0A) where !line.isEmpty {
            guard let entry = try? decoder.decode(Line.self, from: Data(line)), entry.key == key,
                  entry.sweep.count == Evaluation.sweepThresholds.count else {
                ignored += 1
                continue
            }
            var sample = entry.sample
            sample.sweepIoU = entry.sweep
            samples[sample.name] = sample
        }
        return (samples, ignored)
    }

    /// Appends one sample as one line (one `write`, O_APPEND), after a newline if the
    /// file's last line was cut.
    func append(_ sample: SampleEvaluation) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var bytes: Data
        do {
            bytes = try encoder.encode(Line(key: key, sample: sample, sweep: sample.sweepIoU))
        } catch {
            throw InferenceError("cannot encode the results of '\(sample.name)': \(error)")
        }
        bytes.append(0x0A)
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw InferenceError("cannot write the results file '\(path)': \(String(cString: strerror(errno)).lowercased())") }
        defer { close(fd) }
        let end = lseek(fd, 0, SEEK_END)
        var last: UInt8 = 0x0A
        if end > 0 { _ = pread(fd, &last, 1, end - 1) }
        if last != 0x0A { bytes.insert(0x0A, at: 0) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw InferenceError("cannot write the results file '\(path)': \(String(cString: strerror(errno)).lowercased())")
        }
    }
}

extension Evaluation {
    /// Samples read at a time.
    static let chunk = 16

    /// The shard's samples of the held-out set at `data`: those in `results` taken from
    /// it, the others measured (and appended to it), then summarised in file-name order.
    static func evaluate(model: AGGANModel, data: String, options: ReadOptions, mode: ThresholdMode, tau: Float,
                         tiling: TilingOptions, scale: Double, shard: Shard,
                         results: EvaluationResultsFile?) throws -> EvaluationReport {
        guard tau.isFinite, tau >= 0, tau <= 1 else { throw InferenceError("tau must be in [0, 1], got \(tau)") }
        let all = try HeldOutSample.names(root: data)
        let names = shard.select(all, by: { $0 })
        guard !names.isEmpty else {
            throw InferenceError("shard \(shard) of the \(all.count) held-out samples in '\(data)' holds none")
        }
        var known = try results?.load().samples ?? [:]
        let todo = names.filter { known[$0] == nil }
        let evaluator = SampleEvaluator(model: model, mode: mode, tau: tau, tiling: tiling, scale: scale)
        for start in stride(from: 0, to: todo.count, by: chunk) {
            let part = Array(todo[start..<min(start + chunk, todo.count)])
            for sample in try HeldOutSample.load(root: data, names: part, options: options) {
                let measured = try evaluator.evaluate(sample)
                try results?.append(measured)
                known[sample.name] = measured
            }
        }
        let samples = names.compactMap { known[$0] }
        return EvaluationReport(direction: Direction.st.rawValue, mode: mode.rawValue, tau: Double(String(tau)) ?? Double(tau),
                                baselineCheckpoint: model.attentionIsOne, count: samples.count,
                                summary: summarize(samples), samples: samples)
    }
}
