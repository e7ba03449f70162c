import Tensor

/// A layer with a weight and a bias, named so in checkpoints.
public protocol WeightedLayer: Module {
    var weight: Tensor { get }
    var bias: Tensor { get }
}

extension WeightedLayer {
    public var namedParameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }
}

/// A zero weight of `shape` and a zero bias of `count` values, both trainable (the
/// initialisers fill them).
func zeroParameters(_ shape: [Int], bias count: Int) -> (Tensor, Tensor) {
    (try! Tensor(zeros: shape, requiresGrad: true), try! Tensor(zeros: [count], requiresGrad: true))
}

/// A 2-D convolution with bias (weight [out, in, kh, kw], PyTorch's layout), zero padding
/// `padding`, optionally preceded by reflection padding `reflect` (done inside the op).
public final class Conv2D: WeightedLayer {
    public let weight: Tensor, bias: Tensor
    public let stride: Int, padding: Int, reflect: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, reflect: Int = 0) {
        (weight, bias) = zeroParameters([outChannels, inChannels, kernel, kernel], bias: outChannels)
        self.stride = stride; self.padding = padding; self.reflect = reflect
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try callAsFunction(x, upsampleFirst: false) }

    /// The convolution of x, or of x upsampled by 2 (nearest) when `upsampleFirst`.
    public func callAsFunction(_ x: Tensor, upsampleFirst: Bool) throws -> Tensor {
        try conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, reflect: reflect, upsample: upsampleFirst)
    }
}

/// A transposed 2-D convolution with bias (weight [in, out, kh, kw], PyTorch's layout).
public final class ConvTranspose2D: WeightedLayer {
    public let weight: Tensor, bias: Tensor
    public let stride: Int, padding: Int, outputPadding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0) {
        (weight, bias) = zeroParameters([inChannels, outChannels, kernel, kernel], bias: outChannels)
        self.stride = stride; self.padding = padding; self.outputPadding = outputPadding
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try convTranspose2d(x, weight: weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding)
    }
}

/// Instance normalisation with learnable scale (`weight`) and shift (`bias`); `eps` is
/// added to the variance (1e-5, the spec's and PyTorch's).
public final class InstanceNorm: Module {
    public let weight: Tensor, bias: Tensor
    public let eps: Float

    public init(_ channels: Int, eps: Float = 1e-5) {
        weight = try! Tensor(shape: [channels], data: [Float](repeating: 1, count: channels), requiresGrad: true)
        bias = try! Tensor(zeros: [channels], requiresGrad: true)
        self.eps = eps
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try callAsFunction(x, residual: nil, activation: .none) }

    /// activation(IN(x) + residual), in one op.
    public func callAsFunction(_ x: Tensor, residual: Tensor? = nil, activation: NormActivation) throws -> Tensor {
        try x.instanceNorm(weight: weight, bias: bias, eps: eps, residual: residual, activation: activation)
    }
}

/// The spec's residual block: reflect-pad 1, conv 3x3, IN, ReLU, reflect-pad 1, conv 3x3,
/// IN; then y = ReLU(x + block(x)). Parts: conv1, norm1, conv2, norm2.
public final class ResidualBlock: Module {
    public let conv1: Conv2D, norm1: InstanceNorm, conv2: Conv2D, norm2: InstanceNorm

    public init(_ channels: Int, eps: Float = 1e-5) {
        conv1 = Conv2D(channels, channels, kernel: 3, reflect: 1)
        norm1 = InstanceNorm(channels, eps: eps)
        conv2 = Conv2D(channels, channels, kernel: 3, reflect: 1)
        norm2 = InstanceNorm(channels, eps: eps)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        prefixed([("conv1", conv1), ("norm1", norm1), ("conv2", conv2), ("norm2", norm2)])
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let h = try norm1(conv1(x), activation: .relu)
        return try norm2(conv2(h), residual: x, activation: .relu)
    }
}
