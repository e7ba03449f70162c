import AGGAN
import Foundation
import TestSupport
import TrainingEngine
import XCTest

/// Run folders read back for `aggan view`: preview strips, metrics, bad files.
final class RunReaderTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("aggan-reader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testPreviewStripsReadBackAsTheyWereWritten() throws {
        let run = RunDirectory(dir.appendingPathComponent("run").path)
        let lock = try run.open()
        defer { withExtendedLifetime(lock) {} }
        let snapshot = SyntheticSnapshot.make(step: 40, samples: 2, imageSize: 16)
        let recorder = PreviewRecorder(run, every: 20)
        recorder.didPublish(snapshot)
        XCTAssertNil(recorder.error)
        let samples = try PreviewRecorder.read(run.previewsDir + "/step-0000040.png", tau: snapshot.tau)
        XCTAssertEqual(samples.count, 2)
        for (read, written) in zip(samples, snapshot.previews) {
            for d in [Direction.st, .ts] {
                let a = read.direction(d), b = written.direction(d)
                for (x, y) in [(a.input, b.input), (a.attention, b.attention), (a.generated, b.generated),
                               (a.composite, b.composite)] {
                    XCTAssertEqual(x.width, 16)
                    XCTAssertEqual(x.pixels.count, y.pixels.count)
                    let worst = zip(x.pixels, y.pixels).map { abs($0 - $1) }.max() ?? 1
                    XCTAssertLessThanOrEqual(worst, 0.5 / 255 + 1e-6, "8-bit rounding only")
                }
                XCTAssertEqual(a.fractionAboveTau, b.fractionAboveTau, accuracy: 0.02)
                XCTAssertEqual(a.backgroundDrift, b.backgroundDrift, accuracy: 0.5)
            }
        }
    }

    func testALoadedRunGivesOneSnapshotPerPreviewAndSkipsBadFiles() throws {
        let run = RunDirectory(dir.appendingPathComponent("run").path)
        let lock = try run.open()
        try run.writeConfig(SyntheticSnapshot.config)
        let recorder = PreviewRecorder(run, every: 20)
        for step in [20, 40] { recorder.didPublish(SyntheticSnapshot.make(step: step, samples: 1, imageSize: 8)) }
        // Two good lines, a broken one, and a last line still being written (no newline).
        let good = (1...2).map { #"{"step":\#($0),"g_total":3,"d_s":0.3,"d_t":0.2,"adv_st":1,"adv_ts":1,"cyc_s":0.1,"cyc_t":0.1}"# }
        try (good.joined(separator: "\n") + "\n{\"step\": oops\n{\"step\":3,").write(toFile: run.metricsFile, atomically: true,
                                                                                   encoding: .utf8)
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: run.previewsDir + "/step-0000060.png"))
        withExtendedLifetime(lock) {}

        let record = try RunRecord.load(run)
        XCTAssertEqual(record.history.count, 2)
        XCTAssertEqual(record.previews.map(\.step), [20, 40])
        XCTAssertEqual(record.problems.count, 2, "\(record.problems)")
        XCTAssertTrue(record.problems.contains { $0.contains("step-0000060.png") })
        XCTAssertTrue(record.problems.contains { $0.contains("1 unreadable line") })
        let snapshots = record.snapshots(runName: "run")
        XCTAssertEqual(snapshots.map(\.previewStep), [20, 40])
        XCTAssertEqual(snapshots.map(\.sequence), [21, 41], "sequences follow the steps")
        XCTAssertEqual(snapshots[0].history.count, 2)
        XCTAssertTrue(snapshots.allSatisfy { $0.state == .stopped })
    }

    func testAFolderWithoutConfigIsNotARun() {
        XCTAssertThrowsError(try RunRecord.load(RunDirectory(dir.path))) { error in
            XCTAssertTrue("\(error)".contains("is not a run folder"), "\(error)")
            XCTAssertTrue("\(error)".contains("config.json"), "\(error)")
        }
        let bad = dir.appendingPathComponent("config.json")
        try? Data("{".utf8).write(to: bad)
        XCTAssertThrowsError(try RunRecord.load(RunDirectory(dir.path))) { error in
            XCTAssertTrue("\(error)".contains("is not a readable config"), "\(error)")
        }
    }
}
