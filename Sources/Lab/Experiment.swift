// The AGGAN-versus-CycleGAN experiment (`aggan experiment`): the same preset, seeds and
// budget for each variant, trained one after another in this process, evaluated on the
// held-out pairs, summarised as a Markdown table and a PNG figure.

import Basics
import AGGAN
import Foundation
import Imaging
import Tensor
import TrainingEngine

/// A model the experiment trains.
public enum ExperimentVariant: String, Codable, Sendable, CaseIterable {
    /// The attention-guided model (the config as given).
    case aggan
    /// The CycleGAN baseline: the same config with `baseline = true` (attention fixed to 1).
    case cyclegan

    /// The name in tables.
    public var title: String { self == .aggan ? "AGGAN" : "CycleGAN" }
}

/// How long each run trains.
public enum ExperimentBudget: Sendable, Equatable {
    /// Wall-clock minutes per run. Unless the schedule's epochs are given, they are fitted
    /// to the budget from a short timing, so the stage switch and the learning-rate decay
    /// happen within it; the run is stopped at the deadline in any case.
    case minutes(Double)
    /// Iterations per run (reproducible whatever the machine's load).
    case steps(Int)
}

/// What to run.
public struct ExperimentPlan: Sendable {
    /// Dataset folder as `aggan samples` writes it (trainA, trainB, testA, testB_truth, testMasks).
    public var data: String
    /// The config of every run (preset and overrides, channels set); per run, its seed and
    /// `baseline` are set, and the epochs when the budget decides them.
    public var config: Config
    public var variants: [ExperimentVariant]
    public var seeds: [UInt64]
    public var budget: ExperimentBudget
    /// The schedule's length in epochs; nil: fitted to the budget.
    public var epochs: Int?
    /// Compute threads of the runs.
    public var threads = 2
    /// Held-out crops in the figure.
    public var figureCrops = 4
    /// Vertical flips and 90-degree rotations on top of the spec's augmentation.
    public var microscopyAugmentation = true
    /// Mean attention below this counts as an all-black failure, above 1 - this as all-white.
    public var failureMargin = 0.02
    /// The images' scale for every run; nil: measured and chosen per run as `aggan train`
    /// does (`TrainingData.load`), and the choice goes into the runs' configs.
    public var scale: Double?

    public init(data: String, config: Config, variants: [ExperimentVariant], seeds: [UInt64], budget: ExperimentBudget) {
        self.data = data; self.config = config; self.variants = variants; self.seeds = seeds; self.budget = budget
    }

    public func validate() throws {
        guard !variants.isEmpty else { throw EngineError("the experiment needs at least one variant (aggan, cyclegan)") }
        guard Set(variants).count == variants.count else { throw EngineError("a variant is listed twice: \(variants.map(\.rawValue))") }
        guard !seeds.isEmpty else { throw EngineError("the experiment needs at least one seed") }
        switch budget {
        case .minutes(let m): guard m > 0, m.isFinite else { throw EngineError("the budget of \(m) minutes must be positive") }
        case .steps(let n): guard n >= 1 else { throw EngineError("the budget of \(n) steps must be at least 1") }
        }
        if let epochs, epochs < 1 { throw EngineError("epochs \(epochs) must be at least 1") }
        guard threads >= 1 else { throw EngineError("threads \(threads) must be at least 1") }
        guard figureCrops >= 0 else { throw EngineError("figure crops \(figureCrops) must be >= 0") }
        try config.validate()
    }
}

