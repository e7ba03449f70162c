// Translating a whole screen of images (`aggan translate` over folders): the plan (folders
// walked, the relative layout kept, one shard taken), the record beside each output that
// makes a killed batch resumable, and the three-stage pipeline (read, translate, write)
// that keeps going past bad files.

import AGGAN
import Basics
import Dispatch
import Foundation
import Imaging
import Tensor

// MARK: - Plan

/// One input of a batch and what it becomes.
public struct BatchItem: Sendable, Equatable {
    /// The image file read.
    public let input: String
    /// The output's path under the output folder, for example `plate1/a01.png`: the
    /// input's path under the folder given (its file name for a file given by name),
    /// the ending changed to the output format's as `TranslationPlan` does.
    public let relative: String
    /// `outputDirectory/relative`.
    public let output: String
    /// The attention map beside it (`NAME_attention.png` or `.tif`), when asked for.
    public let attention: String?
    /// The output's format.
    public let format: ImageFileKind
    /// The record of how the output was made: `.NAME.aggan.json` beside it (hidden, and
    /// not an image, so folder listings of the results skip it).
    public var record: String {
        let slash = output.lastIndex(of: "/")
        let folder = slash.map { String(output[...$0]) } ?? ""
        let name = slash.map { String(output[output.index(after: $0)...]) } ?? output
        return folder + "." + name + ".aggan.json"
    }

    /// The files written for this item, outputs first, the record last.
    public var writtenFiles: [String] { [output] + (attention.map { [$0] } ?? []) + [record] }
}

/// The files a batch reads and writes: every image file of the inputs (folders walked
/// with `recursive`), sorted by input path, and this shard's part of them. Checked
/// before anything is written: inputs exist, no two outputs share a path, no output is
/// an input. Whether an output exists is decided per file when the batch runs.
public struct BatchPlan: Sendable, Equatable {
    /// This shard's items, in sorted order.
    public let items: [BatchItem]
    /// The number of items of all shards.
    public let total: Int
    /// The output folder.
    public let outputDirectory: String
    /// The shard taken.
    public let shard: Shard

    /// - Throws: `InferenceError` or `ImagingError` naming the file: an input is missing,
    ///   a folder holds no image file, two inputs would give the same output, an output
    ///   would be an input, an output path is a folder, the output folder is a file.
    public init(inputs: [String], outputDirectory: String, recursive: Bool = false, attentionMaps: Bool = false,
                format: ImageFileKind? = nil, shard: Shard = .all) throws {
        guard !inputs.isEmpty else { throw InferenceError("no input files given") }
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: outputDirectory, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw InferenceError("cannot write into '\(outputDirectory)': it is a file, not a folder")
        }
        let outputRoot = URL(fileURLWithPath: outputDirectory).standardizedFileURL.path
        var files: [(input: String, relative: String)] = []
        for input in inputs {
            guard fm.fileExists(atPath: input, isDirectory: &isDirectory) else {
                throw InferenceError("cannot read '\(input)': no such file or folder")
            }
            if !isDirectory.boolValue {
                files.append((input, String(input.split(separator: "/").last ?? Substring(input))))
            } else if recursive {
                files += try imageFiles(under: input, skipping: outputRoot)
            } else {
                let folder = try ImageFolder(directory: input)
                files += zip(folder.files, folder.names).map { ($0, $1) }
            }
        }
        let base = outputDirectory.hasSuffix("/") ? outputDirectory : outputDirectory + "/"
        let inputIdentities = Set(files.compactMap { fileIdentity($0.input) })
        var claimed: [String: String] = [:]  // output path -> the input it comes from
        var all: [BatchItem] = []
        for (input, relative) in files {
            let slash = relative.lastIndex(of: "/")
            let folder = slash.map { String(relative[...$0]) } ?? ""
            let name = slash.map { String(relative[relative.index(after: $0)...]) } ?? relative
            let kind = ImageFileKind(path: name)
            let out = format ?? kind ?? .png
            let stem = kind == nil ? name : String(name[..<name.lastIndex(of: ".")!])
            let outName = kind == out ? name : stem + out.fileExtension
            let item = BatchItem(input: input, relative: folder + outName, output: base + folder + outName,
                                 attention: attentionMaps ? base + folder + stem + "_attention" + out.fileExtension : nil,
                                 format: out)
            for path in item.writtenFiles {
                if let other = claimed[path] {
                    throw InferenceError("'\(input)' and '\(other)' would both be written to '\(path)'; translate them into different folders")
                }
                claimed[path] = input
                if let id = fileIdentity(path), inputIdentities.contains(id) {
                    throw InferenceError("refusing to write '\(path)': it is one of the inputs; choose another output folder")
                }
                if fm.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                    throw InferenceError("cannot write '\(path)': it is a folder")
                }
            }
            all.append(item)
        }
        items = shard.select(all, by: \.input)
        total = all.count
        self.outputDirectory = outputDirectory
        self.shard = shard
    }
}

