// Evaluation on held-out pairs (`aggan eval`): the model, the identity and the same
// checkpoint with attention forced to 1, against the truth, inside and outside the cells.

import AGGAN
import Foundation
import Imaging
import Tensor
import TrainingEngine

/// Image metrics of one output against the truth (and the input), for one sample or as
/// means over samples.
///
/// PSNR in dB with data range 1 (`+infinity` where the images agree); MAE, drift and
/// levels in 8-bit levels (x 255, whatever the file's depth). "Inside" and "outside"
/// are the true cell mask. `nil` where a metric is undefined (a region without pixels,
/// SSIM of an image under 11 x 11).
public struct VariantMetrics: Sendable, Equatable, Codable {
    /// PSNR against the truth, whole image.
    public var psnr: Double?
    /// SSIM against the truth (`Imaging.ssim`: Gaussian window 11, sigma 1.5).
    public var ssim: Double?
    /// PSNR against the truth inside the mask.
    public var psnrInside: Double?
    /// PSNR against the truth outside the mask.
    public var psnrOutside: Double?
    /// Mean |output - truth| inside the mask.
    public var maeInside: Double?
    /// Mean |output - truth| outside the mask.
    public var maeOutside: Double?
    /// Background drift: mean |output - input| outside the mask. The degradation of the
    /// bundled samples reaches a few pixels beyond the mask, so a perfect restoration
    /// shows a small drift too.
    public var backgroundDrift: Double?
    /// Mean level of the output inside the mask (compare `truthMeanInside`).
    public var meanInside: Double?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case psnr = "psnr_db", ssim, psnrInside = "psnr_inside_db", psnrOutside = "psnr_outside_db"
        case maeInside = "mae_inside", maeOutside = "mae_outside", backgroundDrift = "background_drift"
        case meanInside = "mean_inside"
    }

    /// The metrics of `output` for a sample with input `input`, truth `truth` and cell
    /// mask `mask` (all the same size; `output` is converted to the truth's channels).
    public init(output: Image, input: Image, truth: Image, mask: PixelMask) throws {
        let out = try output.converted(toChannels: truth.channels)
        let inp = try input.converted(toChannels: truth.channels)
        psnr = try Imaging.psnr(out, truth)
        ssim = try? Imaging.ssim(out, truth)
        psnrInside = try maskedPSNR(out, truth, mask: mask, region: .inside)
        psnrOutside = try maskedPSNR(out, truth, mask: mask, region: .outside)
        maeInside = try maskedMeanAbsoluteError(out, truth, mask: mask, region: .inside).map { $0 * 255 }
        maeOutside = try maskedMeanAbsoluteError(out, truth, mask: mask, region: .outside).map { $0 * 255 }
        backgroundDrift = try Imaging.backgroundDrift(output: out, input: inp, mask: mask)
        meanInside = meanLevel(out, mask: mask)
    }

    /// Every metric with its JSON name, in table order.
    var fields: [(String, Double?)] {
        [("psnr_db", psnr), ("ssim", ssim), ("psnr_inside_db", psnrInside), ("psnr_outside_db", psnrOutside),
         ("mae_inside", maeInside), ("mae_outside", maeOutside), ("background_drift", backgroundDrift),
         ("mean_inside", meanInside)]
    }
}

/// Mean level (x 255) of `image` over the set pixels of `mask` and all channels; nil when
/// the mask is empty.
func meanLevel(_ image: Image, mask: PixelMask) -> Double? {
    let n = image.planeSize
    var sum = 0.0, count = 0
    for i in 0..<n where mask.bits[i] {
        for c in 0..<image.channels { sum += Double(image.pixels[c * n + i]) }
        count += image.channels
    }
    return count == 0 ? nil : sum / Double(count) * 255
}

/// How well the attention mask finds the cells: `1[A > tau]` against the true mask, and
/// the best IoU over a sweep of thresholds.
public struct AttentionMetrics: Sendable, Equatable, Codable {
    /// IoU of `1[A > tau]` with the mask (1 when both are empty).
    public var iou: Double
    /// Dice of `1[A > tau]` with the mask.
    public var dice: Double
    /// The highest IoU over `Evaluation.sweepThresholds` (per sample: that sample's; in
    /// the summary: the highest mean IoU, i.e. one threshold for the whole set).
    public var bestIoU: Double
    /// The (first) threshold where `bestIoU` is reached.
    public var bestThreshold: Double
    /// Crispness: the mean attention inside and outside the true mask (nil where the
    /// region is empty; in reports written before they existed).
    public var meanInside: Double?
    public var meanOutside: Double?

