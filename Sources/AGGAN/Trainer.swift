import Basics
import NeuralNet
import Tensor

/// The pool of past fakes (spec "Schedule"): each fake is kept with its source's mask.
/// Until full it stores and returns the new pair; once full, with probability 0.5 it
/// returns a random stored pair and puts the new one in its place.
public struct ImagePool {
    public let capacity: Int
    public internal(set) var items: [(fake: Tensor, mask: Tensor)] = []

    public init(capacity: Int) { self.capacity = capacity }

    public mutating func query(_ fake: Tensor, _ mask: Tensor, rng: inout SplitMix64) -> (fake: Tensor, mask: Tensor) {
        let pair = (fake: fake.detached(), mask: mask.detached())
        if capacity == 0 { return pair }
        if items.count < capacity { items.append(pair); return pair }
        if rng.nextDouble() < 0.5 {
            let i = rng.nextInt(below: capacity)
            let old = items[i]
            items[i] = pair
            return old
        }
        return pair
    }
}

/// A training step refused because a loss or a gradient was NaN or infinite: the step
/// (1-based: the one that was being computed), what went bad and its value.
public struct NonFiniteStep: Error, CustomStringConvertible, Equatable, Sendable {
    public let step: Int
    /// "loss" (a term of `metrics.jsonl`, e.g. `cyc_s`) or "gradient" (a parameter name).
    public let quantity: String
    public let name: String
    public let value: Float

    public init(step: Int, quantity: String, name: String, value: Float) {
        self.step = step; self.quantity = quantity; self.name = name; self.value = value
    }

    public var description: String { "non-finite \(quantity) at step \(step): \(name) = \(value.isNaN ? "nan" : "\(value)")" }
}

/// Activations of one generator pass, kept for the discriminator update and for tests.
public struct GeneratorPass {
    public let aS: Tensor, gST: Tensor, sFake: Tensor, sCyc: Tensor, scoreST: Tensor
    public let aT: Tensor, gTS: Tensor, tFake: Tensor, tCyc: Tensor, scoreTS: Tensor
}

/// One AGGAN training iteration as the spec orders it: a joint Adam update of G_ST, G_TS,
/// A_S, A_T on L_G, then one Adam update of D_S and D_T on L_D_S + L_D_T with pooled fakes.
public final class Trainer {
    public let config: Config
    public let model: AGGANModel
    public let optG: Adam, optD: Adam
    public var poolST: ImagePool, poolTS: ImagePool
    /// The random stream of the pools (saved in checkpoints).
    public var rng: SplitMix64
    /// Iterations done so far.
    public internal(set) var step = 0
    /// The threshold the stage-2 discriminators use (the config's tau unless changed).
    public var tau: Float
    /// The moving average of the attention weights (`Config.attentionAverage`), in
    /// `model.attentionParameters` order; nil when off and once the stage switch has put
    /// it into the frozen networks.
    public internal(set) var attentionAverage: [[Float]]?
    /// The attention of the last step's training crops, per direction.
    public internal(set) var lastAttention: (st: AttentionStats, ts: AttentionStats)?
    /// The discriminators' mean outputs in the last step (nil before the first).
    public internal(set) var lastDiscriminatorOutputs: DiscriminatorOutputs?

    public init(config: Config, model: AGGANModel) throws {
        try config.validate()
        self.config = config
        self.model = model
        model.attentionIsOne = config.baseline
        optG = Adam(model.generatorParameters, learningRate: config.learningRate)
        optD = Adam(model.discriminatorParameters, learningRate: config.learningRate)
        poolST = ImagePool(capacity: config.poolSize)
        poolTS = ImagePool(capacity: config.poolSize)
        rng = SplitMix64(seed: config.seed &+ 0x5EED)
        tau = config.tau
        if config.averagesAttention { attentionAverage = model.attentionParameters.map { $0.tensor.data } }
        model.setStage(config.stage(ofStep: 0), freezeAttention: config.freezeAttention)
    }

    /// Whether a run of `config` still keeps the attention average after `steps`
    /// iterations: on, and no stage-2 iteration has run yet (the first one takes it).
    public static func keepsAttentionAverage(_ config: Config, afterSteps steps: Int) -> Bool {
        config.averagesAttention && (steps == 0 || config.stage(ofStep: steps - 1) == 1)
    }

    /// avg = d * avg + (1 - d) * w for every attention weight.
    func updateAttentionAverage() {
        guard var average = attentionAverage else { return }
        attentionAverage = nil  // one owner while it changes in place
        let d = config.attentionAverage
        for (i, (_, p)) in model.attentionParameters.enumerated() {
            p.data.withUnsafeBufferPointer { w in
                average[i].withUnsafeMutableBufferPointer { a in
                    for j in 0..<a.count { a[j] = d * a[j] + (1 - d) * w[j] }
                }
            }
        }
        attentionAverage = average
    }