extension BatchPlan {
    /// Removes the temporary files a killed batch left (`Basics.AtomicFile` names them
    /// `.NAME.PID.RANDOM.tmp`) for the files of this shard's items only, so that shards
    /// writing into the same folders never touch each other's writes in progress.
    func sweepTemporaryFiles() {
        var names: [String: Set<String>] = [:]  // folder -> file names of this shard's items
        for item in items {
            for path in item.writtenFiles {
                let slash = path.lastIndex(of: "/")
                let folder = slash.map { String(path[..<$0]) } ?? "."
                names[folder, default: []].insert(slash.map { String(path[path.index(after: $0)...]) } ?? path)
            }
        }
        for (folder, owned) in names {
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
            for entry in entries where entry.hasPrefix(".") && entry.hasSuffix(".tmp") {
                // .NAME.PID.RANDOM.tmp -> NAME
                let parts = entry.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
                guard parts.count >= 4, parts[parts.count - 2].allSatisfy(\.isNumber),
                      parts[parts.count - 3].allSatisfy(\.isNumber) else { continue }
                if owned.contains(parts.dropLast(3).joined(separator: ".")) { unlink(folder + "/" + entry) }
            }
        }
    }
}

/// The image files under `folder` and in its subfolders (hidden files and folders and
/// the folder `skipping`, the output, left out), with their paths relative to it.
private func imageFiles(under folder: String, skipping skipped: String) throws -> [(input: String, relative: String)] {
    let base = folder.hasSuffix("/") ? folder : folder + "/"
    guard let walker = FileManager.default.enumerator(atPath: folder) else {
        throw InferenceError("cannot read '\(folder)': cannot list the folder")
    }
    var found: [(String, String)] = []
    while let relative = walker.nextObject() as? String {
        let path = base + relative
        let name = relative.split(separator: "/").last.map(String.init) ?? relative
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
        if isDirectory.boolValue {
            if name.hasPrefix(".") || URL(fileURLWithPath: path).standardizedFileURL.path == skipped {
                walker.skipDescendants()
            }
            continue
        }
        if !name.hasPrefix("."), ImageFileKind(path: name) != nil { found.append((path, relative)) }
    }
    guard !found.isEmpty else {
        throw InferenceError("cannot read '\(folder)': no .png, .tif or .tiff files in the folder or its subfolders")
    }
    return found
}

// MARK: - Records: what makes a batch resumable

