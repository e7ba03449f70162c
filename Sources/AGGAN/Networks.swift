import NeuralNet
import Tensor

/// The activation at the end of a table row.
public enum Activation: Sendable {
    case relu, leakyRelu, tanh, sigmoid, none

    /// The discriminator's LeakyReLU slope (spec), in both the separate and fused forms.
    static let leakySlope: Float = 0.2

    func apply(_ x: Tensor) -> Tensor {
        switch self {
        case .relu: x.relu()
        case .leakyRelu: x.leakyRelu(Self.leakySlope)
        case .tanh: x.tanh()
        case .sigmoid: x.sigmoid()
        case .none: x
        }
    }

    /// The same activation fused into instance norm, where it can be.
    var fused: NormActivation? {
        switch self {
        case .relu: .relu
        case .leakyRelu: .leakyRelu(Self.leakySlope)
        case .none: NormActivation.none
        case .tanh, .sigmoid: nil
        }
    }
}

/// One row of the spec's tables: [nearest x2] -> conv (its own reflection or zero padding)
/// -> [IN] -> activation. Parts `conv` and, where the row has IN, `norm`.
public final class ConvUnit: Module {
    public let conv: any Module
    public let norm: InstanceNorm?
    public let activation: Activation
    public let upsample: Bool
    /// The discriminator's IN* switch: false skips the norm (stage 2).
    public var useNorm = true

    public init(_ conv: any Module, norm: InstanceNorm?, _ activation: Activation, upsample: Bool = false) {
        self.conv = conv; self.norm = norm; self.activation = activation; self.upsample = upsample
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        var children: [(String, any Layer)] = [("conv", conv)]
        if let norm { children.append(("norm", norm)) }
        return prefixed(children)
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let y: Tensor
        if let conv = conv as? Conv2D {
            y = try conv(x, upsampleFirst: upsample)
        } else {
            y = try conv(upsample ? x.upsampleNearest2x() : x)
        }
        if let norm, useNorm {
            if let fused = activation.fused { return try norm(y, activation: fused) }
            return activation.apply(try norm(y))
        }
        return activation.apply(y)
    }
}

/// A network as an ordered list of named modules applied in turn.
public class Sequential: Module {
    public let layers: [(name: String, module: any Module)]

    init(_ layers: [(String, any Module)]) { self.layers = layers.map { (name: $0.0, module: $0.1) } }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        prefixed(layers.map { ($0.name, $0.module as any Layer) })
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try layers.reduce(x) { try $1.module($0) }
    }
}

/// Generator G (spec table "Generator"): c -> c channels, same size (multiples of 4).
public final class Generator: Sequential {
    public let channels: Int, ngf: Int, blocks: Int

    public init(channels c: Int, ngf: Int, blocks: Int) {
        self.channels = c; self.ngf = ngf; self.blocks = blocks
        var rows: [(String, any Module)] = [
            ("enc1", ConvUnit(Conv2D(c, ngf, kernel: 7, reflect: 3), norm: InstanceNorm(ngf), .relu)),
            ("enc2", ConvUnit(Conv2D(ngf, 2 * ngf, kernel: 3, stride: 2, padding: 1), norm: InstanceNorm(2 * ngf), .relu)),
            ("enc3", ConvUnit(Conv2D(2 * ngf, 4 * ngf, kernel: 3, stride: 2, padding: 1), norm: InstanceNorm(4 * ngf), .relu)),
        ]
        for i in 0..<blocks { rows.append(("res\(i)", ResidualBlock(4 * ngf))) }
        rows += [
            ("dec1", ConvUnit(ConvTranspose2D(4 * ngf, 2 * ngf, kernel: 3, stride: 2, padding: 1, outputPadding: 1),
                              norm: InstanceNorm(2 * ngf), .relu)),
            ("dec2", ConvUnit(ConvTranspose2D(2 * ngf, ngf, kernel: 3, stride: 2, padding: 1, outputPadding: 1),
                              norm: InstanceNorm(ngf), .relu)),
            ("out", ConvUnit(Conv2D(ngf, c, kernel: 7, reflect: 3), norm: nil, .tanh)),
        ]
        super.init(rows)
    }
}

/// Attention network A (spec table "Attention network"): c channels -> a [N, 1, H, W]
/// soft mask in [0, 1]. Fixed widths 32/64. `normEpsilon` is its instance norms' eps
/// (`Config.attentionNormEpsilon`).
public final class AttentionNet: Sequential {
    public init(channels c: Int, normEpsilon e: Float = 1e-5) {
        super.init([
            ("enc1", ConvUnit(Conv2D(c, 32, kernel: 7, stride: 2, reflect: 3), norm: InstanceNorm(32, eps: e), .relu)),
            ("enc2", ConvUnit(Conv2D(32, 64, kernel: 3, stride: 2, padding: 1), norm: InstanceNorm(64, eps: e), .relu)),
            ("res0", ResidualBlock(64, eps: e)),
            ("dec1", ConvUnit(Conv2D(64, 64, kernel: 3, reflect: 1), norm: InstanceNorm(64, eps: e), .relu, upsample: true)),
            ("dec2", ConvUnit(Conv2D(64, 32, kernel: 3, reflect: 1), norm: InstanceNorm(32, eps: e), .relu, upsample: true)),
            ("out", ConvUnit(Conv2D(32, 1, kernel: 3, reflect: 1), norm: nil, .sigmoid)),
        ])
    }
}

/// Discriminator D (spec table "Discriminator"): 70 px PatchGAN with raw scores.
public final class Discriminator: Sequential {
    public init(channels c: Int, ndf: Int) {
        super.init([
            ("c1", ConvUnit(Conv2D(c, ndf, kernel: 4, stride: 2, padding: 1), norm: nil, .leakyRelu)),
            ("c2", ConvUnit(Conv2D(ndf, 2 * ndf, kernel: 4, stride: 2, padding: 1), norm: InstanceNorm(2 * ndf), .leakyRelu)),
            ("c3", ConvUnit(Conv2D(2 * ndf, 4 * ndf, kernel: 4, stride: 2, padding: 1), norm: InstanceNorm(4 * ndf), .leakyRelu)),
            ("c4", ConvUnit(Conv2D(4 * ndf, 8 * ndf, kernel: 4, stride: 1, padding: 1), norm: InstanceNorm(8 * ndf), .leakyRelu)),
            ("out", ConvUnit(Conv2D(8 * ndf, 1, kernel: 4, stride: 1, padding: 1), norm: nil, .none)),
        ])
    }

    /// The IN* switch: on in stage 1, off in stage 2.
    public var useNorm: Bool {
        get { (layers.first { ($0.module as? ConvUnit)?.norm != nil }?.module as? ConvUnit)?.useNorm ?? true }
        set { for l in layers { (l.module as? ConvUnit)?.useNorm = newValue } }
    }

    /// The IN* parameters, which get no gradient in stage 2.
    var normParameters: [Tensor] { layers.compactMap { ($0.module as? ConvUnit)?.norm }.flatMap(\.parameters) }
}