/// One trained and evaluated run.
public struct ExperimentRun: Codable, Sendable {
    public var variant: ExperimentVariant
    public var seed: UInt64
    /// The config it trained with (epochs and iterations per epoch included).
    public var config: Config
    /// Iterations done, and those the schedule has.
    public var steps: Int, scheduledSteps: Int
    /// Wall-clock seconds of training (evaluation not included).
    public var seconds: Double
    /// Why it ended: "schedule", "step budget", "time budget", or the failure.
    public var ended: String
    /// The evaluation means (nil when training failed).
    public var summary: EvaluationSummary?
    /// AGGAN only: the model's metrics with the binary mask `1[A > tau]` (the thresholded
    /// test mode) instead of the soft one.
    public var binary: VariantMetrics?
    /// Mean attention over the held-out crops (nil for the baseline or a failed run).
    public var meanAttention: Double?
    /// "all-black attention", "all-white attention", "training failed: ...", or nil.
    public var failure: String?

    enum CodingKeys: String, CodingKey {
        case variant, seed, config, steps, scheduledSteps = "scheduled_steps", seconds, ended, summary, binary
        case meanAttention = "mean_attention", failure
    }
}

/// What the experiment measured.
public struct ExperimentResult: Codable, Sendable {
    /// The command line that produced it (as the caller gives it).
    public var command: String
    public var data: String
    /// Held-out crops evaluated.
    public var count: Int
    /// The budget in words ("3 min per run" or "400 iterations per run").
    public var budget: String
    public var threads: Int
    public var seeds: [UInt64]
    public var variants: [ExperimentVariant]
    /// The threshold of the attention IoU: the config's tau (the one the tool ships).
    public var tau: Double
    /// The identity (input unchanged) on the held-out crops.
    public var identity: VariantMetrics
    public var truthMeanInside: Double?
    public var runs: [ExperimentRun]
    public var failureMargin: Double
    /// The figure's file name and its columns.
    public var figure: String?
    public var figureColumns: [String]
    /// The figure's images (not the attention) are shown multiplied by this (see `figure`).
    public var figureGain: Double?

    enum CodingKeys: String, CodingKey {
        case command, data, count, budget, threads, seeds, variants, tau, identity
        case truthMeanInside = "truth_mean_inside", runs, failureMargin = "failure_margin", figure
        case figureColumns = "figure_columns", figureGain = "figure_gain"
    }
}

/// Runs an `ExperimentPlan`, writing into `out`: `runs/<variant>-seed<k>/` (a run folder
/// each), `results.md`, `results.json` and `figure.png`.
public final class ExperimentRunner {
    public let plan: ExperimentPlan
    public let out: String
    /// The command line recorded in the results.
    public let command: String
    private let log: @Sendable (String) -> Void

    public init(plan: ExperimentPlan, out: String, command: String, log: @escaping @Sendable (String) -> Void) {
        self.plan = plan; self.out = out; self.command = command; self.log = log
    }

    public var runsDirectory: String { out + "/runs" }
    public var markdownFile: String { out + "/results.md" }
    public var jsonFile: String { out + "/results.json" }
    public var figureFile: String { out + "/figure.png" }