/// A digest of a file's bytes (64-bit FNV-1a and the size), to recognise the same
/// checkpoint again: `fnv1a64:0123456789abcdef:SIZE`.
public func fileDigest(_ path: String) throws -> String {
    guard let handle = FileHandle(forReadingAtPath: path) else {
        throw InferenceError("cannot read '\(path)': no such file or no permission")
    }
    defer { try? handle.close() }
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    var size = 0
    while true {
        let chunk: Data
        do {
            chunk = try handle.read(upToCount: 1 << 20) ?? Data()
        } catch {
            throw InferenceError("cannot read '\(path)': \(error.localizedDescription)")
        }
        if chunk.isEmpty { break }
        size += chunk.count
        chunk.withUnsafeBytes { bytes in
            for b in bytes {
                hash ^= UInt64(b)
                hash = hash &* 0x0000_0100_0000_01b3
            }
        }
    }
    return "fnv1a64:" + String(hash, radix: 16).leftPadded(to: 16) + ":\(size)"
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// What an output depends on: the checkpoint (its digest) and every option that changes
/// the pixels written. Two batches with equal settings write the same bytes.
public struct BatchSettings: Sendable, Equatable, Codable {
    /// `fileDigest` of the checkpoint.
    public var checkpoint: String
    /// The options by name (direction, mode, tau, tiling, format, bit depth, attention
    /// maps, how TIFF files are read).
    public var options: [String: String]

    /// The settings of `translator` writing `plan`'s kind of outputs.
    public init(checkpoint: String, translator: ImageTranslator, format: ImageFileKind?, bitDepth: Int?,
                attentionMaps: Bool, read: ReadOptions) {
        self.checkpoint = checkpoint
        options = [
            "direction": translator.direction.rawValue, "mode": translator.mode.rawValue,
            "tau": String(translator.tau), "scale": String(translator.scale),
            "max_pixels": String(translator.tiling.maxPixels), "tile": String(translator.tiling.tileSize),
            "overlap": String(translator.tiling.overlap),
            "format": format?.rawValue ?? "input", "bit_depth": bitDepth.map(String.init) ?? "input",
            "attention": String(attentionMaps),
            "axes": read.axes ?? "-", "channel": read.channel ?? "-", "normalize": read.normalization.description,
        ]
    }
}

/// The record beside an output (`BatchItem.record`). Written as `writing` before the
/// outputs are replaced and as `done` after all of them are in place (each write atomic),
/// so a kill anywhere leaves either a `done` record whose outputs are complete or a
/// record that says the outputs are not finished.
struct BatchRecord: Codable, Equatable {
    /// `writing` or `done`.
    var state: String
    var settings: BatchSettings
    /// The input's path as given, its size and modification time.
    var input: String
    var inputSize: UInt64
    var inputModified: Double
    /// File name -> size of each output (when `done`).
    var outputs: [String: UInt64]

    enum CodingKeys: String, CodingKey {
        case state, settings, input, inputSize = "input_size", inputModified = "input_modified", outputs
    }

    static func read(_ path: String) -> BatchRecord? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(BatchRecord.self, from: data)
    }

    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(encoder.encode(self) + Data("\n".utf8), to: path)
    }
}

/// Size and modification time of a file; nil when absent.
private func stamp(_ path: String) -> (size: UInt64, modified: Double)? {
    guard let a = try? FileManager.default.attributesOfItem(atPath: path),
          let size = (a[.size] as? NSNumber)?.uint64Value, let date = a[.modificationDate] as? Date else { return nil }
    return (size, date.timeIntervalSince1970)
}

private func fileName(_ path: String) -> String { String(path.split(separator: "/").last ?? Substring(path)) }

/// What to do with one item before reading it.
enum BatchDecision: Equatable {
    case translate, skip
    case refuse(String)

    /// Translate unless the outputs exist complete, from the same input, with the same
    /// settings (then skip); refuse outputs this batch did not make or made with other
    /// settings unless `force`.
    static func decide(_ item: BatchItem, settings: BatchSettings, force: Bool) -> BatchDecision {
        let outputs = [item.output] + (item.attention.map { [$0] } ?? [])
        if force { return .translate }
        let existing = outputs.filter { FileManager.default.fileExists(atPath: $0) }
        guard let record = BatchRecord.read(item.record) else {
            if let first = existing.first {
                return .refuse("cannot write '\(first)': it already exists and no record says aggan translate made it (use --force to replace it)")
            }
            return .translate
        }
        guard record.state == "done" else { return .translate }
        if record.settings != settings {
            if let first = existing.first {
                return .refuse("cannot write '\(first)': it was made with another checkpoint or other settings (use --force to replace it)")
            }
            return .translate
        }
        guard let input = stamp(item.input), input.size == record.inputSize, input.modified == record.inputModified,
              record.input == item.input else { return .translate }
        for path in outputs {
            guard let size = stamp(path)?.size, record.outputs[fileName(path)] == size else { return .translate }
        }
        return .skip
    }
}

// MARK: - Running

/// The outcome of one item.
public struct BatchOutcome: Sendable {
    public enum Status: String, Sendable { case done, skipped, failed }
    public let item: BatchItem
    public let status: Status
    /// Why it failed: one line naming the file.
    public let reason: String?
    /// Tiles used (0 unless done).
    public let tiles: Int
}

/// Counts of a batch.
public struct BatchSummary: Sendable, Equatable {
    public var done = 0, skipped = 0, failed = 0
    /// True when the batch stopped before its last item (`report` returned false).
    public var stopped = false
    public var processed: Int { done + skipped + failed }
}

