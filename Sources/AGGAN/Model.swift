import Basics
import NeuralNet
import Tensor

/// How the attention mask is used when composing a translation.
public enum ThresholdMode: String, Codable, Sendable, CaseIterable {
    /// A (the official test mode).
    case soft
    /// A * 1[A > tau]: the mask zeroed at or below tau.
    case zeroBelow = "zero"
    /// 1[A > tau].
    case binary

    public func apply(_ a: Tensor, tau: Float) throws -> Tensor {
        switch self {
        case .soft: return a
        case .zeroBelow: return try a * a.threshold(tau)
        case .binary: return a.threshold(tau)
        }
    }

    public var next: ThresholdMode {
        let all = Self.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}

/// Translation direction: S -> T (a2b) or T -> S (b2a).
public enum Direction: String, Codable, Sendable, CaseIterable {
    case st = "a2b", ts = "b2a"
}

/// One translation: the mask, the raw generator output and the composite.
public struct Translation {
    public let attention: Tensor, generated: Tensor, composite: Tensor
}

/// The six networks (docs/MODEL.md) with their checkpoint names.
public final class AGGANModel: Layer {
    public let channels: Int, ngf: Int, blocks: Int, ndf: Int
    public let genST: Generator, genTS: Generator
    public let attS: AttentionNet, attT: AttentionNet
    public let discS: Discriminator, discT: Discriminator
    /// The CycleGAN baseline: the attention is fixed to 1 everywhere.
    public var attentionIsOne = false

    public init(channels: Int, ngf: Int, blocks: Int, ndf: Int, attentionNormEpsilon: Float = 1e-5) {
        self.channels = channels; self.ngf = ngf; self.blocks = blocks; self.ndf = ndf
        genST = Generator(channels: channels, ngf: ngf, blocks: blocks)
        genTS = Generator(channels: channels, ngf: ngf, blocks: blocks)
        attS = AttentionNet(channels: channels, normEpsilon: attentionNormEpsilon)
        attT = AttentionNet(channels: channels, normEpsilon: attentionNormEpsilon)
        discS = Discriminator(channels: channels, ndf: ndf)
        discT = Discriminator(channels: channels, ndf: ndf)
    }

    public convenience init(_ config: Config) {
        self.init(channels: config.channels, ngf: config.ngf, blocks: config.blocks, ndf: config.ndf,
                  attentionNormEpsilon: config.attentionNormEpsilon)
        attentionIsOne = config.baseline
    }

    public var networks: [(String, any Layer)] {
        [("gen_st", genST), ("gen_ts", genTS), ("att_s", attS), ("att_t", attT), ("disc_s", discS), ("disc_t", discT)]
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { prefixed(networks) }

    /// The parameters of the joint generator update (G_ST, G_TS, A_S, A_T).
    public var generatorParameters: [(name: String, tensor: Tensor)] { prefixed(Array(networks[0..<4])) }
    public var discriminatorParameters: [(name: String, tensor: Tensor)] { prefixed(Array(networks[4..<6])) }
    /// A_S and A_T.
    public var attentionParameters: [(name: String, tensor: Tensor)] { prefixed(Array(networks[2..<4])) }

    /// The spec's initialisation from one seeded stream, networks in checkpoint order.
    public func initialize(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        Initializer.apply(to: self, rng: &rng)
    }

    func attention(_ net: AttentionNet, _ x: Tensor) throws -> Tensor {
        if attentionIsOne {
            return try Tensor(shape: [x.shape[0], 1, x.shape[2], x.shape[3]],
                              data: [Float](repeating: 1, count: x.shape[0] * x.shape[2] * x.shape[3]))
        }
        return try net(x)
    }

    /// A * G(x) + (1 - A) * x, the [N, 1, H, W] mask broadcast over the channels.
    public static func compose(_ mask: Tensor, _ generated: Tensor, _ x: Tensor) throws -> Tensor {
        try (mask * generated) + (mask.scaled(by: -1).adding(1) * x)
    }

    /// Translates x in `direction`; the composite uses the mask as `mode` and `tau` say.
    public func translate(_ x: Tensor, _ direction: Direction, mode: ThresholdMode = .soft, tau: Float = 0.1) throws -> Translation {
        guard x.shape.count == 4, x.shape[1] == channels else {
            throw ConfigError("input of shape \(x.shape) does not fit a model of \(channels) channel(s)")
        }
        guard x.shape[2] % 4 == 0, x.shape[3] % 4 == 0, x.shape[2] >= 8, x.shape[3] >= 8 else {
            throw ConfigError("input of size \(x.shape[3])x\(x.shape[2]) must be at least 8x8 with sides that are multiples of 4")
        }
        let (att, gen) = direction == .st ? (attS, genST) : (attT, genTS)
        let a = try attention(att, x), g = try gen(x)
        return Translation(attention: a, generated: g, composite: try Self.compose(mode.apply(a, tau: tau), g, x))
    }

    /// Sets the stage: 1 = IN* on, attention trained; 2 = IN* off, attention frozen (the
    /// spec), or still trained when `freezeAttention` is false (`Config.freezeAttention`).
    public func setStage(_ stage: Int, freezeAttention: Bool = true) {
        discS.useNorm = stage == 1
        discT.useNorm = stage == 1
        let train = (stage == 1 || !freezeAttention) && !attentionIsOne
        attS.setTrainable(train)
        attT.setTrainable(train)
    }
}