    /// Trains and evaluates every (seed, variant), one after another, then writes the results.
    public func run() throws -> ExperimentResult {
        try plan.validate()
        let samples = try HeldOutSample.loadAll(root: plan.data)
        guard !samples.isEmpty else { throw EngineError("'\(plan.data)/testA' holds no held-out samples") }
        let folders = try DatasetFolders(cycleGANRoot: plan.data)
        do { try FileManager.default.createDirectory(atPath: runsDirectory, withIntermediateDirectories: true) } catch {
            throw EngineError("cannot create '\(runsDirectory)': \(error.localizedDescription)")
        }
        var runs: [ExperimentRun] = []
        var identity: VariantMetrics?
        var truthLevel: Double?
        // Per variant, the first seed's outputs on the figure crops.
        var figureOutputs: [ExperimentVariant: [TranslatedImage]] = [:]
        let figureSamples = Array(samples.prefix(plan.figureCrops))
        var secondsPerStep: [ExperimentVariant: Double] = [:]
        for seed in plan.seeds {
            for variant in plan.variants {
                var config = plan.config
                config.seed = seed
                config.baseline = variant == .cyclegan
                let data = try TrainingData.load(folders: folders, channels: config.channels, cropSize: config.imageSize,
                                                 seed: seed, microscopy: plan.microscopyAugmentation, scale: plan.scale)
                config.scale = data.scale
                config.iterationsPerEpoch = data.iterationsPerEpoch
                var options = EngineOptions()
                options.threads = plan.threads
                options.checkpointEvery = 0
                options.keepCheckpoints = 1
                options.previewEvery = 1_000_000
                let name = "\(variant.rawValue)-seed\(seed)"
                let dir = RunDirectory(runsDirectory + "/" + name)
                guard dir.checkpoints().isEmpty else {
                    throw EngineError("'\(dir.path)' already holds a run: choose another --out or remove it")
                }
                options.runDirectory = dir
                options.runName = name
                var deadline: Double?
                switch plan.budget {
                case .steps(let n):
                    options.maxSteps = n
                    config.epochs = plan.epochs ?? max(1, (n + config.iterationsPerEpoch - 1) / config.iterationsPerEpoch)
                case .minutes(let m):
                    deadline = m * 60
                    if let e = plan.epochs {
                        config.epochs = e
                    } else {
                        if secondsPerStep[variant] == nil {
                            secondsPerStep[variant] = try Self.timeSteps(config, threads: plan.threads)
                        }
                        config.epochs = Self.fittedEpochs(seconds: m * 60, secondsPerStep: secondsPerStep[variant]!,
                                                          iterationsPerEpoch: config.iterationsPerEpoch)
                    }
                }
                try config.validate()
                log("\(name): \(config.epochs) epochs of \(config.iterationsPerEpoch) iterations"
                    + (config.baseline ? "" : config.switchEpoch >= config.epochs ? ", no stage 2" : ", stage 2 from epoch \(config.switchEpoch + 1)")
                    + (deadline.map { ", stopped after \(Format.duration($0)) at the latest" } ?? "")
                    + (data.scaleNote.map { "; " + $0 } ?? ""))
                let engine = try Engine(config: config, data: data, options: options)
                let recorder = MetricsRecorder(dir)
                engine.observers.add(recorder)
                engine.observers.add(ProgressLog(name: name, log: log))
                let start = DispatchTime.now().uptimeNanoseconds
                let stopper = DispatchWorkItem { [engine] in engine.send(.stop(save: true)) }
                if let deadline { DispatchQueue.global().asyncAfter(deadline: .now() + deadline, execute: stopper) }
                engine.start()
                engine.waitUntilFinished()
                stopper.cancel()
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                let trainer = engine.trainer
                let last = engine.latestSnapshot
                var run = ExperimentRun(variant: variant, seed: seed, config: trainer.config, steps: trainer.step,
                                        scheduledSteps: trainer.config.totalSteps, seconds: seconds, ended: "schedule")
                if last?.state == .failed {
                    run.ended = "failed"
                    run.failure = "training failed: \(last?.message ?? "unknown error")"
                } else if trainer.step < trainer.config.totalSteps {
                    run.ended = deadline == nil ? "step budget" : "time budget"
                }
                if run.failure == nil {
                    Compute.setThreads(plan.threads)
                    let report = try Evaluation.evaluate(model: trainer.model, samples: samples, mode: .soft, tau: config.tau,
                                                         scale: config.scale)
                    run.summary = report.summary
                    identity = identity ?? report.summary.identity
                    truthLevel = truthLevel ?? report.summary.truthMeanInside
                    let translator = ImageTranslator(model: trainer.model, direction: .st, mode: .soft, tau: config.tau,
                                                     scale: config.scale)
                    if variant == .aggan {
                        run.binary = try Evaluation.evaluate(model: trainer.model, samples: samples, mode: .binary,
                                                             tau: config.tau, scale: config.scale).summary.model
                        var sum = 0.0, n = 0
                        for s in samples {
                            for v in try translator.translate(s.degraded).attentionValues { sum += Double(v); n += 1 }
                        }
                        let mean = sum / Double(max(1, n))
                        run.meanAttention = mean
                        run.failure = Self.attentionFailure(mean: mean, margin: plan.failureMargin)
                    }
                    if figureOutputs[variant] == nil {
                        figureOutputs[variant] = try figureSamples.map { try translator.translate($0.degraded) }
                    }
                }
                log("\(name): \(run.steps) iterations in \(Format.duration(run.seconds)) (\(run.ended))"
                    + (run.summary.map { s in
                        String(format: "; drift %.2f, cell PSNR %.2f dB", s.model.backgroundDrift ?? .nan, s.model.psnrInside ?? .nan)
                            + (variant == .aggan ? String(format: ", IoU %.3f, mean attention %.3f", s.attention.iou, run.meanAttention ?? .nan) : "")
                    } ?? "") + (run.failure.map { "; FAILURE: \($0)" } ?? ""))
                runs.append(run)
            }
        }
        var columns: [String] = []
        var figure: String?
        var gain: Double?
        if !figureSamples.isEmpty, !figureOutputs.isEmpty {
            let made = try Self.figure(samples: figureSamples, outputs: figureOutputs, variants: plan.variants)
            try made.image.writePNG(to: figureFile)
            columns = made.columns
            gain = made.gain
            figure = URL(fileURLWithPath: figureFile).lastPathComponent
        }
        let budget: String
        switch plan.budget {
        case .minutes(let m): budget = "\(Self.number(m)) min per run (wall clock)"
        case .steps(let n): budget = "\(n) iterations per run"
        }
        let result = ExperimentResult(
            command: command, data: plan.data, count: samples.count, budget: budget, threads: plan.threads,
            seeds: plan.seeds, variants: plan.variants, tau: Double(String(plan.config.tau)) ?? Double(plan.config.tau),
            identity: identity ?? VariantMetrics(), truthMeanInside: truthLevel, runs: runs,
            failureMargin: plan.failureMargin, figure: figure, figureColumns: columns, figureGain: gain)
        try AtomicFile.write(text: result.markdown(), to: markdownFile)
        try AtomicFile.write(text: result.json(), to: jsonFile)
        return result
    }

