import Tensor

/// How an attention map looks, for watching it form and for catching a collapse: its
/// mean, the fraction above tau and its spatial spread (standard deviation over pixels).
public struct AttentionStats: Sendable, Equatable, Codable {
    public var mean: Float
    public var aboveTau: Float
    public var spread: Float

    public init(mean: Float, aboveTau: Float, spread: Float) {
        self.mean = mean; self.aboveTau = aboveTau; self.spread = spread
    }

    /// The statistics of `a` (any shape, values in [0, 1]).
    public init(_ a: Tensor, tau: Float) {
        var sum = 0.0, squares = 0.0, above = 0
        for v in a.data {
            sum += Double(v)
            squares += Double(v) * Double(v)
            if v > tau { above += 1 }
        }
        let n = Double(max(1, a.count))
        let m = sum / n
        self.init(mean: Float(m), aboveTau: Float(Double(above) / n), spread: Float(max(0, squares / n - m * m).squareRoot()))
    }

    /// The collapse this map shows, if any: all-black (the model is the identity) or
    /// all-white (the model is CycleGAN), judged with `margin` (0.02: mean below 0.02 or
    /// above 0.98 with almost no spread).
    public func collapse(margin: Float = 0.02) -> AttentionCollapse? {
        guard spread < 2 * margin + 0.03 else { return nil }
        if mean < margin { return .allBlack }
        if mean > 1 - margin { return .allWhite }
        return nil
    }
}

/// An attention map that stopped selecting anything.
public enum AttentionCollapse: String, Sendable, Equatable, Codable {
    case allBlack = "all-black", allWhite = "all-white"
}