    public init(iou: Double, dice: Double, bestIoU: Double, bestThreshold: Double,
                meanInside: Double? = nil, meanOutside: Double? = nil) {
        self.iou = iou; self.dice = dice; self.bestIoU = bestIoU; self.bestThreshold = bestThreshold
        self.meanInside = meanInside; self.meanOutside = meanOutside
    }

    enum CodingKeys: String, CodingKey {
        case iou, dice, bestIoU = "best_iou", bestThreshold = "best_threshold"
        case meanInside = "mean_inside", meanOutside = "mean_outside"
    }
}

/// The evaluation of one held-out sample.
public struct SampleEvaluation: Sendable, Equatable, Codable {
    /// The file name.
    public var name: String
    /// The model with the evaluation's threshold mode and tau.
    public var model: VariantMetrics
    /// The input unchanged.
    public var identity: VariantMetrics
    /// The same checkpoint with attention forced to 1 (CycleGAN-style full-image change).
    public var attentionOne: VariantMetrics
    /// Mean level of the truth inside the mask.
    public var truthMeanInside: Double?
    /// The model's attention against the mask.
    public var attention: AttentionMetrics
    /// Fraction of the pixels inside the mask.
    public var maskFraction: Double
    /// IoU of `1[A > t]` at each threshold of the sweep (not written to JSON).
    public var sweepIoU: [Double]

    enum CodingKeys: String, CodingKey {
        case name, model, identity, attentionOne = "attention_one", truthMeanInside = "truth_mean_inside"
        case attention, maskFraction = "mask_fraction"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        model = try c.decode(VariantMetrics.self, forKey: .model)
        identity = try c.decode(VariantMetrics.self, forKey: .identity)
        attentionOne = try c.decode(VariantMetrics.self, forKey: .attentionOne)
        truthMeanInside = try c.decodeIfPresent(Double.self, forKey: .truthMeanInside)
        attention = try c.decode(AttentionMetrics.self, forKey: .attention)
        maskFraction = try c.decode(Double.self, forKey: .maskFraction)
        sweepIoU = []
    }

    init(name: String, model: VariantMetrics, identity: VariantMetrics, attentionOne: VariantMetrics,
         truthMeanInside: Double?, attention: AttentionMetrics, maskFraction: Double, sweepIoU: [Double]) {
        self.name = name; self.model = model; self.identity = identity; self.attentionOne = attentionOne
        self.truthMeanInside = truthMeanInside; self.attention = attention
        self.maskFraction = maskFraction; self.sweepIoU = sweepIoU
    }
}

/// Means over the samples.
///
/// Each metric is the mean over the samples where it is defined. A PSNR of `+infinity`
/// (output identical to the truth in that region) would make a mean infinite, so
/// infinite values are left out of the mean and counted in `infiniteCounts` (key
/// `variant.metric`, for example `identity.psnr_db`); when every defined value is
/// infinite, the mean is `+infinity` (and nothing is counted).
public struct EvaluationSummary: Sendable, Equatable, Codable {
    public var model: VariantMetrics
    public var identity: VariantMetrics
    public var attentionOne: VariantMetrics
    public var truthMeanInside: Double?
    /// Mean IoU and Dice at tau; the best mean IoU over the sweep and its threshold.
    public var attention: AttentionMetrics
    /// Infinite values left out of a mean of finite ones, by `variant.metric`.
    public var infiniteCounts: [String: Int]

    enum CodingKeys: String, CodingKey {
        case model, identity, attentionOne = "attention_one", truthMeanInside = "truth_mean_inside"
        case attention, infiniteCounts = "infinite_values_left_out"
    }
}

/// The result of `aggan eval`.
public struct EvaluationReport: Sendable, Equatable, Codable {
    /// a2b: held-out inputs (`testA`) translated toward the truth (`testB_truth`).
    public var direction: String
    /// The threshold mode of the model variant.
    public var mode: String
    /// The threshold of the mode and of the attention IoU.
    public var tau: Double
    /// Whether the checkpoint itself is the CycleGAN baseline (then the model and
    /// attention=1 variants coincide).
    public var baselineCheckpoint: Bool
    /// Number of samples.
    public var count: Int
    /// Means.
    public var summary: EvaluationSummary
    /// Per sample, in file-name order.
    public var samples: [SampleEvaluation]