    /// The whole epochs that fit in 95 % of `seconds` at `secondsPerStep` (at least 1).
    static func fittedEpochs(seconds: Double, secondsPerStep: Double, iterationsPerEpoch: Int) -> Int {
        let steps = seconds * 0.95 / max(secondsPerStep, 1e-9)
        return max(1, min(1_000_000, Int(steps / Double(max(1, iterationsPerEpoch)))))
    }

    /// "all-black attention" when the mean attention is below `margin`, "all-white
    /// attention" when it is above 1 - margin, else nil.
    static func attentionFailure(mean: Double, margin: Double) -> String? {
        if mean < margin { return "all-black attention" }
        if mean > 1 - margin { return "all-white attention" }
        return nil
    }

    /// Seconds per training iteration of `config` in stage 1 (the slower stage), from a
    /// throwaway model on random images: 2 untimed and 4 timed iterations.
    static func timeSteps(_ config: Config, threads: Int) throws -> Double {
        Compute.setThreads(threads)
        var c = config
        c.poolSize = 0
        let trainer = try Trainer(config: c)
        var rng = SplitMix64(seed: 99)
        let n = c.channels * c.imageSize * c.imageSize
        func image() throws -> Tensor {
            try Tensor(shape: [1, c.channels, c.imageSize, c.imageSize], data: (0..<n).map { _ in Float(rng.nextDouble() * 2 - 1) })
        }
        let s = try image(), t = try image()
        let guide = try trainer.benchmarkGuide(s, t)
        for _ in 0..<2 { try trainer.step(s, t, guide: guide) }
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<4 { try trainer.step(s, t, guide: guide) }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / 4
    }

