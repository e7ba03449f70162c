import AGGAN
import Basics
import Foundation
import Imaging
@testable import Lab
import XCTest

/// `--shard`, batch plans over folders, and resumable batches (scripts/batch-resume.sh
/// kills the real binary; these check the parts one by one).
final class BatchTranslationTests: XCTestCase {
    private typealias F = InferenceFixture

    func testShardParsing() throws {
        XCTAssertEqual(try Shard(parsing: "0/4"), try Shard(index: 0, count: 4))
        XCTAssertEqual(try Shard(parsing: "3/4").index, 3)
        XCTAssertEqual(try Shard(parsing: " 2 / 5 ").description, "2/5")
        F.assertThrows(["K must be in 0...3", "got 4", "--array=0-3"]) { _ = try Shard(parsing: "4/4") }
        F.assertThrows(["K must be in 0...3", "got -1"]) { _ = try Shard(parsing: "-1/4") }
        F.assertThrows(["N must be at least 1"]) { _ = try Shard(parsing: "0/0") }
        for bad in ["", "1", "1/", "/2", "a/b", "1/2/3", "1.0/2"] {
            F.assertThrows(["--shard takes K/N"]) { _ = try Shard(parsing: bad) }
        }
    }

    /// N shards of the same list, each taken on its own, together hold every item exactly
    /// once, whatever order the list came in, each within one item of the others' size.
    func testShardsCoverEveryItemExactlyOnce() throws {
        var rng = SplitMix64(seed: 19)
        for size in [0, 1, 2, 9, 37, 200] {
            let paths = (0..<size).map { "in/plate\($0 % 3)/img\(String(format: "%04d", ($0 * 7919) % 10007)).png" }
            for n in [1, 2, 3, 4, 7, 16, 250] {
                var taken: [String] = []
                var sizes: [Int] = []
                for k in 0..<n {
                    // Each task lists the files in its own order.
                    var mine = paths
                    for i in stride(from: mine.count - 1, to: 0, by: -1) { mine.swapAt(i, rng.nextInt(below: i + 1)) }
                    let part = try Shard(index: k, count: n).select(mine, by: { $0 })
                    XCTAssertEqual(part, part.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
                    taken += part
                    sizes.append(part.count)
                }
                XCTAssertEqual(taken.count, size, "\(n) shards of \(size)")
                XCTAssertEqual(Set(taken), Set(paths), "\(n) shards of \(size)")
                XCTAssertLessThanOrEqual((sizes.max() ?? 0) - (sizes.min() ?? 0), 1)
            }
        }
    }

    /// A folder with two subfolders and the output folder inside it.
    private func screen(_ dir: URL, count: Int = 6) throws -> String {
        let input = dir.appendingPathComponent("in").path
        for i in 0..<count {
            let folder = input + (i % 2 == 0 ? "/p1" : "/p2/deep")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try F.cells(width: 20 + i, height: 16, seed: UInt64(i + 1)).writePNG(to: folder + "/f\(i).png")
        }
        return input
    }

    func testRecursivePlanKeepsTheLayoutAndSkipsTheOutputFolder() throws {
        let dir = try F.folder(self)
        let input = try screen(dir)
        let output = input + "/results"
        let plan = try BatchPlan(inputs: [input], outputDirectory: output, recursive: true, attentionMaps: true)
        XCTAssertEqual(plan.items.map(\.relative), ["p1/f0.png", "p1/f2.png", "p1/f4.png",
                                                   "p2/deep/f1.png", "p2/deep/f3.png", "p2/deep/f5.png"])
        XCTAssertEqual(plan.items[3].output, output + "/p2/deep/f1.png")
        XCTAssertEqual(plan.items[3].attention, output + "/p2/deep/f1_attention.png")
        XCTAssertEqual(plan.items[3].record, output + "/p2/deep/.f1.png.aggan.json")
        // Results already inside the input folder are not inputs on a rerun.
        try FileManager.default.createDirectory(atPath: output + "/p1", withIntermediateDirectories: true)
        try F.cells(width: 8, height: 8).writePNG(to: output + "/p1/f0.png")
        XCTAssertEqual(try BatchPlan(inputs: [input], outputDirectory: output, recursive: true).total, 6)
        // Without --recursive a folder's own files only: here none.
        F.assertThrows(["no .png, .tif or .tiff"]) { _ = try BatchPlan(inputs: [input], outputDirectory: output) }
        // Two inputs that land on the same output.
        F.assertThrows(["would both be written to"]) {
            _ = try BatchPlan(inputs: [input + "/p1/f0.png", output + "/p1/f0.png"], outputDirectory: dir.path + "/o")
        }
        F.assertThrows(["it is one of the inputs"]) {
            _ = try BatchPlan(inputs: [input + "/p1"], outputDirectory: input + "/p1")
        }
        let parts = try (0..<4).map { try BatchPlan(inputs: [input], outputDirectory: output, recursive: true,
                                                    shard: Shard(index: $0, count: 4)) }
        XCTAssertEqual(parts.map(\.items.count), [2, 2, 1, 1])
        XCTAssertEqual(Set(parts.flatMap(\.items).map(\.input)).count, 6)
        XCTAssertTrue(parts.allSatisfy { $0.total == 6 })
    }

    /// Every file under `root` (hidden ones included) and its bytes.
    private func tree(_ root: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let walker = FileManager.default.enumerator(atPath: root)
        while let relative = walker?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
                out[relative] = try Data(contentsOf: URL(fileURLWithPath: root + "/" + relative))
            }
        }
        return out
    }

    func testBatchGoesOnSkipsWhatIsDoneAndRefusesForeignFiles() throws {
        let dir = try F.folder(self)
        let input = try screen(dir)
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: input + "/p1/f2.png"))
        let checkpoint = try F.checkpoint(in: dir)
        let (model, _, _) = try Checkpoint.loadModel(checkpoint)
        let translator = ImageTranslator(model: model)
        let settings = BatchSettings(checkpoint: try fileDigest(checkpoint), translator: translator, format: nil,
                                     bitDepth: nil, attentionMaps: true, read: ReadOptions())
        // Three files translated at once (three threads of one compute thread each), on any machine.
        func run(_ output: String, pipeline: Bool = true, force: Bool = false, settings: BatchSettings? = nil,
                 stopAtFailure: Bool = false, threads: Int = 3) throws -> (BatchSummary, [BatchOutcome]) {
            let plan = try BatchPlan(inputs: [input], outputDirectory: output, recursive: true, attentionMaps: true)
            let seen = OutcomeList()
            let summary = try translator.runBatch(plan, settings: settings ?? BatchSettings(
                checkpoint: try fileDigest(checkpoint), translator: translator, format: nil, bitDepth: nil,
                attentionMaps: true, read: ReadOptions()), force: force, pipeline: pipeline, threads: threads, report: { outcome in
                seen.append(outcome)
                return !(stopAtFailure && outcome.status == .failed)
            })
            return (summary, seen.value)
        }
        let a = dir.path + "/a", b = dir.path + "/b"
        let (first, outcomes) = try run(a)
        XCTAssertEqual([first.done, first.skipped, first.failed], [5, 0, 1])
        XCTAssertEqual(outcomes.map(\.item.relative), ["p1/f0.png", "p1/f2.png", "p1/f4.png",
                                                       "p2/deep/f1.png", "p2/deep/f3.png", "p2/deep/f5.png"])
        let failure = try XCTUnwrap(outcomes[1].reason)
        XCTAssertTrue(failure.contains(input + "/p1/f2.png"), failure)
        XCTAssertEqual(try tree(a).count, 15)  // 5 outputs, 5 attention maps, 5 records

        // The same bytes, reported in the same order, one file at a time on this thread.
        let (_, sequential) = try run(b, pipeline: false)
        XCTAssertEqual(sequential.map(\.item.relative), outcomes.map(\.item.relative))
        XCTAssertEqual(try tree(a), try tree(b))

        // A rerun skips; an unfinished record, a missing or truncated output is redone.
        XCTAssertEqual(try run(a).0, BatchSummary(done: 0, skipped: 5, failed: 1))
        let f4 = a + "/p1/f4.png", record = a + "/p1/.f4.png.aggan.json"
        let done = try String(contentsOfFile: record, encoding: .utf8)
        try done.replacingOccurrences(of: "\"state\":\"done\"", with: "\"state\":\"writing\"")
            .write(toFile: record, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: a + "/p2/deep/f3_attention.png")
        let good = try Data(contentsOf: URL(fileURLWithPath: a + "/p2/deep/f5.png"))
        try good.prefix(20).write(to: URL(fileURLWithPath: a + "/p2/deep/f5.png"))
        XCTAssertEqual(try run(a).0, BatchSummary(done: 3, skipped: 2, failed: 1))
        XCTAssertEqual(try tree(a), try tree(b))

        // Other settings or a file without a record: refused unless --force.
        var other = settings
        other.options["mode"] = "binary"
        let (refused, why) = try run(a, settings: other)
        XCTAssertEqual(refused, BatchSummary(done: 0, skipped: 0, failed: 6))
        XCTAssertTrue(why[0].reason?.contains("another checkpoint or other settings") ?? false, "\(why[0].reason ?? "")")
        try FileManager.default.removeItem(atPath: record)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: f4))
        let (_, foreign) = try run(a)
        XCTAssertTrue(foreign[2].reason?.contains("no record says aggan translate made it") ?? false)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: f4)), Data("mine".utf8))
        XCTAssertEqual(try run(a, force: true).0, BatchSummary(done: 5, skipped: 0, failed: 1))
        XCTAssertEqual(try tree(a), try tree(b))

        // A false from `report` stops the batch there; nothing after it is written.
        let c = dir.path + "/c"
        let (stopped, seen) = try run(c, stopAtFailure: true)
        XCTAssertEqual(stopped, BatchSummary(done: 1, skipped: 0, failed: 1, stopped: true))
        XCTAssertEqual(seen.count, 2)
        XCTAssertEqual(try tree(c).keys.sorted(), ["p1/.f0.png.aggan.json", "p1/f0.png", "p1/f0_attention.png"])
    }

    /// A batch that stops early while its reader waits for room (16 files, at most 5 held
    /// with one thread) ends cleanly: the reader gives its turn back (Dispatch traps on a
    /// semaphore left below its start value) and nothing after the stop is written.
    func testABatchStoppedWhileItsReaderWaitsEndsCleanly() throws {
        let dir = try F.folder(self)
        let input = try screen(dir, count: 16)
        let checkpoint = try F.checkpoint(in: dir)
        let translator = ImageTranslator(model: try Checkpoint.loadModel(checkpoint).model)
        let settings = BatchSettings(checkpoint: try fileDigest(checkpoint), translator: translator, format: nil,
                                     bitDepth: nil, attentionMaps: false, read: ReadOptions())
        let output = dir.path + "/out"
        let plan = try BatchPlan(inputs: [input], outputDirectory: output, recursive: true)
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: plan.items[1].input))
        for threads in [1, 2] {
            let summary = try translator.runBatch(plan, settings: settings, threads: threads, report: { $0.status != .failed })
            XCTAssertEqual(summary, BatchSummary(done: threads == 1 ? 1 : 0, skipped: threads == 1 ? 0 : 1, failed: 1, stopped: true))
            XCTAssertEqual(try tree(output).keys.filter { !$0.hasPrefix("p1/.") }.sorted(), [plan.items[0].relative])
        }
    }

    func testTemporaryFilesOfThisShardAreSweptOthersKept() throws {
        let dir = try F.folder(self)
        let input = try screen(dir)
        let output = dir.path + "/out"
        try FileManager.default.createDirectory(atPath: output + "/p1", withIntermediateDirectories: true)
        let plan = try BatchPlan(inputs: [input], outputDirectory: output, recursive: true,
                                 shard: Shard(index: 0, count: 2))
        XCTAssertEqual(plan.items.map(\.relative), ["p1/f0.png", "p1/f4.png", "p2/deep/f3.png"])
        let names = [".f0.png.123.456.tmp", ".f2.png.123.456.tmp", "..f4.png.aggan.json.7.8.tmp", ".f0.png.x.1.tmp"]
        for name in names { try Data().write(to: URL(fileURLWithPath: output + "/p1/" + name)) }
        plan.sweepTemporaryFiles()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: output + "/p1").sorted(),
                       [".f0.png.x.1.tmp", ".f2.png.123.456.tmp"])
    }
}

private final class OutcomeList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [BatchOutcome] = []
    func append(_ o: BatchOutcome) { lock.lock(); list.append(o); lock.unlock() }
    var value: [BatchOutcome] { lock.lock(); defer { lock.unlock() }; return list }
}
