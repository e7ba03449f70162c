import AGGAN
import Foundation
import Imaging
import Tensor
@testable import Lab
import TrainingEngine
import TestSupport
import XCTest

final class ExperimentTests: XCTestCase {
    typealias F = InferenceFixture

    /// A dataset in the layout `aggan samples` writes: random 40x40 training images and
    /// three 32x32 held-out pairs with masks (cells dimmed inside the mask only).
    func makeExperimentData() throws -> URL {
        let dir = try F.folder(self)
        _ = try makeDataset(in: dir)
        for folder in ["testA", "testB"] { try FileManager.default.removeItem(at: dir.appendingPathComponent(folder)) }
        for folder in ["testA", "testB_truth", "testMasks"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        for k in 0..<3 {
            let truth = try F.cells(width: 32, height: 32, seed: UInt64(20 + k))
            var degraded = truth
            var mask = [Float](repeating: 0, count: 32 * 32)
            for y in 0..<32 {
                for x in 0..<32 where truth[0, y, x] > 0.3 {
                    mask[y * 32 + x] = 1
                    degraded[0, y, x] = (truth[0, y, x] * 255 * 0.5).rounded() / 255
                }
            }
            try degraded.writePNG(to: dir.path + "/testA/c\(k).png")
            try truth.writePNG(to: dir.path + "/testB_truth/c\(k).png")
            try Image(width: 32, height: 32, channels: 1, pixels: mask).writePNG(to: dir.path + "/testMasks/c\(k).png")
        }
        return dir
    }

    func testStepBudgetRunsEveryVariantAndSeedAndWritesTheResults() throws {
        let data = try makeExperimentData()
        let out = data.appendingPathComponent("out").path
        var plan = ExperimentPlan(data: data.path, config: engineConfig(), variants: [.aggan, .cyclegan], seeds: [3, 4], budget: .steps(3))
        plan.threads = 1
        plan.figureCrops = 2
        let lines = LockedBox<[String]>([])
        let runner = ExperimentRunner(plan: plan, out: out, command: "aggan experiment --steps 3") { l in lines.withLock { $0.append(l) } }
        let result = try runner.run()

        XCTAssertEqual(result.runs.map(\.variant), [.aggan, .cyclegan, .aggan, .cyclegan], "seed by seed, variants one after another")
        XCTAssertEqual(result.runs.map(\.seed), [3, 3, 4, 4])
        XCTAssertEqual(result.count, 3)
        for r in result.runs {
            XCTAssertEqual(r.steps, 3)
            XCTAssertEqual(r.config.epochs, 1, "the schedule just covers the budget (4 iterations per epoch)")
            XCTAssertEqual(r.scheduledSteps, 4)
            XCTAssertEqual(r.ended, "step budget")
            XCTAssertEqual(r.config.baseline, r.variant == .cyclegan)
            XCTAssertEqual(r.config.seed, r.seed)
            XCTAssertNotNil(r.summary)
            XCTAssertEqual(r.meanAttention == nil, r.variant == .cyclegan)
            XCTAssertEqual(r.binary == nil, r.variant == .cyclegan)
            XCTAssertEqual(RunDirectory(out + "/runs/\(r.variant.rawValue)-seed\(r.seed)").checkpoints().map(\.step), [3])
        }
        // Different seeds give different models; the identity is the input.
        XCTAssertNotEqual(result.runs[0].summary?.model, result.runs[2].summary?.model)
        XCTAssertEqual(result.identity.backgroundDrift, 0)
        // The baseline's output is its raw generator's.
        XCTAssertEqual(result.runs[1].summary?.model, result.runs[1].summary?.attentionOne)

        let md = try String(contentsOfFile: out + "/results.md", encoding: .utf8)
        XCTAssertEqual(md, result.markdown())
        for needle in ["| 3 held-out crops | identity | AGGAN | CycleGAN |", "| runs (attention failures) | - | 2 (", "| iterations | - | 3 ± 0 | 3 ± 0 |",
                       "background change outside the true mask", "## Checks (means)", "| AGGAN | 4 | 3 / 4 |", "aggan experiment --steps 3",
                       "columns: input | attention (AGGAN) | AGGAN | CycleGAN | truth"] {
            XCTAssertTrue(md.contains(needle), "results.md lacks '\(needle)':\n\(md)")
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let decoded = try decoder.decode(ExperimentResult.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/results.json")))
        XCTAssertEqual(decoded.runs.count, 4)
        // Figure: 2 crops (rows) x 5 columns of 64 px (2x) with 4 px gaps.
        let figure = try Image(pngFile: out + "/figure.png")
        XCTAssertEqual([figure.width, figure.height], [5 * 64 + 6 * 4, 2 * 64 + 3 * 4])
        XCTAssertEqual(lines.current.filter { $0.contains("iterations in") }.count, 4)
        // A second experiment into the same folder is refused rather than mixed in.
        XCTAssertThrowsError(try ExperimentRunner(plan: plan, out: out, command: "", log: { _ in }).run()) { e in
            XCTAssertTrue("\(e)".contains("already holds a run"), "\(e)")
        }
    }

    /// A wall-clock budget with a long fixed schedule: the run is stopped at the deadline.
    func testMinutesBudgetStopsAtTheDeadline() throws {
        let data = try makeExperimentData()
        var plan = ExperimentPlan(data: data.path, config: engineConfig(), variants: [.cyclegan], seeds: [0], budget: .minutes(2.0 / 60))
        plan.epochs = 100_000
        plan.threads = 1
        plan.figureCrops = 0
        let result = try ExperimentRunner(plan: plan, out: data.appendingPathComponent("out").path, command: "", log: { _ in }).run()
        let r = try XCTUnwrap(result.runs.first)
        XCTAssertEqual(r.ended, "time budget")
        XCTAssertGreaterThan(r.steps, 0)
        XCTAssertLessThan(r.steps, r.scheduledSteps)
        // The stopper fires at the deadline, never before (how long after depends on the
        // machine's load, so no upper bound is asserted: the steps say it stopped early).
        XCTAssertGreaterThanOrEqual(r.seconds, 1.9)
        XCTAssertNil(result.figure)
    }

    /// Without --epochs the schedule is fitted to the budget (whole epochs in 95 % of it),
    /// and the deadline holds whatever the timing said.
    func testMinutesBudgetFitsTheSchedule() throws {
        XCTAssertEqual(ExperimentRunner.fittedEpochs(seconds: 600, secondsPerStep: 0.25, iterationsPerEpoch: 29), 78)
        XCTAssertEqual(ExperimentRunner.fittedEpochs(seconds: 1, secondsPerStep: 0.5, iterationsPerEpoch: 29), 1)
        let data = try makeExperimentData()
        var plan = ExperimentPlan(data: data.path, config: engineConfig(), variants: [.aggan], seeds: [0], budget: .minutes(3.0 / 60))
        plan.threads = 1
        plan.figureCrops = 1
        let result = try ExperimentRunner(plan: plan, out: data.appendingPathComponent("out").path, command: "", log: { _ in }).run()
        let r = try XCTUnwrap(result.runs.first)
        XCTAssertGreaterThanOrEqual(r.config.epochs, 1)
        XCTAssertEqual(r.scheduledSteps, r.config.epochs * 4)
        XCTAssertTrue(r.ended == "schedule" || r.ended == "time budget", r.ended)
        XCTAssertLessThanOrEqual(r.steps, r.scheduledSteps)
    }

    func testFailureRuleAndStatistics() throws {
        XCTAssertEqual(ExperimentRunner.attentionFailure(mean: 0.01, margin: 0.02), "all-black attention")
        XCTAssertEqual(ExperimentRunner.attentionFailure(mean: 0.99, margin: 0.02), "all-white attention")
        XCTAssertNil(ExperimentRunner.attentionFailure(mean: 0.3, margin: 0.02))
        let s = try XCTUnwrap(ExperimentResult.stats([1, 2, 3]))
        XCTAssertEqual(s.mean, 2)
        XCTAssertEqual(s.sd ?? 0, 1, accuracy: 1e-12)
        XCTAssertNil(ExperimentResult.stats([5])?.sd)
        XCTAssertEqual(ExperimentResult.cell([1, 2, 3], 2), "2.00 ± 1.00")
        XCTAssertEqual(ExperimentResult.cell([0.5], 1), "0.5")
        XCTAssertEqual(ExperimentResult.cell([], 1), "-")
    }

    /// Failures are counted (and kept in the means); the checks compare the means with
    /// the targets.
    func testTableCountsFailuresAndChecksTheTargets() throws {
        func metrics(drift: Double, cell: Double) -> VariantMetrics {
            var m = VariantMetrics()
            m.backgroundDrift = drift; m.psnrInside = cell
            return m
        }
        func run(_ v: ExperimentVariant, seed: UInt64, drift: Double, cell: Double, iou: Double, meanA: Double?, failure: String? = nil) -> ExperimentRun {
            let summary = EvaluationSummary(model: metrics(drift: drift, cell: cell), identity: metrics(drift: 0, cell: 18),
                                            attentionOne: metrics(drift: 20, cell: 12), truthMeanInside: 66,
                                            attention: AttentionMetrics(iou: iou, dice: 0, bestIoU: iou, bestThreshold: 0.05),
                                            infiniteCounts: [:])
            return ExperimentRun(variant: v, seed: seed, config: engineConfig(), steps: 10, scheduledSteps: 10, seconds: 1,
                                 ended: "schedule", summary: summary, meanAttention: meanA, failure: failure)
        }
        var result = ExperimentResult(
            command: "c", data: "d", count: 6, budget: "b", threads: 1, seeds: [0, 1], variants: [.aggan, .cyclegan], tau: 0.1,
            identity: metrics(drift: 0, cell: 18), truthMeanInside: 66,
            runs: [run(.aggan, seed: 0, drift: 0.5, cell: 22, iou: 0.7, meanA: 0.2),
                   run(.cyclegan, seed: 0, drift: 20, cell: 12, iou: 0, meanA: nil),
                   run(.aggan, seed: 1, drift: 0.1, cell: 18, iou: 0.5, meanA: 0.01, failure: "all-black attention"),
                   run(.cyclegan, seed: 1, drift: 22, cell: 13, iou: 0, meanA: nil)],
            failureMargin: 0.02, figure: nil, figureColumns: [], figureGain: nil)
        var md = result.markdown()
        for needle in ["| runs (attention failures) | - | 2 (1) | 2 (0 failed) |",
                       "| background change outside the true mask (of 255) | 0.00 | 0.30 ± 0.28 | 21.00 ± 1.41 |",
                       "| cell PSNR vs truth (dB) | 18.00 | 20.00 ± 2.83 | 12.50 ± 0.71 |",
                       "- background change at most 1 of 255: 0.30, **met**",
                       "- background change at most a quarter of CycleGAN's (21.00): **met**",
                       "- cell PSNR at least 3 dB above the identity's (18.00 dB): 20.00 dB, **not met**",
                       "- cell PSNR not below CycleGAN's (12.50 dB): **met**",
                       "- attention IoU at tau 0.10 at least 0.6: 0.600, **met**",
                       "- attention failures: 1 of 2 runs", "| all-black attention |"] {
            XCTAssertTrue(md.contains(needle), "lacks '\(needle)':\n\(md)")
        }
        // Without the baseline, the comparisons with it are not measured.
        result.runs.removeAll { $0.variant == .cyclegan }
        result.variants = [.aggan]
        md = result.markdown()
        XCTAssertTrue(md.contains("a quarter of CycleGAN's (-): not measured"), md)
        XCTAssertFalse(md.contains("| CycleGAN |"))
    }

    func testPlanValidation() throws {
        let ok = ExperimentPlan(data: "d", config: engineConfig(), variants: [.aggan], seeds: [0], budget: .steps(1))
        XCTAssertNoThrow(try ok.validate())
        var p = ok; p.variants = []
        XCTAssertThrowsError(try p.validate())
        p = ok; p.variants = [.aggan, .aggan]
        XCTAssertThrowsError(try p.validate())
        p = ok; p.seeds = []
        XCTAssertThrowsError(try p.validate())
        p = ok; p.budget = .minutes(0)
        XCTAssertThrowsError(try p.validate())
        p = ok; p.budget = .steps(0)
        XCTAssertThrowsError(try p.validate())
        p = ok; p.config.attentionPrior = -1
        XCTAssertThrowsError(try p.validate())
    }
}
