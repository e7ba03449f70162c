import AGGAN
import ArgumentParser

/// Widths, losses and schedule options shared by `train` and `experiment`; each overrides
/// the preset's value when given.
struct ModelOptions: ParsableArguments {
    @Option(help: "Preset; the options below override its values.") var preset: Preset = .tiny
    @Option(help: "Crop (image) size in pixels, a multiple of 4.") var size: Int?
    @Option var ngf: Int?
    @Option var blocks: Int?
    @Option var ndf: Int?
    @Option(name: .customLong("lr"), help: "Learning rate.") var learningRate: Float?
    @Option(name: .customLong("lambda"), help: "Cycle-consistency weight.") var lambda: Float?
    @Option(help: "Attention threshold for stage 2, the previews and the IoU.") var tau: Float?
    @Option(help: "Stage 2 starts at this fraction of the epochs.") var switchFraction: Double?
    @Option(help: "Image pool size.") var poolSize: Int?
    @Flag(inversion: .prefixedNo, help: "Freeze the attention networks at the stage switch (default: the preset's).") var freezeAttention: Bool?
    @Option(help: "Weight of the prior mean(A(1-A)) pushing attention toward 0 or 1 (not in the paper).") var attentionPrior: Float?
    @Option(help: "Weight of the attention sparsity term mean(A) (not in the paper).") var attentionSparsity: Float?
    @Option(help: "Weight of the identity term mean|G_ST(t) - t| + mean|G_TS(s) - s| (not in the paper).") var identityWeight: Float?
    @Option(help: "Weight of the attention guide: binary cross-entropy of A against the crop's cell prior mask, in stage 1 (not in the paper).") var attentionGuide: Float?
    @Option(help: "Balance the guide's two classes by the prior's cell fraction f: cells weighted 1/(2f), background 1/(2(1-f)) (true/false; not in the paper).") var attentionGuideBalance: Bool?
    @Option(help: "Fade the guide's weight linearly to 0 at the stage switch (true/false; not in the paper).") var attentionGuideFade: Bool?
    @Option(help: "Weight of the attention's identity term: binary cross-entropy of A_T(s) and A_S(t) against 0, in stage 1 (not in the paper).") var attentionIdentity: Float?
    @Option(help: "Eps of the attention networks' instance norms; the spec's 1e-5 stretches a blank crop's noise into texture (not in the paper).") var attentionNormEpsilon: Float?
    @Option(help: "Decay of a moving average of the attention weights over stage 1, frozen at the switch; 0 = off (not in the paper).") var attentionAverage: Float?

    @Option(help: ArgumentHelp("Resize the images by this factor for the networks (training and translation), or 'auto': measured from the cells so they are 1/16 to 1/2 of the crop across (resized to 3/8 of it when not).", valueName: "auto|factor"))
    var scale: ScaleChoice = .auto

    /// The factor `--scale` fixes, nil for `auto`.
    var fixedScale: Double? {
        if case .factor(let f) = scale { return f }
        return nil
    }

    /// The preset with the options given applied.
    var config: Config {
        var c = Config(preset: preset)
        apply(to: &c)
        return c
    }

    /// Overrides `config`'s fields with the options given.
    func apply(to config: inout Config) {
        config.imageSize = size ?? config.imageSize
        config.ngf = ngf ?? config.ngf
        config.blocks = blocks ?? config.blocks
        config.ndf = ndf ?? config.ndf
        config.learningRate = learningRate ?? config.learningRate
        config.lambda = lambda ?? config.lambda
        config.tau = tau ?? config.tau
        config.switchFraction = switchFraction ?? config.switchFraction
        config.poolSize = poolSize ?? config.poolSize
        config.freezeAttention = freezeAttention ?? config.freezeAttention
        config.attentionPrior = attentionPrior ?? config.attentionPrior
        config.attentionSparsity = attentionSparsity ?? config.attentionSparsity
        config.identityWeight = identityWeight ?? config.identityWeight
        config.attentionAverage = attentionAverage ?? config.attentionAverage
        config.attentionGuide = attentionGuide ?? config.attentionGuide
        config.attentionGuideBalance = attentionGuideBalance ?? config.attentionGuideBalance
        config.attentionNormEpsilon = attentionNormEpsilon ?? config.attentionNormEpsilon
        config.attentionGuideFade = attentionGuideFade ?? config.attentionGuideFade
        config.attentionIdentity = attentionIdentity ?? config.attentionIdentity
    }
}