    enum CodingKeys: String, CodingKey {
        case direction, mode, tau, baselineCheckpoint = "baseline_checkpoint", count, summary, samples
    }
}

/// Evaluating a model on held-out pairs and masks.
public enum Evaluation {
    /// Thresholds of the IoU sweep: 0.01, 0.02, ..., 0.90.
    public static let sweepThresholds: [Double] = (1...90).map { Double($0) / 100 }

    /// Evaluates the checkpoint at `checkpoint` on the held-out set of the dataset at
    /// `data` (`testA`, `testB_truth`, `testMasks`, as `aggan samples` writes them).
    /// `tau` defaults to the checkpoint's config (0.1 for weights-only files).
    ///
    /// Only the samples of `shard` (by sorted file name) are evaluated. With `results`, a
    /// JSON-lines file (see `EvaluationResultsFile`), samples already in it with the same
    /// checkpoint and settings are taken from it, and each new one is appended as soon as
    /// it is measured, so a killed evaluation continues where it stopped. Samples are
    /// read a few at a time, so memory does not grow with the set.
    public static func evaluate(checkpoint: String, data: String, mode: ThresholdMode = .soft, tau: Float? = nil,
                                tiling: TilingOptions = TilingOptions(), axes: String? = nil, channel: String? = nil,
                                normalization: IntensityNormalization? = nil, shard: Shard = .all,
                                results: String? = nil) throws -> EvaluationReport {
        let (model, config, file) = try Checkpoint.loadModel(checkpoint)
        // TIFF samples are normalised as the checkpoint's run was, unless told otherwise.
        let stored = try config.map { try IntensityNormalization(parsing: $0.normalize) } ?? .standard
        let options = ReadOptions(axes: axes, channel: channel, normalization: normalization ?? stored)
        let scale = Checkpoint.scale(config: config, file: file)
        let tau = tau ?? config?.tau ?? 0.1
        let resultsFile = try results.map { path in
            EvaluationResultsFile(path: path, key: [
                "checkpoint": try fileDigest(checkpoint), "mode": mode.rawValue, "tau": String(tau),
                "max_pixels": String(tiling.maxPixels), "tile": String(tiling.tileSize), "overlap": String(tiling.overlap),
                "axes": axes ?? "-", "channel": channel ?? "-", "normalize": options.normalization.description,
            ])
        }
        return try evaluate(model: model, data: data, options: options, mode: mode, tau: tau, tiling: tiling,
                            scale: scale, shard: shard, results: resultsFile)
    }

    /// Translates each sample's degraded image a2b with the model (mode, tau), with the
    /// model's attention forced to 1, and takes the input as it is; measures all three
    /// against the truth. Outputs are quantized to the sample's bit depth first, as the
    /// files `aggan translate` writes would be. The model's `attentionIsOne` is restored.
    public static func evaluate(model: AGGANModel, samples: [HeldOutSample], mode: ThresholdMode, tau: Float,
                                tiling: TilingOptions = TilingOptions(), scale: Double = 1) throws -> EvaluationReport {
        guard !samples.isEmpty else { throw InferenceError("no held-out samples to evaluate") }
        guard tau.isFinite, tau >= 0, tau <= 1 else { throw InferenceError("tau must be in [0, 1], got \(tau)") }
        let evaluator = SampleEvaluator(model: model, mode: mode, tau: tau, tiling: tiling, scale: scale)
        let results = try samples.map(evaluator.evaluate)
        return EvaluationReport(direction: Direction.st.rawValue, mode: mode.rawValue, tau: Double(String(tau)) ?? Double(tau),
                                baselineCheckpoint: model.attentionIsOne, count: results.count,
                                summary: summarize(results), samples: results)
    }

    /// Translates one sample's degraded image a2b with the model (mode, tau), with the
    /// model's attention forced to 1, and takes the input as it is; measures all three
    /// against the truth. The model's `attentionIsOne` is restored.
    struct SampleEvaluator {
        let model: AGGANModel, tau: Float
        let translator: ImageTranslator, fullChange: ImageTranslator

