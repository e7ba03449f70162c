// How `aggan translate` runs a batch: --recursive, --shard, --fail-fast, --log, the
// pipeline switch, and what it prints (a progress line on a terminal, plain lines
// otherwise, one line per failure, a summary).
import ArgumentParser
import Basics
import Foundation
import Imaging
import Lab

/// `--shard K/N` (translate and eval).
struct ShardOption: ParsableArguments {
    @Option(help: ArgumentHelp("Take shard K of N of the inputs sorted by path (K from 0 to N-1, as SLURM_ARRAY_TASK_ID of --array=0-(N-1)).",
                               valueName: "K/N"))
    var shard: String?

    func validate() throws {
        if let shard { do { _ = try Shard(parsing: shard) } catch { throw ValidationError("\(error)") } }
    }

    var value: Shard { (try? shard.map(Shard.init(parsing:))) ?? nil ?? .all }
}

struct BatchOptions: ParsableArguments {
    @Flag(help: "Also translate the images in the input folders' subfolders, keeping their layout under --output.")
    var recursive = false
    @OptionGroup var shard: ShardOption
    @Flag(help: "Stop at the first file that fails (default: report it and go on).") var failFast = false
    @Option(help: "Append one JSON line per file (input, output, status, reason) to this file.") var log: String?
    @Flag(help: "Read, translate and write one file at a time on one thread (for measuring the pipeline).")
    var noPipeline = false

    /// Runs the batch and prints as it goes; throws `ExitCode.failure` when a file failed.
    func run(_ translator: ImageTranslator, _ plan: BatchPlan, settings: BatchSettings, force: Bool,
             bitDepth: Int?, read: ReadOptions) throws {
        let logFile = try log.map(JSONLinesLog.init(path:))
        let reporter = BatchReporter(total: plan.items.count, log: logFile, failFast: failFast)
        let summary = try translator.runBatch(plan, settings: settings, force: force, bitDepth: bitDepth, read: read,
                                              pipeline: !noPipeline, warning: { message in
                                                  reporter.line("warning: \(message)", error: true)
                                              }, report: reporter.report)
        reporter.finish()
        let elapsed = reporter.elapsed
        let files = "\(plan.items.count) file\(plan.items.count == 1 ? "" : "s")"
        let scope = plan.shard.count > 1 ? "shard \(plan.shard) (\(files) of \(plan.total))" : files
        let rate = summary.done > 0 ? ", \(Format.rate(Double(summary.done) / max(elapsed, 1e-9))) files/s" : ""
        print("\(scope): \(summary.done) done, \(summary.skipped) skipped, \(summary.failed) failed in \(Format.duration(elapsed))\(rate)"
              + (summary.stopped ? "; stopped at the first failure (--fail-fast)" : ""))
        if let failure = reporter.logFailure {
            throw ValidationError(failure)
        }
        if summary.failed > 0 { throw ExitCode.failure }
    }
}

/// Appends lines to a file, one `write` each (O_APPEND), so that several shards may
/// share one log.
final class JSONLinesLog: @unchecked Sendable {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ValidationError("cannot open the log '\(path)': \(String(cString: strerror(errno)).lowercased())")
        }
    }

    deinit { close(fd) }

    func append(_ object: [String: String]) throws {
        var data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        data.append(0x0A)
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == data.count else {
            throw ValidationError("cannot write the log '\(path)': \(String(cString: strerror(errno)).lowercased())")
        }
    }
}

/// What the batch prints: on a terminal, a progress line on stderr (files/s, ETA)
/// rewritten in place, failures above it; otherwise one plain line per file. Called
/// from one thread at a time (the batch's writer); the lock guards the counters.
final class BatchReporter: @unchecked Sendable {
    private let lock = NSLock()
    private let total: Int
    private let log: JSONLinesLog?
    private let failFast: Bool
    private let terminal = isatty(STDERR_FILENO) != 0
    private let start = Date()
    private var processed = 0, translated = 0, skipped = 0, failed = 0
    private var lastDraw = Date.distantPast
    private(set) var logFailure: String?

    init(total: Int, log: JSONLinesLog?, failFast: Bool) {
        self.total = total
        self.log = log
        self.failFast = failFast
    }

    var elapsed: Double { Date().timeIntervalSince(start) }

    /// One line, above the progress line on a terminal.
    func line(_ text: String, error: Bool) {
        lock.lock()
        defer { lock.unlock() }
        emit(text, error: error)
    }

    private func emit(_ text: String, error: Bool) {
        if terminal {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        }
        if error {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        } else {
            FileHandle.standardOutput.write(Data((text + "\n").utf8))
        }
    }

    /// Records one outcome; false stops the batch (--fail-fast, or the log cannot be written).
    func report(_ outcome: BatchOutcome) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        processed += 1
        let item = outcome.item
        let position = "[\(processed)/\(total)]"
        var entry = ["input": item.input, "output": item.output, "status": outcome.status.rawValue]
        switch outcome.status {
        case .done:
            translated += 1
            if !terminal {
                emit("\(position) \(item.input) -> \(item.output)\(outcome.tiles > 1 ? " (\(outcome.tiles) tiles)" : "")", error: false)
            }
        case .skipped:
            skipped += 1
            if !terminal { emit("\(position) \(item.input): skipped, \(item.output) is up to date", error: false) }
        case .failed:
            failed += 1
            let reason = outcome.reason ?? "unknown error"
            entry["reason"] = reason
            emit("\(position) failed: " + (reason.contains(item.input) ? reason : "'\(item.input)': \(reason)"), error: true)
        }
        if let log {
            do { try log.append(entry) } catch { logFailure = "\(error)" }
        }
        if terminal && (Date().timeIntervalSince(lastDraw) > 0.1 || processed == total) { draw() }
        return logFailure == nil && !(failFast && outcome.status == .failed)
    }

    /// files/s over the files translated or failed (skips take no time); the ETA from it.
    private func draw() {
        lastDraw = Date()
        let seconds = elapsed, worked = Double(translated + failed)
        let rate = worked > 0 ? worked / max(seconds, 1e-9) : 0
        let eta = rate > 0 ? Double(total - processed) / rate : nil
        let text = "\r\u{1B}[K\(processed)/\(total) files  \(Format.rate(rate)) files/s  ETA \(Format.duration(eta))"
            + "  (\(translated) done, \(skipped) skipped, \(failed) failed)"
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Ends the progress line.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if terminal && processed > 0 { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