    /// A fresh model initialised from the config's seed, and its trainer.
    public convenience init(config: Config) throws {
        try config.validate()
        let model = AGGANModel(config)
        model.initialize(seed: config.seed)
        try self.init(config: config, model: model)
    }

    public var stage: Int { config.stage(ofStep: step) }
    public var epoch: Int { config.epoch(ofStep: step) }
    public var learningRate: Float { config.learningRate(epoch: epoch) }

    /// What a discriminator sees: the whole image in stage 1, x * 1[mask > tau] in stage 2.
    func discInput(_ x: Tensor, _ mask: Tensor, stage: Int) throws -> Tensor {
        stage == 1 ? x : try x * mask.threshold(tau)
    }

    /// L_G's terms for one pair (s from domain S, t from domain T), and its gradient
    /// added into the parameters of every network that trains. L_G is a sum of two parts
    /// that share no activation: the S branch (s, its translation, cycle and score) and the
    /// T branch. Each part is built and differentiated in turn, so only one branch's graph
    /// is alive at a time: the gradient is the same sum, at half the activation memory.
    public func generatorGradients(_ s: Tensor, _ t: Tensor, stage: Int, guide: AttentionGuide? = nil)
        throws -> (losses: [String: Float], pass: GeneratorPass) {
        let bs = try branch(s, .st, stage: stage, guide: guide.map { ($0.s, $0.cellFractionS) })
        try bs.total.backward()
        let bt = try branch(t, .ts, stage: stage, guide: guide.map { ($0.t, $0.cellFractionT) })
        try bt.total.backward()
        var losses: [String: Float] = ["g_total": bs.total.item + bt.total.item]
        for (name, term) in Array(bs.terms) + Array(bt.terms) { losses[name, default: 0] += term.item }
        let pass = GeneratorPass(aS: bs.translation.attention, gST: bs.translation.generated, sFake: bs.translation.composite,
                                 sCyc: bs.cycle, scoreST: bs.score,
                                 aT: bt.translation.attention, gTS: bt.translation.generated, tFake: bt.translation.composite,
                                 tCyc: bt.cycle, scoreTS: bt.score)
        return (losses, pass)
    }

    /// One direction's part of L_G, for x of the source domain of `direction`: the
    /// adversarial term of its translation, lambda times its cycle term, and the options'
    /// terms that involve x (the attention on x, the identity term of the other generator).
    func branch(_ x: Tensor, _ direction: Direction, stage: Int, guide: (mask: Tensor, cellFraction: Double)? = nil)
        throws -> (terms: [String: Tensor], total: Tensor, translation: Translation, cycle: Tensor, score: Tensor) {
        let m = model
        let back: Direction = direction == .st ? .ts : .st
        let (adv, cyc) = direction == .st ? ("adv_st", "cyc_s") : ("adv_ts", "cyc_t")
        let tr = try m.translate(x, direction)
        let cycle = try m.translate(tr.composite, back).composite
        let score = try (direction == .st ? m.discT : m.discS)(discInput(tr.composite, tr.attention, stage: stage))
        var terms = [adv: score.adding(-1).square().mean(), cyc: try (x - cycle).abs().mean()]
        var total = try terms[adv]! + terms[cyc]!.scaled(by: config.lambda)
        // Options the paper lacks: with their defaults (0) nothing is added and L_G is the spec's.
        if !m.attentionIsOne && config.attentionPrior > 0 {
            terms["att_prior"] = try Self.binaryPrior(tr.attention)
            total = try total + terms["att_prior"]!.scaled(by: config.attentionPrior)
        }
        if !m.attentionIsOne && config.attentionSparsity > 0 {
            terms["att_sparsity"] = tr.attention.mean()
            total = try total + terms["att_sparsity"]!.scaled(by: config.attentionSparsity)
        }
        if config.guidesAttention && stage == 1, let guide {
            let w = config.guideWeights(cellFraction: guide.cellFraction)
            terms["att_guide"] = try Self.binaryCrossEntropy(tr.attention, target: guide.mask,
                                                             positiveWeight: w.cells, negativeWeight: w.background)
            total = try total + terms["att_guide"]!.scaled(by: config.guideWeight(step: step))
        }
        if !m.attentionIsOne && config.attentionIdentity > 0 && stage == 1 {
            // The other direction's attention on x, which is already of its target domain.
            let a = try (direction == .st ? m.attT : m.attS)(x)
            terms["att_identity"] = try Self.binaryCrossEntropy(a, target: Tensor(zeros: a.shape))
            total = try total + terms["att_identity"]!.scaled(by: config.attentionIdentity)
        }
        if config.identityWeight > 0 {
            terms["idt"] = try ((back == .ts ? m.genTS : m.genST)(x) - x).abs().mean()
            total = try total + terms["idt"]!.scaled(by: config.identityWeight)
        }
        return (terms, total, tr, cycle, score)
    }

