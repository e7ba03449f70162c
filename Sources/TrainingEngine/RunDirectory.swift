import AGGAN
import Basics
import Foundation

/// Where a run's data came from, so `train --resume RUN_DIR` needs nothing else.
public struct RunInfo: Codable, Sendable, Equatable {
    public var data: String?
    public var domainA: String?
    public var domainB: String?
    public var microscopyAugmentation: Bool
    /// `--axes` and `--channel` for the TIFF files (nil: not given).
    public var axes: String?
    public var channel: String?

    public init(data: String?, domainA: String?, domainB: String?, microscopyAugmentation: Bool,
                axes: String? = nil, channel: String? = nil) {
        self.data = data; self.domainA = domainA; self.domainB = domainB
        self.microscopyAugmentation = microscopyAugmentation
        self.axes = axes; self.channel = channel
    }
}

/// A run's folder: `run.json`, `config.json`, `metrics.jsonl`, `loss_log.txt`,
/// `checkpoints/step-NNNNNNN.safetensors` (the last few kept), `previews/` and `tb/`.
public struct RunDirectory: Sendable {
    public let path: String

    public init(_ path: String) { self.path = path }

    public var name: String { URL(fileURLWithPath: path).standardized.lastPathComponent }
    public var configFile: String { path + "/config.json" }
    public var runInfoFile: String { path + "/run.json" }
    public var metricsFile: String { path + "/metrics.jsonl" }
    public var lossLogFile: String { path + "/loss_log.txt" }
    public var checkpointsDir: String { path + "/checkpoints" }
    public var previewsDir: String { path + "/previews" }
    /// TensorBoard event files (`events.out.tfevents.*`), one per training session.
    public var tensorBoardDir: String { path + "/tb" }

    public func checkpointPath(step: Int) -> String {
        checkpointsDir + "/" + String(format: "step-%07d.safetensors", step)
    }

    /// Creates the folders (an existing run folder is fine), takes the folder's lock (so a
    /// second process cannot write the same run: its `open` fails with a message), and
    /// only then removes temporary files that a killed run left half-written. The lock is
    /// held while the returned value lives.
    public func open() throws -> RunLock {
        for dir in [path, checkpointsDir, previewsDir] {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw EngineError("cannot create run folder '\(dir)': \(error.localizedDescription)")
            }
        }
        let lock = try RunLock(self)
        for dir in [path, checkpointsDir, previewsDir] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasPrefix(".") && name.contains(".tmp") {
                try? FileManager.default.removeItem(atPath: dir + "/" + name)
            }
        }
        return lock
    }

    public var lockFile: String { path + "/run.lock" }

    /// Checkpoints as (step, path), oldest first.
    public func checkpoints() -> [(step: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpointsDir)) ?? []
        return names.compactMap { n -> (Int, String)? in
            guard n.hasPrefix("step-"), n.hasSuffix(".safetensors"),
                  let step = Int(n.dropFirst(5).dropLast(12)) else { return nil }
            return (step, checkpointsDir + "/" + n)
        }.sorted { $0.0 < $1.0 }.map { (step: $0.0, path: $0.1) }
    }

    /// Deletes all but the newest `keep` checkpoints.
    public func prune(keep: Int) {
        for c in checkpoints().dropLast(max(1, keep)) { try? FileManager.default.removeItem(atPath: c.path) }
    }

    public func writeConfig(_ config: Config) throws {
        try AtomicFile.write(Self.json(config), to: configFile)
    }

    public func writeRunInfo(_ info: RunInfo) throws {
        try AtomicFile.write(Self.json(info), to: runInfoFile)
    }

    /// The run's `run.json`; the error says when the folder is not a run folder.
    public func readRunInfo() throws -> RunInfo {
        guard let data = FileManager.default.contents(atPath: runInfoFile),
              let info = try? JSONDecoder().decode(RunInfo.self, from: data) else {
            throw EngineError("'\(path)' is not a run folder (no readable run.json)")
        }
        return info
    }

    private static func json<T: Encodable>(_ value: T) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try enc.encode(value)
    }
}

/// An exclusive lock on a run folder (`flock` on `run.lock`, which holds the holder's
/// pid), released when this value is freed or the process ends, however it ends: a killed
/// run leaves no stale lock (its pid stays in the file until the next holder writes its own).
public final class RunLock: @unchecked Sendable {
    private let fd: Int32

    init(_ dir: RunDirectory) throws {
        fd = Foundation.open(dir.lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw EngineError("cannot open '\(dir.lockFile)': \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno  // before close() can change it
            let holder = Self.pid(in: fd).map { "pid \($0), " } ?? ""
            close(fd)
            throw EngineError(code == EWOULDBLOCK ? "'\(dir.path)' is in use by another aggan process (\(holder)it holds run.lock)"
                                                  : "cannot lock '\(dir.lockFile)': \(String(cString: strerror(code)))")
        }
        // The holder's pid, for the message of a refused second writer.
        let text = Array("\(getpid())\n".utf8)
        if ftruncate(fd, 0) == 0 { _ = pwrite(fd, text, text.count, 0) }
    }

    /// The pid written in the lock file by its holder, if there is one.
    private static func pid(in fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 16)
        let n = pread(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    deinit { close(fd) }
}