/// A first-in first-out queue of at most `capacity` values between two threads: `send`
/// waits while it is full, `receive` while it is empty, and returns nil once the queue
/// is closed and empty.
final class BoundedChannel<Value: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var buffer: [Value] = []
    private var closed = false
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func send(_ value: Value) {
        condition.lock()
        defer { condition.unlock() }
        while buffer.count >= capacity && !closed { condition.wait() }
        buffer.append(value)
        condition.broadcast()
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    func receive() -> Value? {
        condition.lock()
        defer { condition.unlock() }
        while buffer.isEmpty && !closed { condition.wait() }
        if buffer.isEmpty { return nil }
        condition.broadcast()
        return buffer.removeFirst()
    }
}

/// A flag set once by any thread.
private final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { _ = setFirst() }
    /// Sets the flag; true for the call that set it.
    func setFirst() -> Bool { lock.lock(); defer { lock.unlock() }; let first = !value; value = true; return first }
}

/// The translator shared by the batch's translating threads. They only read it: the
/// forward pass reads the weights and records no graph; the settings are not changed
/// while `runBatch` runs (it is a method of the translator, so its caller is inside it).
private final class SharedTranslator: @unchecked Sendable {
    let translator: ImageTranslator
    init(_ translator: ImageTranslator) { self.translator = translator }
}

/// An item between the stages: read, translated, or already decided.
private enum Staged: Sendable {
    case read(BatchItem, LoadedImage)
    /// A large TIFF, read, translated and written band by band in the translate stage.
    case streamed(BatchItem)
    case translated(BatchItem, [TranslatedImage], depth: Int, tiff: TIFFSource?)
    case finished(BatchOutcome)
}

