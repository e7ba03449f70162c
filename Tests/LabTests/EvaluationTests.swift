import AGGAN
import Foundation
import Imaging
import Tensor
@testable import Lab
import TrainingEngine
import TestSupport
import XCTest

final class EvaluationTests: XCTestCase {
    typealias F = InferenceFixture

    /// A held-out set written by hand: `cells` (blobs dimmed inside the mask only) and
    /// `empty` (no cells: input == truth).
    func writeHeldOut(in root: URL) throws {
        for folder in ["testA", "testB_truth", "testMasks"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        let truth = try F.cells(width: 32, height: 32, seed: 11)
        var mask = [Float](repeating: 0, count: 32 * 32)
        var degraded = truth
        for y in 0..<32 {
            for x in 0..<32 where truth[0, y, x] > 0.3 {
                mask[y * 32 + x] = 1
                degraded[0, y, x] = (truth[0, y, x] * 255 * 0.5).rounded() / 255
            }
        }
        let maskImage = try Image(width: 32, height: 32, channels: 1, pixels: mask)
        try degraded.writePNG(to: root.path + "/testA/cells.png")
        try truth.writePNG(to: root.path + "/testB_truth/cells.png")
        try maskImage.writePNG(to: root.path + "/testMasks/cells.png")

        let plain = try F.cells(width: 32, height: 32, seed: 12)
        let background = try Image(width: 32, height: 32, channels: 1,
                                   pixels: plain.pixels.map { min($0, 0.2) })
        try background.writePNG(to: root.path + "/testA/empty.png")
        try background.writePNG(to: root.path + "/testB_truth/empty.png")
        try Image(width: 32, height: 32, channels: 1, value: 0).writePNG(to: root.path + "/testMasks/empty.png")
    }

    /// Shards with --results files, concatenated, give the whole set's report without
    /// measuring again; a file cut by a kill is continued; other settings measure anew.
    func testShardedAndResumedEvaluationEqualsOneRun() throws {
        let dir = try F.folder(self)
        let checkpoint = try F.checkpoint(in: dir)
        try writeHeldOut(in: dir)
        for name in ["a.png", "b.png", "d.png"] {
            for folder in ["testA", "testB_truth", "testMasks"] {
                try FileManager.default.copyItem(atPath: dir.path + "/\(folder)/cells.png", toPath: dir.path + "/\(folder)/\(name)")
            }
        }
        let straight = try Evaluation.evaluate(checkpoint: checkpoint, data: dir.path)
        XCTAssertEqual(straight.samples.map(\.name), ["a.png", "b.png", "cells.png", "d.png", "empty.png"])
        func lines(_ path: String) throws -> [String] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        }
        let r0 = dir.path + "/r0.jsonl", r1 = dir.path + "/r1.jsonl", all = dir.path + "/all.jsonl"
        let part0 = try Evaluation.evaluate(checkpoint: checkpoint, data: dir.path, shard: Shard(index: 0, count: 2), results: r0)
        let part1 = try Evaluation.evaluate(checkpoint: checkpoint, data: dir.path, shard: Shard(index: 1, count: 2), results: r1)
        XCTAssertEqual(part0.samples.map(\.name), ["a.png", "cells.png", "empty.png"])
        XCTAssertEqual(part1.samples.map(\.name), ["b.png", "d.png"])
        XCTAssertEqual(part0.samples, [straight.samples[0], straight.samples[2], straight.samples[4]])
        let joined = try lines(r0) + lines(r1)
        XCTAssertEqual(joined.count, 5)
        try (joined.joined(separator: "\n") + "\n").write(toFile: all, atomically: true, encoding: .utf8)
        XCTAssertEqual(try Evaluation.evaluate(checkpoint: checkpoint, data: dir.path, results: all), straight)
        XCTAssertEqual(try lines(all).count, 5, "nothing measured again")

        // Two samples done and a third line cut short by a kill.
        let cut = dir.path + "/cut.jsonl"
        try (joined[0] + "\n" + joined[3] + "\n" + joined[1].prefix(40)).write(toFile: cut, atomically: true, encoding: .utf8)
        XCTAssertEqual(try Evaluation.evaluate(checkpoint: checkpoint, data: dir.path, results: cut), straight)
        XCTAssertEqual(try lines(cut).count, 6, "2 kept, the cut line, 3 measured")
        XCTAssertEqual(try Evaluation.evaluate(checkpoint: checkpoint, data: dir.path, results: cut), straight)
        XCTAssertEqual(try lines(cut).count, 6)

        // Another tau: the lines do not count.
        let other = try Evaluation.evaluate(checkpoint: checkpoint, data: dir.path, tau: 0.3, results: all)
        XCTAssertEqual(other.tau, 0.3)
        XCTAssertEqual(try lines(all).count, 10)
        F.assertThrows(["shard 6/7", "holds none"]) {
            _ = try Evaluation.evaluate(checkpoint: checkpoint, data: dir.path, shard: Shard(index: 6, count: 7))
        }
    }