    /// Rows = held-out crops; columns = input | attention (AGGAN) | each variant | truth,
    /// each crop scaled 2x (nearest), 4 px white gaps. Dim images (fluorescence) are
    /// hard to see, so every image column is multiplied by the same gain, 1 / (the 99.5th
    /// percentile of the truth crops' values), at most 8 and at least 1 (clipped at 1);
    /// the attention column is shown as it is (0 black, 1 white).
    static func figure(samples: [HeldOutSample], outputs: [ExperimentVariant: [TranslatedImage]],
                       variants: [ExperimentVariant]) throws -> (image: Image, columns: [String], gain: Double) {
        var columns = ["input"]
        if outputs[.aggan] != nil { columns.append("attention (AGGAN)") }
        let shown = variants.filter { outputs[$0] != nil }
        columns += shown.map(\.title)
        columns.append("truth")
        let channels = samples.contains { $0.truth.channels == 3 } ? 3 : 1
        let scale = 2, gap = 4
        let cellW = samples.map(\.truth.width).max()! * scale, cellH = samples.map(\.truth.height).max()! * scale
        let width = columns.count * cellW + (columns.count + 1) * gap
        let height = samples.count * cellH + (samples.count + 1) * gap
        var pixels = [Float](repeating: 1, count: channels * width * height)
        let top = Stats(samples.flatMap(\.truth.pixels).map(Double.init)).percentile(0.995) ?? 1
        let gain = Float(min(8, max(1, 1 / Double(max(top, 1e-6)))))
        func put(_ image: Image, row: Int, column: Int, stretch: Bool = true) throws {
            let im = try image.converted(toChannels: channels)
            let g: Float = stretch ? gain : 1
            let x0 = gap + column * (cellW + gap), y0 = gap + row * (cellH + gap)
            for c in 0..<channels {
                for y in 0..<(im.height * scale) {
                    for x in 0..<(im.width * scale) {
                        pixels[(c * height + y0 + y) * width + x0 + x] = min(1, g * im[c, y / scale, x / scale])
                    }
                }
            }
        }
        for (row, sample) in samples.enumerated() {
            var images = [sample.degraded]
            if let a = outputs[.aggan] { images.append(a[row].attention) }
            images += shown.map { outputs[$0]![row].output }
            images.append(sample.truth)
            let attentionColumn = outputs[.aggan] != nil ? 1 : -1
            for (column, image) in images.enumerated() { try put(image, row: row, column: column, stretch: column != attentionColumn) }
        }
        return (try Image(width: width, height: height, channels: channels, pixels: pixels), columns, Double(gain))
    }

    static func number(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : String(format: "%g", v)
    }
}

/// A progress line every 30 seconds and at the end.
final class ProgressLog: TrainingObserver, @unchecked Sendable {
    let name: String
    let log: @Sendable (String) -> Void
    private var last = Date()

    init(name: String, log: @escaping @Sendable (String) -> Void) { self.name = name; self.log = log }

    func didPublish(_ s: TrainingSnapshot) {
        guard Date().timeIntervalSince(last) >= 30 else { return }
        last = Date()
        let losses = s.losses.map { String(format: " g %.3f cyc %.3f/%.3f d %.3f/%.3f", $0.gTotal, $0.cycS, $0.cycT, $0.dS, $0.dT) } ?? ""
        log("\(name): step \(s.step)/\(s.totalSteps) stage \(s.stage) " + String(format: "%.2f it/s", s.iterationsPerSecond) + losses)
    }
}

// MARK: - Output

extension ExperimentResult {
    /// Mean and sample standard deviation.
    static func stats(_ values: [Double]) -> (mean: Double, sd: Double?)? {
        let s = Stats(values)
        return s.mean.map { ($0, s.standardDeviation) }
    }

    static func cell(_ values: [Double], _ digits: Int) -> String {
        guard let s = stats(values) else { return "-" }
        let m = String(format: "%.\(digits)f", s.mean)
        return s.sd.map { m + " ± " + String(format: "%.\(digits)f", $0) } ?? m
    }