extension ImageTranslator {
    /// Translates `plan`'s items in order, going past bad inputs, skipping outputs
    /// already made with the same `settings` (unless `force`) and writing each output,
    /// attention map and record atomically (see `BatchRecord`). Outputs are written as
    /// `run` writes them.
    ///
    /// With `pipeline`, inputs are read on one thread and outputs written (in order) on
    /// another while `workers = min(threads, items)` threads translate one file each
    /// (with `threads / workers` compute threads each: one, unless there are fewer files
    /// than threads). A small image is not translated faster by a second OpenMP thread,
    /// but two images on one thread each are. The stages share `workers` slots and
    /// compute only while holding one, so the cores are never oversubscribed: with
    /// small images reading and writing take a slot, with large ones a second
    /// translation does. At most `workers + 4` items are read and not yet written, so
    /// memory is bounded. Without `pipeline`, or for a single item, one item at a time
    /// on this thread at its thread count. A file's bytes do not depend on the way it was translated (the
    /// kernels give the same bits at every thread count).
    ///
    /// - Parameters:
    ///   - threads: compute threads of the whole batch (with `pipeline`).
    ///   - warning: called at most once, when colour inputs are converted to gray.
    ///   - report: called once per item, in order, on one thread at a time; returning
    ///     false stops the batch (items after it are neither written nor reported).
    public func runBatch(_ plan: BatchPlan, settings: BatchSettings, force: Bool = false, bitDepth: Int? = nil,
                         read: ReadOptions = ReadOptions(), pipeline: Bool = true, threads: Int = Compute.threads,
                         warning: @escaping @Sendable (String) -> Void = { _ in },
                         report: @escaping @Sendable (BatchOutcome) -> Bool = { _ in true }) throws -> BatchSummary {
        if let bitDepth, bitDepth != 8 && bitDepth != 16 {
            throw InferenceError("bit depth must be 8 or 16, got \(bitDepth)")
        }
        plan.sweepTemporaryFiles()
        let stop = StopFlag()
        let summary = LockedSummary()
        let folders = FolderMaker()
        let (scale, tiling) = (self.scale, self.tiling)
        @Sendable func readStage(_ item: BatchItem) -> Staged {
            switch BatchDecision.decide(item, settings: settings, force: force) {
            case .skip: return .finished(BatchOutcome(item: item, status: .skipped, reason: nil, tiles: 0))
            case .refuse(let reason): return .finished(BatchOutcome(item: item, status: .failed, reason: reason, tiles: 0))
            case .translate:
                do {
                    if try Self.streamedReader(input: item.input, format: item.format, read: read, scale: scale, tiling: tiling) != nil {
                        return .streamed(item)
                    }
                    return .read(item, try LoadedImage(path: item.input, options: read))
                } catch {
                    return .finished(BatchOutcome(item: item, status: .failed, reason: "\(error)", tiles: 0))
                }
            }
        }
        let warned = StopFlag()  // set once the colour warning is given
        let shared = SharedTranslator(self)
        @Sendable func warnOnce(_ input: String) {
            if warned.setFirst() {
                warning("colour input (first: '\(input)') converted to gray by luminance for a 1-channel model; colour is lost")
            }
        }
        @Sendable func translateStage(_ staged: Staged) -> Staged {
            let translator = shared.translator
            if case .streamed(let item) = staged {
                do {
                    try folders.make(item.output)
                    var summary: TranslationSummary?
                    try writeRecorded(item, settings: settings) {
                        guard let reader = try translator.streamedReader(input: item.input, format: item.format, read: read) else {
                            throw InferenceError("cannot read '\(item.input)': it changed while the batch ran")
                        }
                        summary = try translator.translateStreamed(reader, to: item.output, attention: item.attention)
                    }
                    if summary?.conversion == .luminance { warnOnce(item.input) }
                    return .finished(BatchOutcome(item: item, status: .done, reason: nil, tiles: summary?.tiles ?? 1))
                } catch {
                    return .finished(BatchOutcome(item: item, status: .failed, reason: "\(error)", tiles: 0))
                }
            }
            guard case .read(let item, let loaded) = staged else { return staged }
            func failed(_ reason: String) -> Staged {
                .finished(BatchOutcome(item: item, status: .failed, reason: reason, tiles: 0))
            }
            if item.format == .png && loaded.planes.count > 1 {
                return failed("cannot write '\(item.output)': '\(item.input)' has \(loaded.planes.count) planes (\(loaded.tiff?.planeAxes.description ?? "")) and a PNG holds one; use --format tiff")
            }
            var results: [TranslatedImage] = []
            do {
                for image in loaded.planes {
                    if try image.conversion(toChannels: translator.model.channels) == .luminance { warnOnce(item.input) }
                    // TIFF outputs take 16-bit levels; the source's type is restored on writing.
                    results.append(try translator.translate(image, bitDepth: item.format == .tiff ? 16 : bitDepth))
                }
            } catch {
                return failed("cannot translate '\(item.input)': \(error)")
            }
            return .translated(item, results, depth: bitDepth ?? loaded.planes[0].bitDepth, tiff: loaded.tiff)
        }
        let channels = model.channels
        @Sendable func writeStage(_ staged: Staged) {
            guard !stop.isSet else { return }
            let outcome: BatchOutcome
            switch staged {
            case .finished(let o): outcome = o
            case .read(let item, _), .streamed(let item):  // not reached: the translate stage finishes both
                outcome = BatchOutcome(item: item, status: .failed, reason: "internal error: not translated", tiles: 0)
            case .translated(let item, let results, let depth, let tiff):
                do {
                    try folders.make(item.output)
                    try writeOutputs(item, results, depth: depth, tiff: tiff, channels: channels, settings: settings)
                    outcome = BatchOutcome(item: item, status: .done, reason: nil, tiles: results.last?.tiles ?? 1)
                } catch {
                    outcome = BatchOutcome(item: item, status: .failed, reason: "\(error)", tiles: 0)
                }
            }
            summary.count(outcome.status)
            if !report(outcome) {
                stop.set()
                if outcome.item != plan.items.last { summary.markStopped() }
            }
        }

        // One file has nothing to overlap with: it is translated on this thread, whose
        // malloc heap is the process's main one. On a pipeline thread of its own it would
        // get a fresh malloc arena, whose 64 MiB heaps a streamed 10,000 px wide image's
        // band buffers do not share well (peak RSS 202 instead of 157 MiB, large-tiff.sh).
        if !pipeline || plan.items.count == 1 {
            for item in plan.items {
                if stop.isSet { break }
                writeStage(translateStage(readStage(item)))
            }
            return summary.value
        }
        let items = plan.items
        let workers = max(1, min(threads, items.count))
        let workerThreads = max(1, threads / workers)
        let toTranslate = BoundedChannel<(Int, Staged)>(capacity: 2)
        let toWrite = BoundedChannel<(Int, Staged)>(capacity: 2)
        // Tickets bound the items read and not yet written: the writer waits for them in
        // order, so the others wait in its queue.
        let tickets = DispatchSemaphore(value: workers + 4)
        // Every stage computes while it holds a slot, so at most `workers` threads compute at
        // once: small images leave a slot to reading and writing, large ones to a second
        // translation (measured in docs/PERFORMANCE.md).
        let cpu = DispatchSemaphore(value: workers)
        let group = DispatchGroup(), translating = DispatchGroup()
        startThread(group) {
            for (index, item) in items.enumerated() {
                tickets.wait()
                // (Dispatch traps when a semaphore goes below its start value at the end.)
                if stop.isSet { tickets.signal(); break }
                cpu.wait()
                let staged = readStage(item)
                cpu.signal()
                toTranslate.send((index, staged))
            }
            toTranslate.close()
        }
        for _ in 0..<workers {
            startThread(translating) {
                Compute.setThreads(workerThreads)
                while let (index, staged) = toTranslate.receive() {
                    // After a stop, pass items on untranslated so the writer's order and
                    // the reader's tickets still advance; the writer drops them.
                    if stop.isSet { toWrite.send((index, staged)); continue }
                    cpu.wait()
                    let translated = translateStage(staged)
                    cpu.signal()
                    toWrite.send((index, translated))
                }
            }
        }
        startThread(group) {
            var waiting: [Int: Staged] = [:]
            var next = 0
            while let (index, staged) = toWrite.receive() {
                waiting[index] = staged
                while let staged = waiting.removeValue(forKey: next) {
                    cpu.wait()
                    writeStage(staged)
                    cpu.signal()
                    next += 1
                    tickets.signal()
                }
            }
        }
        translating.wait()
        toWrite.close()
        group.wait()
        return summary.value
    }
}