        init(model: AGGANModel, mode: ThresholdMode, tau: Float, tiling: TilingOptions, scale: Double) {
            self.model = model
            self.tau = tau
            translator = ImageTranslator(model: model, direction: .st, mode: mode, tau: tau, tiling: tiling, scale: scale)
            // A == 1 composes to G(x) whatever the mode (a threshold of 1 would otherwise zero it).
            fullChange = ImageTranslator(model: model, direction: .st, mode: .soft, tau: tau, tiling: tiling, scale: scale)
        }

        func evaluate(_ sample: HeldOutSample) throws -> SampleEvaluation {
            let input = sample.degraded, truth = sample.truth, mask = sample.mask
            let baseline = model.attentionIsOne
            defer { model.attentionIsOne = baseline }
            do {
                let translated = try translator.translate(input)
                model.attentionIsOne = true
                let full = try fullChange.translate(input)
                model.attentionIsOne = baseline

                let attention = try attentionMetrics(translated.attentionValues, width: input.width,
                                                     height: input.height, mask: mask, tau: tau)
                return SampleEvaluation(
                    name: sample.name,
                    model: try VariantMetrics(output: translated.output, input: input, truth: truth, mask: mask),
                    identity: try VariantMetrics(output: input, input: input, truth: truth, mask: mask),
                    attentionOne: try VariantMetrics(output: full.output, input: input, truth: truth, mask: mask),
                    truthMeanInside: meanLevel(truth, mask: mask),
                    attention: attention.metrics,
                    maskFraction: Double(mask.count) / Double(mask.bits.count),
                    sweepIoU: attention.sweep)
            } catch let error as InferenceError {
                throw error
            } catch {
                throw InferenceError("cannot evaluate sample '\(sample.name)': \(error)")
            }
        }
    }

    /// IoU and Dice at tau, and the IoU at every sweep threshold.
    static func attentionMetrics(_ a: [Float], width: Int, height: Int, mask: PixelMask,
                                 tau: Float) throws -> (metrics: AttentionMetrics, sweep: [Double]) {
        let atTau = try PixelMask(attention: a, width: width, height: height, threshold: tau)
        let sweep = try sweepThresholds.map { t in
            try intersectionOverUnion(PixelMask(attention: a, width: width, height: height, threshold: Float(t)), mask)
        }
        let best = bestOf(sweep)
        func mean(_ inside: Bool) -> Double? {
            let v = zip(a, mask.bits).filter { $0.1 == inside }.map { Double($0.0) }
            return v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
        }
        return (AttentionMetrics(iou: try intersectionOverUnion(atTau, mask), dice: try dice(atTau, mask),
                                 bestIoU: best.value, bestThreshold: best.threshold,
                                 meanInside: mean(true), meanOutside: mean(false)), sweep)
    }

    /// The largest value and the (first) sweep threshold where it occurs.
    static func bestOf(_ sweep: [Double]) -> (value: Double, threshold: Double) {
        var bestIndex = 0
        for (i, v) in sweep.enumerated() where v > sweep[bestIndex] { bestIndex = i }
        return (sweep.isEmpty ? 0 : sweep[bestIndex], sweepThresholds[bestIndex])
    }

    /// Means over samples (see `EvaluationSummary`).
    static func summarize(_ results: [SampleEvaluation]) -> EvaluationSummary {
        var infinite: [String: Int] = [:]
        func mean(_ key: String, _ values: [Double?]) -> Double? {
            let defined = values.compactMap { $0 }
            guard !defined.isEmpty else { return nil }
            let finite = defined.filter { $0.isFinite }
            guard !finite.isEmpty else { return defined[0] }
            if finite.count < defined.count { infinite[key] = defined.count - finite.count }
            return finite.reduce(0, +) / Double(finite.count)
        }
        func meanVariant(_ name: String, _ pick: (SampleEvaluation) -> VariantMetrics) -> VariantMetrics {
            let all = results.map(pick)
            var m = VariantMetrics()
            m.psnr = mean("\(name).psnr_db", all.map(\.psnr))
            m.ssim = mean("\(name).ssim", all.map(\.ssim))
            m.psnrInside = mean("\(name).psnr_inside_db", all.map(\.psnrInside))
            m.psnrOutside = mean("\(name).psnr_outside_db", all.map(\.psnrOutside))
            m.maeInside = mean("\(name).mae_inside", all.map(\.maeInside))
            m.maeOutside = mean("\(name).mae_outside", all.map(\.maeOutside))
            m.backgroundDrift = mean("\(name).background_drift", all.map(\.backgroundDrift))
            m.meanInside = mean("\(name).mean_inside", all.map(\.meanInside))
            return m
        }
        let n = Double(results.count)
        let sweepMeans = sweepThresholds.indices.map { i in results.reduce(0) { $0 + $1.sweepIoU[i] } / n }
        let best = bestOf(sweepMeans)
        let attention = AttentionMetrics(iou: results.reduce(0) { $0 + $1.attention.iou } / n,
                                         dice: results.reduce(0) { $0 + $1.attention.dice } / n,
                                         bestIoU: best.value, bestThreshold: best.threshold,
                                         meanInside: mean("attention.mean_inside", results.map(\.attention.meanInside)),
                                         meanOutside: mean("attention.mean_outside", results.map(\.attention.meanOutside)))
        return EvaluationSummary(model: meanVariant("model", \.model), identity: meanVariant("identity", \.identity),
                                 attentionOne: meanVariant("attention_one", \.attentionOne),
                                 truthMeanInside: mean("truth_mean_inside", results.map(\.truthMeanInside)),
                                 attention: attention, infiniteCounts: infinite)
    }
}

