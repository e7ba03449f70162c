import Foundation

/// Everything that defines a model and its training schedule. Saved in checkpoints and in
/// a run's `config.json`.
public struct Config: Codable, Sendable, Equatable {
    /// Training crop size in pixels (a multiple of 4, at least 24 for the discriminator).
    public var imageSize = 64
    /// Image channels: 1 (gray) or 3 (RGB).
    public var channels = 1
    /// Generator base width, residual blocks, discriminator base width.
    public var ngf = 16, blocks = 3, ndf = 32
    /// Cycle-consistency weight.
    public var lambda: Float = 10
    /// Adam learning rate (constant for the first half of the epochs, then linear decay).
    public var learningRate: Float = 2e-4
    public var epochs = 100
    /// Iterations per epoch (CycleGAN: the larger domain's image count).
    public var iterationsPerEpoch = 100
    /// Stage 2 starts at this fraction of the epochs.
    public var switchFraction = 0.3
    /// Attention threshold for stage 2 and the thresholded test-time modes.
    public var tau: Float = 0.1
    public var poolSize = 50
    public var seed: UInt64 = 0
    /// The CycleGAN baseline: attention fixed to 1, no stage 2.
    public var baseline = false

    // Options the paper lacks. Their defaults give the spec's model exactly (and are what
    // a checkpoint written before they existed decodes to).

    /// Whether the attention networks stop learning at the stage switch (the spec: true).
    public var freezeAttention = true
    /// Weight of a prior pushing each attention value toward 0 or 1:
    /// `w * (mean(A_S(s) * (1 - A_S(s))) + mean(A_T(t) * (1 - A_T(t))))`, added to L_G
    /// (0 = off, the spec).
    public var attentionPrior: Float = 0
    /// Weight of a sparsity term on the attention: `w * (mean(A_S(s)) + mean(A_T(t)))`,
    /// added to L_G (0 = off, the spec).
    public var attentionSparsity: Float = 0
    /// Weight of CycleGAN's identity term on the raw generators:
    /// `w * (mean(|G_ST(t) - t|) + mean(|G_TS(s) - s|))`, added to L_G (0 = off, the
    /// spec; CycleGAN's usual setting is 0.5 * lambda).
    public var identityWeight: Float = 0
    /// Decay of an exponential moving average of the attention networks' weights over
    /// stage 1 (`avg = d * avg + (1 - d) * w` after each step); at the stage switch the
    /// frozen attention takes the averaged weights instead of the last step's (0 = off, the
    /// spec). Only with `freezeAttention`: an attention that keeps learning is not replaced.
    public var attentionAverage: Float = 0
    /// Weight of the attention guide in stage 1: `w * (BCE(A_S(s), P(s)) + BCE(A_T(t), P(t)))`
    /// added to L_G (binary cross-entropy, mean over pixels), where P is the crop's cell prior mask
    /// (`CellPrior`: a nuclear-stain feature thresholded by Otsu's method over the domain)
    /// (0 = off, the spec).
    public var attentionGuide: Float = 0
    /// Whether the guide balances its two classes: the prior's cell pixels weighted by
    /// 1 / (2f) and the others by 1 / (2(1 - f)), f the fraction of cell pixels in the
    /// domain's prior (the weights average 1 over the domain). Unbalanced, cells that
    /// fill a tenth of the pixels leave the attention hedging below 0.5 inside them
    /// (false: the plain cross-entropy).
    public var attentionGuideBalance = false
    /// Whether the guide's weight fades linearly from `attentionGuide` at the first step
    /// to 0 at the stage switch (false: constant over stage 1). The prior starts the
    /// attention; as it fades, the adversarial and cycle terms correct it where the prior
    /// marks what the two domains share (faint nuclei, stained tissue) (docs/MODEL.md).
    public var attentionGuideFade = false
    /// Weight of the attention's identity term in stage 1:
    /// `w * (BCE(A_T(s), 0) + BCE(A_S(t), 0))` added to L_G: an image already in the
    /// target domain needs no translation, so the attention that would translate it marks
    /// nothing (CycleGAN's identity term, for the attention). What looks alike in both
    /// domains (faint nuclei, stained tissue) then leaves the attention off (0 = off).
    public var attentionIdentity: Float = 0
    /// Images are resized by this factor before the networks see them, in training and in
    /// translation (1: as they are). `aggan train` chooses it from the cells' measured size
    /// (`--scale auto`, Imaging's `CellScale`) so a crop holds whole cells and background.
    public var scale: Double = 1
    /// The eps of the attention networks' instance norms (1e-5: the spec). Instance norm
    /// makes a network blind to a crop's contrast: a blank crop's faint noise is stretched
    /// to look like texture. A larger eps leaves faint variation faint.
    public var attentionNormEpsilon: Float = 1e-5
    /// How TIFF intensities map to the model's [0, 1] (`--normalize`: `p0.1,p99.9`,
    /// `fixed:LOW,HIGH` or `none`; Imaging's `IntensityNormalization` parses it). PNG files
    /// are always read as stored level / maximum level.
    public var normalize = "p0.1,p99.9"

