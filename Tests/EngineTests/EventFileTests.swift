import AGGAN
import Foundation
import TestSupport
import TrainingEngine
import XCTest

/// TensorBoard event files: CRC-32C, TFRecord framing, the Event encoding, the recorder
/// across a resume and the export of an old run.
final class EventFileTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("aggan-events-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testCRC32CMatchesTheCastagnoliTestVectors() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        // RFC 3720 (iSCSI) B.4: 32 bytes of zeros, of ones, ascending.
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.masked(0), 0xA282_EAD8)
        XCTAssertEqual(CRC32C.masked(0x0000_8000), 0xA282_EAD9, "rotated right by 15")
    }

    /// wall_time 1.0, step 2, one scalar "a" = 0.5: the bytes protobuf's own serializer
    /// gives for this Event, and the CRCs TensorBoard's `masked_crc32c` gives for its frame.
    func testASmallEventEncodesAndFramesByteForByte() {
        let event = Event(wallTime: 1, step: 2, values: [.scalar(tag: "a", value: 0.5)])
        let payload: [UInt8] = [0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x10, 0x02, 0x2A, 0x0A, 0x0A, 0x08, 0x0A, 0x01, 0x61,
                                0x15, 0, 0, 0, 0x3F]
        XCTAssertEqual(event.encoded, payload)
        let framed = TFRecord.frame(payload)
        XCTAssertEqual(Array(framed[0..<8]), [23, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(Array(framed[8..<12]), [0xE7, 0xCE, 0xF8, 0x1E], "masked CRC of the length: 0x1ef8cee7")
        XCTAssertEqual(Array(framed[12..<35]), payload)
        XCTAssertEqual(Array(framed[35...]), [0x40, 0x0A, 0xE3, 0xA6], "masked CRC of the data: 0xa6e30a40")
        XCTAssertEqual(Event(decoding: payload), event)
    }

    func testTheFileVersionComesFirstAndRecordsReadBack() throws {
        let writer = try EventFileWriter(folder: dir.path + "/tb", wallTime: 1_700_000_000)
        XCTAssertTrue(writer.path.hasPrefix(dir.path + "/tb/events.out.tfevents.1700000000."))
        try writer.write([Event(wallTime: 1_700_000_001, step: 1, values: [.scalar(tag: "x", value: 3)]),
                          Event(wallTime: 1_700_000_002, step: 2, values: [.scalar(tag: "x", value: -1),
                                                                           .histogram(tag: "h", Histogram([1, 2, 3]))])])
        let events = try EventFileWriter.read(writer.path)
        XCTAssertEqual(events.map(\.fileVersion), ["brain.Event:2", nil, nil])
        XCTAssertEqual(events.map(\.step), [0, 1, 2])
        XCTAssertEqual(events[2].values.map(\.tag), ["x", "h"])
        XCTAssertEqual(events[2].values.first, .scalar(tag: "x", value: -1))
        // A second file in the same second does not overwrite the first.
        let second = try EventFileWriter(folder: dir.path + "/tb", wallTime: 1_700_000_000)
        XCTAssertNotEqual(second.path, writer.path)
        XCTAssertEqual(try EventFileWriter.read(writer.path).count, 3)
    }

    func testACutShortRecordEndsTheFileAndAWrongCRCIsAnError() throws {
        let a = TFRecord.frame(Event(wallTime: 1, step: 1).encoded), b = TFRecord.frame(Event(wallTime: 2, step: 2).encoded)
        let (records, complete) = try TFRecord.records(a + b.dropLast(3), name: "f")
        XCTAssertEqual(records.count, 1)
        XCTAssertEqual(complete, a.count)
        var bad = a + b
        bad[a.count + 13] ^= 1
        XCTAssertThrowsError(try TFRecord.records(bad, name: "f")) { XCTAssertTrue("\($0)".contains("'f'")) }
        var badLength = a
        badLength[0] ^= 1
        XCTAssertThrowsError(try TFRecord.records(badLength, name: "f"))
    }

    func testHistogramBucketsCoverEveryValue() {
        let h = Histogram([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, .nan], bucketCount: 3)
        XCTAssertEqual(h.count, 10)
        XCTAssertEqual(h.min, 0); XCTAssertEqual(h.max, 9); XCTAssertEqual(h.sum, 45)
        XCTAssertEqual(h.bucketLimits, [3, 6, 9])
        XCTAssertEqual(h.buckets, [4, 3, 3], "(-inf, 3], (3, 6], (6, 9]")
        XCTAssertEqual(Histogram([2, 2]).buckets, [2])
    }

    /// The recorder writes every step's scalars once; a resume truncates what a killed
    /// session wrote after the checkpoint and the new file continues from there.
    func testTheRecorderAcrossAResumeGivesEachStepOnce() throws {
        let run = RunDirectory(dir.appendingPathComponent("run").path)
        let first = TensorBoardRecorder(run, after: 0, imageEvery: 20)
        for step in [10, 25, 30] { first.didPublish(SyntheticSnapshot.make(step: step, samples: 1, imageSize: 8)) }
        XCTAssertNil(first.error)
        // Killed at step 30 with its last checkpoint at 20, and the file's last record cut short.
        let firstFile = try XCTUnwrap(TensorBoardRecorder.eventFiles(run).first)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: firstFile))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(TFRecord.frame(Event(wallTime: 0, step: 31).encoded).dropLast(5)))
        try handle.close()
        XCTAssertEqual(TensorBoardRecorder.truncate(run, after: 20), [])
        let second = TensorBoardRecorder(run, after: 20, imageEvery: 20)
        for step in [20, 40] { second.didPublish(SyntheticSnapshot.make(step: step, samples: 1, imageSize: 8)) }
        XCTAssertNil(second.error)
        let files = TensorBoardRecorder.eventFiles(run)
        XCTAssertEqual(files.count, 2)
        var steps: [String: [Int]] = [:]
        for file in files {
            for e in try EventFileWriter.read(file) { for v in e.values { steps[v.tag, default: []].append(e.step) } }
        }
        XCTAssertEqual(steps["loss/g_total"], Array(1...40))
        XCTAssertEqual(steps["attention/att_s_mean"], Array(1...40))
        XCTAssertEqual(steps["discriminator/d_t_fake"], Array(1...40))
        XCTAssertEqual(steps["train/learning_rate"]?.count, 40)
        XCTAssertEqual(steps["previews"], [20, 40])
        XCTAssertEqual(steps["speed/iterations_per_second"], [10, 40], "25 was after the checkpoint")
        let last = try EventFileWriter.read(files[1]).last { $0.step == 40 && $0.values.count > 1 }
        let g = SyntheticSnapshot.losses(atStep: 40).gTotal
        XCTAssertEqual(last?.values.first { $0.tag == "loss/g_total" }, .scalar(tag: "loss/g_total", value: g))
    }

    func testExportWritesAnOldRunsMetricsAndPreviewsOnce() throws {
        let run = RunDirectory(dir.appendingPathComponent("old").path)
        do {
            let lock = try run.open()
            defer { withExtendedLifetime(lock) {} }
            try run.writeConfig(SyntheticSnapshot.config)
            let metrics = MetricsRecorder(run), previews = PreviewRecorder(run, every: 20)
            for step in [20, 40, 50] {
                let s = SyntheticSnapshot.make(step: step, samples: 1, imageSize: 8)
                metrics.didPublish(s); previews.didPublish(s)
            }
        }
        let export = try TensorBoardRecorder.export(run)
        XCTAssertEqual(export.steps, 50)
        XCTAssertEqual(export.images, 2)
        let events = try EventFileWriter.read(export.path)
        XCTAssertEqual(events.filter { $0.values.contains { $0.tag == "loss/cyc_s" } }.map(\.step), Array(1...50))
        XCTAssertEqual(events.filter { $0.values.contains { $0.tag == "previews" } }.map(\.step), [20, 40])
        XCTAssertThrowsError(try TensorBoardRecorder.export(run)) { XCTAssertTrue("\($0)".contains("already holds events")) }
        XCTAssertThrowsError(try TensorBoardRecorder.export(RunDirectory(dir.appendingPathComponent("none").path))) {
            XCTAssertTrue("\($0)".contains("not a run folder"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("none").path))
    }
}