    static func fixed(_ v: Double?, _ digits: Int) -> String {
        guard let v else { return "-" }
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        return String(format: "%.\(digits)f", v)
    }

    func runsOf(_ variant: ExperimentVariant) -> [ExperimentRun] { runs.filter { $0.variant == variant } }

    /// Values of a metric over a variant's evaluated runs.
    func values(_ variant: ExperimentVariant, _ pick: (ExperimentRun) -> Double?) -> [Double] {
        runsOf(variant).compactMap(pick)
    }

    /// The results as Markdown: the summary table (mean ± standard deviation over seeds),
    /// the issue's checks, one row per run, and the command.
    public func markdown() -> String {
        let tauText = String(format: "%.2f", tau)
        var lines = ["# aggan experiment", ""]
        let seedList = seeds.map(String.init).joined(separator: ", ")
        let config = runs.first?.config
        let preset = config.map { "\($0.imageSize) px, \($0.channels) channel\($0.channels == 1 ? "" : "s"), ngf \($0.ngf), \($0.blocks) blocks, ndf \($0.ndf)" } ?? ""
        lines.append("\(count) held-out crops of `\(URL(fileURLWithPath: data).lastPathComponent)`; \(preset); \(budget), \(threads) thread\(threads == 1 ? "" : "s"); seed\(seeds.count == 1 ? "" : "s") \(seedList). Test time: soft attention (the official mode); attention IoU at tau \(tauText), the config's tau.")
        if let c = config { lines.append(""); lines.append("Settings: " + Self.settings(c) + ".") }
        lines.append("")
        var header = "| \(count) held-out crops | identity |"
        var rule = "|---|---|"
        for v in variants { header += " \(v.title) |"; rule += "---|" }
        lines += [header, rule]
        func row(_ title: String, identity: String, _ pick: (ExperimentVariant) -> String) {
            lines.append("| \(title) | \(identity) |" + variants.map { " \(pick($0)) |" }.joined())
        }
        func metric(_ title: String, _ digits: Int, identity: Double?, _ pick: @escaping (VariantMetrics) -> Double?) {
            row(title, identity: Self.fixed(identity, digits)) { v in Self.cell(self.values(v) { $0.summary.flatMap { pick($0.model) } }, digits) }
        }
        row("runs (attention failures)", identity: "-") { v in
            let r = runsOf(v)
            return v == .aggan ? "\(r.count) (\(r.filter { $0.failure != nil }.count))" : "\(r.count) (\(r.filter { $0.failure != nil }.count) failed)"
        }
        row("iterations", identity: "-") { v in Self.cell(self.runsOf(v).map { Double($0.steps) }, 0) }
        metric("background change outside the true mask (of 255)", 2, identity: identity.backgroundDrift) { $0.backgroundDrift }
        metric("cell PSNR vs truth (dB)", 2, identity: identity.psnrInside) { $0.psnrInside }
        metric("whole-image PSNR vs truth (dB)", 2, identity: identity.psnr) { $0.psnr }
        metric("SSIM vs truth", 3, identity: identity.ssim) { $0.ssim }
        metric("cell mean level (truth \(Self.fixed(truthMeanInside, 1)))", 1, identity: identity.meanInside) { $0.meanInside }
        row("cell PSNR, raw generator (A = 1) (dB)", identity: "-") { v in
            Self.cell(self.values(v) { $0.summary?.attentionOne.psnrInside }, 2)
        }
        if variants.contains(.aggan) {
            row("background change, binary mask 1[A > tau]", identity: "-") { v in
                v == .aggan ? Self.cell(self.values(v) { $0.binary?.backgroundDrift }, 2) : "-"
            }
            row("cell PSNR, binary mask 1[A > tau] (dB)", identity: "-") { v in
                v == .aggan ? Self.cell(self.values(v) { $0.binary?.psnrInside }, 2) : "-"
            }
        }
        row("attention IoU at tau \(tauText)", identity: "-") { v in
            v == .aggan ? Self.cell(self.values(v) { $0.summary?.attention.iou }, 3) : "-"
        }
        row("best attention IoU (at threshold)", identity: "-") { v in
            guard v == .aggan else { return "-" }
            let thresholds = self.values(v) { $0.summary?.attention.bestThreshold }.map { String(format: "%.2f", $0) }
            return Self.cell(self.values(v) { $0.summary?.attention.bestIoU }, 3) + " (\(thresholds.joined(separator: ", ")))"
        }
        row("mean attention", identity: "-") { v in v == .aggan ? Self.cell(self.values(v) { $0.meanAttention }, 3) : "-" }
        row("mean attention inside the true mask", identity: "-") { v in
            v == .aggan ? Self.cell(self.values(v) { $0.summary?.attention.meanInside }, 3) : "-"
        }
        row("mean attention outside the true mask", identity: "-") { v in
            v == .aggan ? Self.cell(self.values(v) { $0.summary?.attention.meanOutside }, 3) : "-"
        }
        lines.append("")
        lines.append("Mean ± sample standard deviation over the seeds (no ± with one seed). Failed runs are counted, and their numbers are in the means: a run fails when its mean attention on the held-out crops is below \(Self.fixed(failureMargin, 2)) (all-black) or above \(Self.fixed(1 - failureMargin, 2)) (all-white). Background change: mean |output - input| outside the true cell mask, in 8-bit levels. Cell PSNR: inside the true mask, against the original.")
        if variants.contains(.aggan) { lines += [""] + checks() }
        lines += ["", "## Runs", "",
                  "| variant | seed | iterations | epochs | image scale | ended | time | background | cell PSNR | level | IoU at tau | best IoU (thr) | mean A | failure |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in runs {
            let s = r.summary
            lines.append("| \(r.variant.title) | \(r.seed) | \(r.steps) / \(r.scheduledSteps) | \(r.config.epochs) | \(Format.value(r.config.scale)) | \(r.ended) | \(Format.duration(r.seconds)) | "
                + "\(Self.fixed(s?.model.backgroundDrift, 2)) | \(Self.fixed(s?.model.psnrInside, 2)) | \(Self.fixed(s?.model.meanInside, 1)) | "
                + (r.variant == .aggan ? "\(Self.fixed(s?.attention.iou, 3)) | \(Self.fixed(s?.attention.bestIoU, 3)) (\(Self.fixed(s?.attention.bestThreshold, 2))) | \(Self.fixed(r.meanAttention, 3))" : "- | - | -")
                + " | \(r.failure ?? "") |")
        }
        if let figure {
            let shown = figureGain.map { $0 > 1.0001 ? " Images (not the attention) are shown \(String(format: "%.2f", $0))x brighter, the same for every column, clipped at white." : "" } ?? ""
            lines += ["", "## Figure", "", "`\(figure)`: one held-out crop per row (first seed), 2x; columns: \(figureColumns.joined(separator: " | ")).\(shown)",
                      "", "![\(figureColumns.joined(separator: " | "))](\(figure))"]
        }
        lines += ["", "## Command", "", "```", command, "```", ""]
        return lines.joined(separator: "\n")
    }