    func testEvaluateATinyCheckpoint() throws {
        let dir = try F.folder(self)
        let checkpoint = try F.checkpoint(in: dir)
        try writeHeldOut(in: dir)
        let report = try Evaluation.evaluate(checkpoint: checkpoint, data: dir.path, mode: .soft)
        XCTAssertEqual(report.count, 2)
        XCTAssertEqual(report.tau, 0.1)
        XCTAssertEqual(report.samples.map(\.name), ["cells.png", "empty.png"])
        let cells = report.samples[0], empty = report.samples[1]

        // Identity: no drift; outside the mask it equals the truth (the degradation is
        // confined to the mask here); on the sample without cells it is the truth.
        for s in report.samples { XCTAssertEqual(s.identity.backgroundDrift, 0) }
        XCTAssertEqual(cells.identity.psnrOutside, .infinity)
        XCTAssertEqual(cells.identity.maeOutside, 0)
        XCTAssertTrue(cells.identity.psnr?.isFinite ?? false)
        XCTAssertEqual(empty.identity.psnr, .infinity)
        XCTAssertNil(empty.identity.psnrInside, "no pixel inside an empty mask")
        XCTAssertNil(empty.truthMeanInside)
        XCTAssertEqual(empty.identity.ssim ?? 0, 1, accuracy: 1e-12)
        XCTAssertLessThan(cells.identity.meanInside ?? 0, cells.truthMeanInside ?? 0)

        // The model and attention = 1 change the image; they differ from each other.
        XCTAssertGreaterThan(cells.model.backgroundDrift ?? 0, 0)
        XCTAssertNotEqual(cells.model, cells.attentionOne)
        XCTAssertNotEqual(report.summary.model.psnr, report.summary.attentionOne.psnr)
        XCTAssertGreaterThan(report.summary.attentionOne.backgroundDrift ?? 0, 0)

        // Attention metrics are in range; the best IoU is at least the IoU at tau.
        for s in report.samples {
            XCTAssertTrue((0...1).contains(s.attention.iou) && (0...1).contains(s.attention.dice))
            XCTAssertGreaterThanOrEqual(s.attention.bestIoU, s.attention.iou - 1e-12)
            XCTAssertTrue(Evaluation.sweepThresholds.contains(s.attention.bestThreshold))
        }

        // Means: the infinite identity PSNRs are left out and counted.
        XCTAssertEqual(report.summary.infiniteCounts["identity.psnr_db"], 1)
        XCTAssertEqual(report.summary.identity.psnr, cells.identity.psnr)
        XCTAssertEqual(report.summary.identity.psnrOutside, .infinity, "every defined value is infinite")
        XCTAssertEqual(report.summary.identity.backgroundDrift, 0)
        XCTAssertEqual(report.summary.truthMeanInside, cells.truthMeanInside)
        let meanDrift = ((cells.model.backgroundDrift ?? 0) + (empty.model.backgroundDrift ?? 0)) / 2
        XCTAssertEqual(report.summary.model.backgroundDrift ?? 0, meanDrift, accuracy: 1e-9)

        // The table: one row per variant, aligned.
        let table = report.table()
        let lines = table.split(separator: "\n").map(String.init)
        let identityRow = try XCTUnwrap(lines.first { $0.hasPrefix("identity") })
        let header = try XCTUnwrap(lines.first { $0.hasPrefix("variant") })
        XCTAssertTrue(identityRow.contains("inf"))
        XCTAssertTrue(identityRow.hasSuffix(" " + String(format: "%.1f", cells.identity.meanInside ?? 0)))
        XCTAssertEqual(header.count, lines.first { $0.hasPrefix("model") }?.count)
        XCTAssertTrue(lines.contains { $0.hasPrefix("attention=1") })
        XCTAssertTrue(table.contains("IoU"))
        XCTAssertTrue(table.contains("left out of the mean: identity.psnr_db 1"))
        let driftColumn = header.range(of: "drift")
        XCTAssertNotNil(driftColumn)

        // JSON: an object with the means and the samples; infinity as "inf".
        let json = try report.json()
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["count"] as? Int, 2)
        let summary = try XCTUnwrap(object["summary"] as? [String: Any])
        let identity = try XCTUnwrap(summary["identity"] as? [String: Any])
        XCTAssertEqual(identity["background_drift"] as? Double, 0)
        XCTAssertEqual(identity["psnr_outside_db"] as? String, "inf")
        XCTAssertNotNil(summary["attention_one"])
        XCTAssertEqual((object["samples"] as? [Any])?.count, 2)
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let decoded = try decoder.decode(EvaluationReport.self, from: Data(json.utf8))
        XCTAssertEqual(decoded.summary, report.summary)
        XCTAssertEqual(decoded.samples.map(\.model), report.samples.map(\.model))
    }

    func testAttentionOneIsRestoredAndModesMatter() throws {
        let dir = try F.folder(self)
        try writeHeldOut(in: dir)
        let samples = try HeldOutSample.loadAll(root: dir.path)
        let model = AGGANModel(F.tinyConfig())
        model.initialize(seed: 2)
        let soft = try Evaluation.evaluate(model: model, samples: samples, mode: .soft, tau: 0.1)
        XCTAssertFalse(model.attentionIsOne)
        XCTAssertFalse(soft.baselineCheckpoint)
        // Binary with tau 1: the mask is empty, the model row is the identity.
        let off = try Evaluation.evaluate(model: model, samples: samples, mode: .binary, tau: 1)
        XCTAssertEqual(off.samples[0].model, off.samples[0].identity)
        XCTAssertEqual(off.samples[0].attentionOne, soft.samples[0].attentionOne, "attention = 1 ignores the mode")
        XCTAssertEqual(off.mode, "binary")
        XCTAssertThrowsError(try Evaluation.evaluate(model: model, samples: [], mode: .soft, tau: 0.1))
        F.assertThrows(["tau", "2"]) { _ = try Evaluation.evaluate(model: model, samples: samples, mode: .soft, tau: 2) }
        // A baseline model: its own row is the attention = 1 row.
        model.attentionIsOne = true
        let baseline = try Evaluation.evaluate(model: model, samples: samples, mode: .soft, tau: 0.1)
        XCTAssertTrue(model.attentionIsOne)
        XCTAssertTrue(baseline.baselineCheckpoint)
        XCTAssertEqual(baseline.samples[0].model, baseline.samples[0].attentionOne)
    }

    func testThresholdSweep() throws {
        // A = 0.3 on the left half (the mask), 0.05 on the right.
        let w = 8, h = 4
        let a: [Float] = (0..<(w * h)).map { $0 % w < 4 ? 0.3 : 0.05 }
        let mask = try PixelMask(width: w, height: h, bits: (0..<(w * h)).map { $0 % w < 4 })
        let r = try Evaluation.attentionMetrics(a, width: w, height: h, mask: mask, tau: 0.1)
        XCTAssertEqual(r.metrics.iou, 1)
        XCTAssertEqual(r.metrics.dice, 1)
        XCTAssertEqual(r.metrics.bestIoU, 1)
        XCTAssertEqual(r.metrics.bestThreshold, 0.05, "first threshold where only the left half is above")
        XCTAssertEqual(r.sweep[0], 0.5, "at 0.01 everything is above: IoU = 16 / 32")
        XCTAssertEqual(r.sweep[29], 0, "at 0.30 nothing is above")
        let low = try Evaluation.attentionMetrics(a, width: w, height: h, mask: mask, tau: 0.01)
        XCTAssertEqual(low.metrics.iou, 0.5)
        XCTAssertEqual(low.metrics.dice, 2.0 / 3, accuracy: 1e-12)
    }

    /// The bundled dataset (samples/nuclei) loads and evaluates with a fresh tiny model.
    func testBundledSamplesEvaluate() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples/nuclei")
        guard FileManager.default.fileExists(atPath: root.path) else { throw XCTSkip("samples/nuclei is not there") }
        let samples = try HeldOutSample.loadAll(root: root.path)
        XCTAssertEqual(samples.count, 6)
        XCTAssertTrue(samples.allSatisfy { $0.degraded.width == 64 && $0.degraded.height == 64 && $0.mask.count > 0 })
        let model = AGGANModel(F.tinyConfig())
        model.initialize(seed: 0)
        let report = try Evaluation.evaluate(model: model, samples: samples, mode: .soft, tau: 0.1)
        print(report.table())
        XCTAssertEqual(report.summary.identity.backgroundDrift, 0)
        XCTAssertGreaterThan(report.summary.identity.psnrOutside ?? 0, report.summary.identity.psnrInside ?? .infinity,
                             "the degradation is inside the (dilated) mask")
    }

    func testEvaluationErrorsNameTheFolder() throws {
        let dir = try F.folder(self)
        let checkpoint = try F.checkpoint(in: dir)
        F.assertThrows(["testA"]) { _ = try Evaluation.evaluate(checkpoint: checkpoint, data: dir.path) }
        try writeHeldOut(in: dir)
        try FileManager.default.removeItem(atPath: dir.path + "/testMasks/empty.png")
        F.assertThrows(["testMasks/empty.png"]) { _ = try Evaluation.evaluate(checkpoint: checkpoint, data: dir.path) }
    }
}
