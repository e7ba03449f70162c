import Foundation
import Tensor

/// Adam (Kingma & Ba) as PyTorch implements it: per parameter a first and second moment
/// and its own step count; a parameter without a gradient is skipped (its step does not
/// advance), which is how frozen layers stay untouched. The learning rate can change
/// between steps.
public final class Adam {
    public let parameters: [(name: String, tensor: Tensor)]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, eps: Float
    /// Moments and step counts, one per parameter, in `parameters` order.
    public internal(set) var m: [[Float]], v: [[Float]], steps: [Int]

    public init(_ parameters: [(name: String, tensor: Tensor)], learningRate: Float,
                beta1: Float = 0.5, beta2: Float = 0.999, eps: Float = 1e-8) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
        m = parameters.map { [Float](repeating: 0, count: $0.tensor.count) }
        v = m
        steps = [Int](repeating: 0, count: parameters.count)
    }

    /// One update of every parameter that has a gradient, then its gradient is cleared.
    public func step() {
        for (k, p) in parameters.enumerated() {
            guard let g = p.tensor.grad else { continue }
            steps[k] += 1
            let t = Float(steps[k])
            let bc1 = 1 - pow(beta1, t), bc2 = 1 - pow(beta2, t)
            let stepSize = learningRate / bc1, bc2Sqrt = bc2.squareRoot()
            m[k].withUnsafeMutableBufferPointer { mp in
            v[k].withUnsafeMutableBufferPointer { vp in
            p.tensor.data.withUnsafeMutableBufferPointer { xp in
            g.withUnsafeBufferPointer { gp in
                Compute.adam(x: xp, m: mp, v: vp, g: gp, beta1: beta1, beta2: beta2, stepSize: stepSize, bc2Sqrt: bc2Sqrt, eps: eps)
            }}}}
            p.tensor.grad = nil
        }
    }

    /// The first parameter whose gradient holds a NaN or an infinity, and that value.
    public func firstNonFiniteGradient() -> (name: String, value: Float)? {
        for (name, t) in parameters {
            guard let g = t.grad, let i = Self.firstNonFinite(g) else { continue }
            return (name, g[i])
        }
        return nil
    }

    /// The index of the first NaN or infinity in `values`. The scan tests the exponent
    /// bits with an integer OR, which vectorises; only a hit is searched again.
    public static func firstNonFinite(_ values: [Float]) -> Int? {
        let exponent: UInt32 = 0x7F80_0000
        let any = values.withUnsafeBufferPointer { p -> Bool in
            var hit: UInt32 = 0
            for v in p { hit |= (v.bitPattern & exponent) == exponent ? 1 : 0 }
            return hit != 0
        }
        return any ? values.firstIndex { !$0.isFinite } : nil
    }

    /// The optimiser state as named tensors (`<prefix>.<param>.m`, `.v`) and step counts,
    /// for checkpoints.
    public func stateTensors(prefix: String) -> [(String, [Int], [Float])] {
        parameters.indices.flatMap { k -> [(String, [Int], [Float])] in
            let (name, t) = parameters[k]
            return [("\(prefix).\(name).m", t.shape, m[k]), ("\(prefix).\(name).v", t.shape, v[k])]
        }
    }

    /// Restores moments and steps saved by `stateTensors` and `steps`.
    public func restore(m: [[Float]], v: [[Float]], steps: [Int]) throws {
        guard m.count == parameters.count, v.count == parameters.count, steps.count == parameters.count,
              zip(parameters, zip(m, v)).allSatisfy({ $0.tensor.count == $1.0.count && $0.tensor.count == $1.1.count }) else {
            throw TensorError.shapeMismatch(op: "Adam.restore", "saved moments do not match the \(parameters.count) parameters")
        }
        self.m = m; self.v = v; self.steps = steps
    }
}