    /// The options that differ from the spec's model and the schedule, in words.
    static func settings(_ c: Config) -> String {
        var parts = ["lr \(String(format: "%g", c.learningRate))", "lambda \(String(format: "%g", c.lambda))",
                     "tau \(String(format: "%g", c.tau))", "switch at \(Int((c.switchFraction * 100).rounded())) % of the epochs",
                     "attention \(c.freezeAttention ? "frozen" : "trained") in stage 2", "pool \(c.poolSize)"]
        if c.attentionPrior > 0 { parts.append("attention prior \(String(format: "%g", c.attentionPrior))") }
        if c.attentionSparsity > 0 { parts.append("attention sparsity \(String(format: "%g", c.attentionSparsity))") }
        if c.guidesAttention {
            parts.append("attention guide \(String(format: "%g", c.attentionGuide))" + (c.attentionGuideBalance ? ", classes balanced" : "")
                         + (c.attentionGuideFade ? ", fading to 0 at the switch" : ""))
        }
        if c.attentionIdentity > 0 { parts.append("attention identity \(String(format: "%g", c.attentionIdentity))") }
        if c.attentionNormEpsilon != 1e-5 { parts.append("attention norm eps \(String(format: "%g", c.attentionNormEpsilon))") }
        if c.identityWeight > 0 { parts.append("identity weight \(String(format: "%g", c.identityWeight))") }
        if c.averagesAttention { parts.append("attention averaged over stage 1 (decay \(String(format: "%g", c.attentionAverage)))") }
        return parts.joined(separator: ", ")
    }

