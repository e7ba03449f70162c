// The one way aggan replaces a file: checkpoints, images, run files and reports.
import Foundation

/// Why an atomic write failed: the path, the errno and what was being done.
public struct AtomicWriteError: Error, CustomStringConvertible, Equatable, Sendable {
    public let path: String
    public let code: Int32
    /// "create", "write", "sync" or "rename".
    public let stage: String

    /// The system's text for `code`, lower-cased ("no space left on device").
    public var reason: String {
        if code == ENOENT && stage == "create" {
            let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
            return "folder '\(folder.isEmpty ? "/" : folder)' does not exist"
        }
        if code == EISDIR { return "is a directory" }
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text).lowercased()
    }

    public var description: String { "cannot write '\(path)': \(reason)" }
}

public enum AtomicFile {
    /// For fault tests only: when the environment variable `AGGAN_TEST_SLOW_WRITE_MS` holds
    /// a number of milliseconds, every write pauses that long halfway through its
    /// temporary file, so that a test can kill the process while a checkpoint is half
    /// written (`scripts/kill-resume.sh`). Unset, nothing changes.
    static let slowWriteMicroseconds: UInt32 = {
        guard let text = getenv("AGGAN_TEST_SLOW_WRITE_MS"), let ms = UInt32(String(cString: text)) else { return 0 }
        return min(ms, 60_000) * 1000
    }()

    /// Writes `bytes` to a new temporary file beside `path` (named `.NAME.PID.RANDOM.tmp`,
    /// which `RunDirectory.open` sweeps up after a crash), syncs it to disk, renames it
    /// over `path` and syncs the folder. A reader, a crash or a full disk never leaves a
    /// half-written `path`: it is either the old file or the new one. On failure the
    /// temporary file is removed.
    public static func write<Bytes: ContiguousBytes>(_ bytes: Bytes, to path: String) throws(AtomicWriteError) {
        let (temp, folder) = temporaryPath(for: path)
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AtomicWriteError(path: path, code: errno, stage: "create") }
        var failure: (Int32, String)?
        bytes.withUnsafeBytes { b in
            guard let base = b.baseAddress else { return }
            var done = 0, paused = slowWriteMicroseconds == 0
            while done < b.count {
                if !paused && done >= b.count / 2 { usleep(slowWriteMicroseconds); paused = true }
                let chunk = paused ? b.count - done : b.count / 2 - done
                let n = Foundation.write(fd, base + done, max(1, chunk))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = (errno, "write")
                    return
                }
                done += n
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = (errno, "sync") }
        if close(fd) != 0 && failure == nil { failure = (errno, "write") }
        try commit(temp, to: path, folder: folder, failure: failure)
    }

    /// The same guarantees for a library that writes files by name (libtiff): `body`
    /// writes a new file at the temporary path it is given; that file is then synced and
    /// renamed over `path`. When `body` throws, the temporary file is removed and the
    /// error passes through; `path` is untouched.
    public static func write(to path: String, using body: (String) throws -> Void) throws {
        let (temp, folder) = temporaryPath(for: path)
        do {
            try body(temp)
        } catch {
            unlink(temp)
            throw error
        }
        let fd = open(temp, O_RDONLY | O_CLOEXEC)
        var failure: (Int32, String)?
        if fd < 0 {
            failure = (errno, "create")
        } else {
            if fsync(fd) != 0 { failure = (errno, "sync") }
            close(fd)
        }
        try commit(temp, to: path, folder: folder, failure: failure)
    }

    /// `.NAME.PID.RANDOM.tmp` beside `path`, and `path`'s folder.
    private static func temporaryPath(for path: String) -> (temp: String, folder: String) {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temp = (slash == nil ? "" : (folder.isEmpty ? "/" : folder + "/"))
            + ".\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        return (temp, folder)
    }

    /// Renames the synced `temp` over `path` and syncs the folder, or removes `temp` and
    /// throws when an earlier stage failed.
    private static func commit(_ temp: String, to path: String, folder: String,
                               failure earlier: (Int32, String)?) throws(AtomicWriteError) {
        var failure = earlier
        if failure == nil && rename(temp, path) != 0 { failure = (errno, "rename") }
        if let (code, stage) = failure {
            unlink(temp)
            throw AtomicWriteError(path: path, code: code, stage: stage)
        }
        // The rename itself reaches the disk when the folder is synced.
        let dirFD = open(folder.isEmpty ? "/" : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }

    /// `write` for text (UTF-8).
    public static func write(text: String, to path: String) throws(AtomicWriteError) {
        try write(Array(text.utf8), to: path)
    }
}