    /// mean(-(wp p log A + wn (1 - p) log(1 - A))): the attention A against a 0/1 target
    /// p, its cell pixels weighted by wp and the others by wn (1 and 1: the plain binary
    /// cross-entropy). Its gradient does not vanish where A saturates at the wrong end (a
    /// squared error's does, through the sigmoid): through the sigmoid it is A - p. The
    /// logarithms are clamped at 1e-30, so an all-black attention (A down to about 1e-30, a
    /// logit of -69) still feels it; an all-white one only while 1 - A is above float
    /// rounding (a logit below about 17).
    public static func binaryCrossEntropy(_ a: Tensor, target p: Tensor,
                                          positiveWeight wp: Float = 1, negativeWeight wn: Float = 1) throws -> Tensor {
        let positive = try (p * a.log(floor: 1e-30)).scaled(by: wp)
        let negative = try (p.scaled(by: -1).adding(1) * a.scaled(by: -1).adding(1).log(floor: 1e-30)).scaled(by: wn)
        return try (positive + negative).mean().scaled(by: -1)
    }

    /// A stand-in cell prior for timing and benchmarks (the left half of each crop), when
    /// the config guides its attention: a guided step costs what it costs in training.
    public func benchmarkGuide(_ s: Tensor, _ t: Tensor) throws -> AttentionGuide? {
        guard config.guidesAttention else { return nil }
        func half(_ x: Tensor) throws -> Tensor {
            let h = x.shape[2], w = x.shape[3]
            return try Tensor(shape: [1, 1, h, w], data: (0..<(h * w)).map { $0 % w < w / 2 ? 1 : 0 })
        }
        return AttentionGuide(s: try half(s), t: try half(t))
    }

    /// mean(A * (1 - A)): 0 where every value is 0 or 1, largest (0.25) at 0.5. Its
    /// gradient 1 - 2A pushes values below 0.5 toward 0 and above it toward 1.
    public static func binaryPrior(_ a: Tensor) throws -> Tensor {
        try (a * a.scaled(by: -1).adding(1)).mean()
    }

    /// L_D_S and L_D_T: 0.5 * (mean((D(real) - 1)^2) + mean(D(fake)^2)), inputs masked in stage 2.
    /// Also records each discriminator's mean output on its real and fake inputs in
    /// `lastDiscriminatorOutputs`.
    public func discriminatorObjective(s: Tensor, t: Tensor, aS: Tensor, aT: Tensor,
                                       fakeST: (fake: Tensor, mask: Tensor), fakeTS: (fake: Tensor, mask: Tensor),
                                       stage: Int) throws -> (dS: Tensor, dT: Tensor) {
        let m = model
        let outRealT = try m.discT(discInput(t, aT, stage: stage))
        let outFakeT = try m.discT(discInput(fakeST.fake, fakeST.mask, stage: stage))
        let outRealS = try m.discS(discInput(s, aS, stage: stage))
        let outFakeS = try m.discS(discInput(fakeTS.fake, fakeTS.mask, stage: stage))
        func mean(_ x: Tensor) -> Float { x.count > 0 ? Float(x.data.reduce(0.0) { $0 + Double($1) } / Double(x.count)) : 0 }
        lastDiscriminatorOutputs = DiscriminatorOutputs(realS: mean(outRealS), fakeS: mean(outFakeS),
                                                        realT: mean(outRealT), fakeT: mean(outFakeT))
        let realT = outRealT.adding(-1).square().mean()
        let fakeT = outFakeT.square().mean()
        let realS = outRealS.adding(-1).square().mean()
        let fakeS = outFakeS.square().mean()
        return (try (realS + fakeS).scaled(by: 0.5), try (realT + fakeT).scaled(by: 0.5))
    }