// MARK: - Output

extension EvaluationReport {
    /// The report as pretty-printed JSON with sorted keys; `+infinity` is written as the
    /// string "inf", and undefined metrics are left out.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            return String(decoding: try encoder.encode(self), as: UTF8.self)
        } catch {
            throw InferenceError("cannot encode the evaluation as JSON: \(error)")
        }
    }

    /// An aligned text table: one row per variant (model, identity, attention=1) and the
    /// truth's mean level, then the attention's IoU and Dice, and a legend.
    public func table() -> String {
        let columns = ["PSNR", "SSIM", "PSNR in", "PSNR out", "MAE in", "MAE out", "drift", "level in"]
        func cells(_ m: VariantMetrics, _ variant: String) -> [String] {
            func mark(_ key: String) -> String { summary.infiniteCounts["\(variant).\(key)"] == nil ? "" : "*" }
            return [format(m.psnr, 2) + mark("psnr_db"), format(m.ssim, 3) + mark("ssim"),
                    format(m.psnrInside, 2) + mark("psnr_inside_db"), format(m.psnrOutside, 2) + mark("psnr_outside_db"),
                    format(m.maeInside, 2), format(m.maeOutside, 2), format(m.backgroundDrift, 2),
                    format(m.meanInside, 1)]
        }
        var rows: [[String]] = [
            ["variant"] + columns,
            ["model"] + cells(summary.model, "model"),
            ["identity"] + cells(summary.identity, "identity"),
            ["attention=1"] + cells(summary.attentionOne, "attention_one"),
            ["truth", "", "", "", "", "", "", "", format(summary.truthMeanInside, 1)],
        ]
        if baselineCheckpoint { rows[1][0] = "model (A=1)" }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        var lines = ["\(count) held-out sample\(count == 1 ? "" : "s"), direction \(direction), mode \(mode), tau \(format(tau, 2))"]
        for row in rows {
            let text = row.enumerated().map { c, cell in
                c == 0 ? cell.padding(toLength: widths[0], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[c] - cell.count) + cell
            }.joined(separator: "  ")
            lines.append(String(text.reversed().drop { $0 == " " }.reversed()))
        }
        let a = summary.attention
        lines.append("attention 1[A > \(format(tau, 2))] vs mask: IoU \(format(a.iou, 3))  Dice \(format(a.dice, 3))  best IoU \(format(a.bestIoU, 3)) at threshold \(format(a.bestThreshold, 2))")
        lines.append("PSNR in dB vs the truth; MAE, drift (|output - input| outside the mask) and level in 8-bit levels; in/out = inside/outside the mask; means over samples.")
        if !summary.infiniteCounts.isEmpty {
            let list = summary.infiniteCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append("* infinite values (output identical to the truth there) left out of the mean: \(list).")
        }
        return lines.joined(separator: "\n")
    }
}

/// A number with `digits` decimals, "inf" for infinity, "-" when undefined.
private func format(_ v: Double?, _ digits: Int) -> String {
    guard let v else { return "-" }
    if v.isNaN { return "nan" }
    if v.isInfinite { return v > 0 ? "inf" : "-inf" }
    return String(format: "%.\(digits)f", v)
}