    /// The measurable claims of issue 7, each with the measured means and a verdict.
    func checks() -> [String] {
        func mean(_ v: ExperimentVariant, _ pick: (VariantMetrics) -> Double?) -> Double? {
            Self.stats(values(v) { $0.summary.flatMap { pick($0.model) } })?.mean
        }
        func verdict(_ ok: Bool?) -> String { ok.map { $0 ? "**met**" : "**not met**" } ?? "not measured" }
        let drift = mean(.aggan) { $0.backgroundDrift }, cycleDrift = mean(.cyclegan) { $0.backgroundDrift }
        let cell = mean(.aggan) { $0.psnrInside }, cycleCell = mean(.cyclegan) { $0.psnrInside }
        let iou = Self.stats(values(.aggan) { $0.summary?.attention.iou })?.mean
        var out = ["## Checks (means)", ""]
        out.append("- background change at most 1 of 255: \(Self.fixed(drift, 2)), \(verdict(drift.map { $0 <= 1 }))")
        out.append("- background change at most a quarter of CycleGAN's (\(Self.fixed(cycleDrift, 2))): \(verdict(drift.flatMap { d in cycleDrift.map { d <= $0 / 4 } }))")
        out.append("- cell PSNR at least 3 dB above the identity's (\(Self.fixed(identity.psnrInside, 2)) dB): \(Self.fixed(cell, 2)) dB, \(verdict(cell.flatMap { c in identity.psnrInside.map { c >= $0 + 3 } }))")
        out.append("- cell PSNR not below CycleGAN's (\(Self.fixed(cycleCell, 2)) dB): \(verdict(cell.flatMap { c in cycleCell.map { c >= $0 } }))")
        out.append("- attention IoU at tau \(String(format: "%.2f", tau)) at least 0.6: \(Self.fixed(iou, 3)), \(verdict(iou.map { $0 >= 0.6 }))")
        let inside = Self.stats(values(.aggan) { $0.summary?.attention.meanInside })?.mean
        let outside = Self.stats(values(.aggan) { $0.summary?.attention.meanOutside })?.mean
        out.append("- crisp attention, mean at least 0.6 inside the true mask and at most 0.05 outside: \(Self.fixed(inside, 3)) / \(Self.fixed(outside, 3)), \(verdict(inside.flatMap { i in outside.map { i >= 0.6 && $0 <= 0.05 } }))")
        let binaryCell = Self.stats(values(.aggan) { $0.binary?.psnrInside })?.mean
        out.append("- binary composite cell PSNR within 1.5 dB of the soft one's: \(Self.fixed(binaryCell, 2)) dB, \(verdict(binaryCell.flatMap { b in cell.map { $0 - b <= 1.5 } }))")
        let failures = runsOf(.aggan).filter { $0.failure != nil }.count
        out.append("- attention failures: \(failures) of \(runsOf(.aggan).count) runs")
        return out
    }

    /// Pretty-printed JSON with sorted keys (infinities as "inf").
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