/// Runs `body` on a thread of its own, inside `group`. The batch's stages wait on each
/// other most of the time; Dispatch's pool has as many threads as cores and would hold
/// back a stage while two others wait.
private func startThread(_ group: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
    group.enter()
    Thread {
        body()
        group.leave()
    }.start()
}

/// The summary counted on the writing thread, read at the end.
private final class LockedSummary: @unchecked Sendable {
    private let lock = NSLock()
    private var summary = BatchSummary()
    func count(_ status: BatchOutcome.Status) {
        lock.lock()
        switch status {
        case .done: summary.done += 1
        case .skipped: summary.skipped += 1
        case .failed: summary.failed += 1
        }
        lock.unlock()
    }
    func markStopped() { lock.lock(); summary.stopped = true; lock.unlock() }
    var value: BatchSummary { lock.lock(); defer { lock.unlock() }; return summary }
}

/// Creates each output's folder once.
private final class FolderMaker: @unchecked Sendable {
    private let lock = NSLock()
    private var made: Set<String> = []
    func make(_ file: String) throws {
        let folder = file.lastIndex(of: "/").map { String(file[..<$0]) } ?? "."
        lock.lock()
        defer { lock.unlock() }
        guard !made.contains(folder) else { return }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw InferenceError("cannot create the output folder '\(folder)'")
        }
        made.insert(folder)
    }
}

/// The record as `writing`, the outputs as `ImageTranslator.run` writes them, then the
/// record as `done` with their sizes.
private func writeOutputs(_ item: BatchItem, _ results: [TranslatedImage], depth: Int, tiff: TIFFSource?,
                          channels: Int, settings: BatchSettings) throws {
    try writeRecorded(item, settings: settings) {
        try writeTranslated(results, format: item.format, output: item.output, attention: item.attention, depth: depth,
                            tiff: tiff, channels: channels)
    }
}

/// The record as `writing`, then `write` (which writes the item's outputs), then the
/// record as `done` with the outputs' sizes.
private func writeRecorded(_ item: BatchItem, settings: BatchSettings, _ write: () throws -> Void) throws {
    guard let input = stamp(item.input) else { throw InferenceError("cannot read '\(item.input)': it disappeared") }
    var record = BatchRecord(state: "writing", settings: settings, input: item.input, inputSize: input.size,
                             inputModified: input.modified, outputs: [:])
    try record.write(to: item.record)
    try write()
    for path in [item.output] + (item.attention.map { [$0] } ?? []) {
        guard let size = stamp(path)?.size else { throw InferenceError("cannot read back '\(path)' after writing it") }
        record.outputs[fileName(path)] = size
    }
    record.state = "done"
    try record.write(to: item.record)
}

