import Foundation

/// A small, fast, seedable random generator (SplitMix64) whose whole state is one
/// `UInt64`, so a run can save it in a checkpoint and resume the same stream.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal value (Box-Muller; one value per call, so the stream is simple).
    public mutating func nextNormal() -> Double {
        let u1 = max(nextDouble(), 0x1.0p-60), u2 = nextDouble()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// An integer in 0..<n (n > 0): the high half of n * next() (Lemire's multiply-shift;
    /// bias below n / 2^64). Written out rather than `Int.random(in:using:)`, whose
    /// algorithm the standard library does not promise to keep, so streams stay reproducible.
    public mutating func nextInt(below n: Int) -> Int {
        precondition(n > 0, "nextInt(below:) needs n > 0")
        return Int(UInt64(n).multipliedFullWidth(by: next()).high)
    }
}