    /// Throws `NonFiniteStep` when a loss or a gradient of this step is NaN or infinite,
    /// after clearing every gradient: the weights and the optimisers' moments stay as they
    /// were. The cost is one pass over the gradients (a few hundred thousand floats in
    /// `tiny`), small beside a step.
    func refuseNonFinite(losses: [String: Float], gradients optimiser: Adam) throws {
        // The terms first (in name order, the total last), then the gradients.
        let bad = losses.filter { !$0.value.isFinite }.sorted { ($0.key == "g_total" ? 1 : 0, $0.key) < ($1.key == "g_total" ? 1 : 0, $1.key) }
        var fault: NonFiniteStep?
        if let (term, value) = bad.first {
            fault = NonFiniteStep(step: step + 1, quantity: "loss", name: term, value: value)
        } else if let (name, value) = optimiser.firstNonFiniteGradient() {
            fault = NonFiniteStep(step: step + 1, quantity: "gradient", name: name, value: value)
        }
        guard let fault else { return }
        for (_, p) in model.namedParameters { p.zeroGrad() }
        throw fault
    }

    /// One iteration on the pair (s, t), each [1, C, H, W] in [-1, 1], with their cell
    /// prior masks when the attention guide is on. Returns the losses. A NaN or infinite
    /// loss or gradient throws `NonFiniteStep` before any weight, moment or step count
    /// changes.
    @discardableResult
    public func step(_ s: Tensor, _ t: Tensor, guide: AttentionGuide? = nil) throws -> Losses {
        let stage = self.stage
        if stage == 2, let average = attentionAverage {
            // The switch: the attention freezes at its average over stage 1.
            for ((_, p), a) in zip(model.attentionParameters, average) { p.data = a }
            attentionAverage = nil
        }
        model.setStage(stage, freezeAttention: config.freezeAttention)
        optG.learningRate = learningRate
        optD.learningRate = learningRate
        // Generators + attention; the discriminators only pass gradients through.
        model.discS.setTrainable(false); model.discT.setTrainable(false)
        let (g, pass) = try generatorGradients(s, t, stage: stage, guide: guide)
        lastAttention = (AttentionStats(pass.aS, tau: tau), AttentionStats(pass.aT, tau: tau))
        try refuseNonFinite(losses: g, gradients: optG)
        // Discriminators on pooled fakes; real images' stage-2 masks are this step's A_S(s), A_T(t).
        // Their objective reads no generator weight (the fakes are detached), so it is the
        // same before or after the generators' update: both updates wait for both checks.
        model.discS.setTrainable(true); model.discT.setTrainable(true)
        if stage == 2 { for p in model.discS.normParameters + model.discT.normParameters { p.requiresGrad = false } }
        let fakeST = poolST.query(pass.sFake, pass.aS, rng: &rng)
        let fakeTS = poolTS.query(pass.tFake, pass.aT, rng: &rng)
        let d = try discriminatorObjective(s: s, t: t, aS: pass.aS.detached(), aT: pass.aT.detached(),
                                           fakeST: fakeST, fakeTS: fakeTS, stage: stage)
        try (d.dS + d.dT).backward()
        try refuseNonFinite(losses: ["d_s": d.dS.item, "d_t": d.dT.item], gradients: optD)
        optG.step()
        if stage == 1 { updateAttentionAverage() }
        optD.step()
        step += 1
        var l = Losses()
        l.advST = g["adv_st"]!; l.advTS = g["adv_ts"]!
        l.cycS = g["cyc_s"]!; l.cycT = g["cyc_t"]!; l.gTotal = g["g_total"]!
        l.dS = d.dS.item; l.dT = d.dT.item
        return l
    }
}

/// What the attention guide compares a training pair's attention with: each crop's cell
/// prior mask [1, 1, H, W] in 0/1, and the fraction of cell pixels in each domain's prior
/// (the class balance of `Config.attentionGuideBalance`).
public struct AttentionGuide {
    public let s: Tensor, t: Tensor
    public let cellFractionS: Double, cellFractionT: Double

    public init(s: Tensor, t: Tensor, cellFractionS: Double = 0.5, cellFractionT: Double = 0.5) {
        self.s = s; self.t = t; self.cellFractionS = cellFractionS; self.cellFractionT = cellFractionT
    }
}

/// Each discriminator's mean output on real images and on generated ones in one step
/// (LSGAN targets: 1 for real, 0 for fake). A discriminator that wins sees real near 1 and
/// fake near 0; GAN users watch the gap.
public struct DiscriminatorOutputs: Sendable, Equatable {
    /// D_S on real S images and on fakes from B -> A; D_T on real T images and on fakes from A -> B.
    public var realS: Float, fakeS: Float, realT: Float, fakeT: Float

    public init(realS: Float, fakeS: Float, realT: Float, fakeT: Float) {
        self.realS = realS; self.fakeS = fakeS; self.realT = realT; self.fakeT = fakeT
    }
}
