import Basics
import Tensor

/// A module with named parameters. Names are relative (`conv.weight`); a parent prefixes
/// its children's names with their own (`enc1.conv.weight`), which yields the checkpoint
/// names of the spec (`gen_st.enc1.conv.weight`).
public protocol Layer: AnyObject {
    /// Every parameter with its name, in a fixed order.
    var namedParameters: [(name: String, tensor: Tensor)] { get }
}

extension Layer {
    /// The parameters alone, in `namedParameters` order.
    public var parameters: [Tensor] { namedParameters.map(\.tensor) }

    /// Total number of scalar parameters.
    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.tensor.count } }

    /// Sets `requiresGrad` on every parameter (false freezes the layer).
    public func setTrainable(_ on: Bool) {
        for p in parameters { p.requiresGrad = on; if !on { p.grad = nil } }
    }

    public func zeroGrad() { for p in parameters { p.grad = nil } }
}

/// Joins child parameter lists under their names: [("enc1", layer)] -> "enc1.conv.weight".
public func prefixed(_ children: [(String, any Layer)]) -> [(name: String, tensor: Tensor)] {
    children.flatMap { prefix, layer in layer.namedParameters.map { (prefix + "." + $0.name, $0.tensor) } }
}

/// The spec's initialisers: conv weights N(0, 0.02), biases 0; instance-norm scale
/// N(1, 0.02), shift 0. Parameters are filled in `namedParameters` order from one stream.
public enum Initializer {
    public static func apply(to layer: any Layer, rng: inout SplitMix64) {
        for (name, t) in layer.namedParameters {
            let isNorm = name.split(separator: ".").dropLast().last?.hasPrefix("norm") ?? false
            if name.hasSuffix(".bias") || name == "bias" {
                for i in 0..<t.count { t.data[i] = 0 }
            } else {
                let mean: Double = isNorm ? 1 : 0
                for i in 0..<t.count { t.data[i] = Float(mean + 0.02 * rng.nextNormal()) }
            }
        }
    }
}

/// A layer that maps one tensor to another.
public protocol Module: Layer {
    func callAsFunction(_ x: Tensor) throws -> Tensor
}