    public init() {}

    enum CodingKeys: String, CodingKey {
        case imageSize, channels, ngf, blocks, ndf, lambda, learningRate, epochs, iterationsPerEpoch
        case switchFraction, tau, poolSize, seed, baseline
        case freezeAttention, attentionPrior, attentionSparsity, identityWeight, attentionAverage, attentionGuide
        case attentionGuideBalance, scale, attentionNormEpsilon, normalize, attentionGuideFade, attentionIdentity
    }

    /// Decodes every field of the spec's model; the later options may be missing (a
    /// checkpoint or config.json written before they existed) and then take their defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        imageSize = try c.decode(Int.self, forKey: .imageSize)
        channels = try c.decode(Int.self, forKey: .channels)
        ngf = try c.decode(Int.self, forKey: .ngf)
        blocks = try c.decode(Int.self, forKey: .blocks)
        ndf = try c.decode(Int.self, forKey: .ndf)
        lambda = try c.decode(Float.self, forKey: .lambda)
        learningRate = try c.decode(Float.self, forKey: .learningRate)
        epochs = try c.decode(Int.self, forKey: .epochs)
        iterationsPerEpoch = try c.decode(Int.self, forKey: .iterationsPerEpoch)
        switchFraction = try c.decode(Double.self, forKey: .switchFraction)
        tau = try c.decode(Float.self, forKey: .tau)
        poolSize = try c.decode(Int.self, forKey: .poolSize)
        seed = try c.decode(UInt64.self, forKey: .seed)
        baseline = try c.decode(Bool.self, forKey: .baseline)
        freezeAttention = try c.decodeIfPresent(Bool.self, forKey: .freezeAttention) ?? true
        attentionPrior = try c.decodeIfPresent(Float.self, forKey: .attentionPrior) ?? 0
        attentionSparsity = try c.decodeIfPresent(Float.self, forKey: .attentionSparsity) ?? 0
        identityWeight = try c.decodeIfPresent(Float.self, forKey: .identityWeight) ?? 0
        attentionAverage = try c.decodeIfPresent(Float.self, forKey: .attentionAverage) ?? 0
        attentionGuide = try c.decodeIfPresent(Float.self, forKey: .attentionGuide) ?? 0
        attentionGuideBalance = try c.decodeIfPresent(Bool.self, forKey: .attentionGuideBalance) ?? false
        attentionGuideFade = try c.decodeIfPresent(Bool.self, forKey: .attentionGuideFade) ?? false
        attentionIdentity = try c.decodeIfPresent(Float.self, forKey: .attentionIdentity) ?? 0
        scale = try c.decodeIfPresent(Double.self, forKey: .scale) ?? 1
        attentionNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .attentionNormEpsilon) ?? 1e-5
        normalize = try c.decodeIfPresent(String.self, forKey: .normalize) ?? "p0.1,p99.9"
    }

    /// Whether every option the paper lacks is at its default (the spec's model).
    public var isSpecModel: Bool {
        freezeAttention && attentionPrior == 0 && attentionSparsity == 0 && identityWeight == 0 && attentionAverage == 0
            && attentionGuide == 0 && attentionNormEpsilon == 1e-5 && attentionIdentity == 0
    }

    /// Whether the trainer keeps the average of `attentionAverage`.
    public var averagesAttention: Bool { attentionAverage > 0 && freezeAttention && !baseline }

    /// Whether stage 1 guides the attention toward the cell prior (`attentionGuide`).
    public var guidesAttention: Bool { attentionGuide > 0 && !baseline }

    /// The guide's weight at a 0-based step: `attentionGuide`, or with `attentionGuideFade`
    /// `attentionGuide * (1 - step / s)`, s the first step of stage 2 (0 from there on).
    public func guideWeight(step: Int) -> Float {
        guard attentionGuideFade else { return attentionGuide }
        let switchStep = switchEpoch * iterationsPerEpoch
        return switchStep > 0 ? attentionGuide * Float(max(0, 1 - Double(step) / Double(switchStep))) : 0
    }

    /// The guide's weights for cell and background pixels of a domain whose prior marks a
    /// fraction `f` of the pixels as cells (f kept in [0.01, 0.99]); 1 and 1 unbalanced.
    public func guideWeights(cellFraction f: Double) -> (cells: Float, background: Float) {
        guard attentionGuideBalance else { return (1, 1) }
        let f = min(max(f, 0.01), 0.99)
        return (Float(0.5 / f), Float(0.5 / (1 - f)))
    }

    /// A named preset (see `Preset`; docs/MODEL.md has each departure's evidence).
    public init(preset: Preset) {
        self.init()
        switch preset {
        case .tiny:
            imageSize = 64; ngf = 16; blocks = 3; ndf = 32; learningRate = 2e-4; epochs = 100
            switchFraction = 0.7; attentionAverage = 0.995; attentionGuide = 10; attentionGuideBalance = true; tau = 0.5
            identityWeight = 5
        case .small:
            imageSize = 128; ngf = 32; blocks = 6; ndf = 64; learningRate = 2e-4; epochs = 100
        case .paper:
            imageSize = 256; ngf = 32; blocks = 9; ndf = 64; learningRate = 1e-4; epochs = 100
        }
    }

    /// Checks every field; the error names the field and the value.
    public func validate() throws {
        guard imageSize >= 24, imageSize % 4 == 0 else { throw ConfigError("image size \(imageSize) must be a multiple of 4 and at least 24") }
        guard channels == 1 || channels == 3 else { throw ConfigError("channels \(channels) must be 1 or 3") }
        guard ngf >= 1, ngf <= 1024 else { throw ConfigError("ngf \(ngf) must be in 1...1024") }
        guard blocks >= 0, blocks <= 64 else { throw ConfigError("blocks \(blocks) must be in 0...64") }
        guard ndf >= 1, ndf <= 1024 else { throw ConfigError("ndf \(ndf) must be in 1...1024") }
        guard lambda >= 0, lambda.isFinite else { throw ConfigError("lambda \(lambda) must be >= 0") }
        guard learningRate > 0, learningRate < 1 else { throw ConfigError("learning rate \(learningRate) must be in (0, 1)") }
        guard epochs >= 1 else { throw ConfigError("epochs \(epochs) must be >= 1") }
        guard iterationsPerEpoch >= 1 else { throw ConfigError("iterations per epoch \(iterationsPerEpoch) must be >= 1") }
        guard (0...1).contains(switchFraction) else { throw ConfigError("switch fraction \(switchFraction) must be in [0, 1]") }
        guard (0..<1).contains(tau) else { throw ConfigError("tau \(tau) must be in [0, 1)") }
        guard poolSize >= 0 else { throw ConfigError("pool size \(poolSize) must be >= 0") }
        for (name, w) in [("attention prior", attentionPrior), ("attention sparsity", attentionSparsity), ("identity weight", identityWeight),
                          ("attention guide", attentionGuide), ("attention identity", attentionIdentity)] {
            guard w >= 0, w.isFinite else { throw ConfigError("\(name) \(w) must be >= 0") }
        }
        guard attentionNormEpsilon > 0, attentionNormEpsilon <= 1 else { throw ConfigError("attention norm epsilon \(attentionNormEpsilon) must be in (0, 1]") }
        guard scale > 0, scale <= 16 else { throw ConfigError("scale \(scale) must be in (0, 16]") }
        guard (0..<1).contains(attentionAverage) else { throw ConfigError("attention average decay \(attentionAverage) must be in [0, 1)") }
    }

    /// Total training iterations.
    public var totalSteps: Int { epochs * iterationsPerEpoch }

    /// The 0-based epoch of a 0-based step.
    public func epoch(ofStep step: Int) -> Int { min(step / iterationsPerEpoch, epochs - 1) }

    /// First epoch of stage 2 (30 of 100 for the default fraction).
    public var switchEpoch: Int { Int((Double(epochs) * switchFraction + 1e-9).rounded(.down)) }

    /// The stage (1 or 2) of a 0-based step; the baseline has no stage 2.
    public func stage(ofStep step: Int) -> Int {
        baseline || epoch(ofStep: step) < switchEpoch ? 1 : 2
    }

    /// Learning rate of a 0-based epoch: constant for the first half, then linear decay
    /// reaching 0 at the last epoch: base * (E - 1 - e) / (E - 1 - E/2).
    public func learningRate(epoch e: Int) -> Float {
        let half = epochs / 2
        if e < half || epochs - 1 <= half { return learningRate }
        return learningRate * Float(max(0, Double(epochs - 1 - e) / Double(epochs - 1 - half)))
    }
}

/// The named configurations. `tiny` is fast on 2 CPU cores and departs from the paper
/// (stage 2 at 70 % of the epochs, attention weights averaged over stage 1 with decay
/// 0.995, the attention guide at weight 10 with its classes balanced, tau 0.5, CycleGAN's
/// identity term at weight 5: measured in
/// docs/MODEL.md); `small`
/// (128 px) and `paper` (256 px, the paper's widths) are the paper's model.
public enum Preset: String, CaseIterable, Codable, Sendable {
    case tiny, small, paper
}

public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ message: String) { description = message }
}
