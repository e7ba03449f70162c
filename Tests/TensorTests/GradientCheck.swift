import XCTest
@testable import Tensor

/// A small deterministic generator for test data (SplitMix64).
struct TestRNG {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    mutating func uniform(_ lo: Float = -1, _ hi: Float = 1) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
    mutating func values(_ n: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] {
        (0..<n).map { _ in uniform(lo, hi) }
    }
    /// Values with |v| in [gap, 1]: away from the kinks of relu, abs and leaky relu.
    mutating func awayFromZero(_ n: Int, gap: Float = 0.1) -> [Float] {
        (0..<n).map { _ in
            let v = uniform(gap, 1)
            return next() & 1 == 0 ? v : -v
        }
    }
}

/// Checks the analytic gradient of `f` against central finite differences.
///
/// The scalar checked is L = sum_i r_i * f(x)_i with fixed random weights r, so every
/// output element contributes. L is accumulated in double precision from the float32
/// forward values. With step h = 1e-2 on inputs of order 1, the central difference has a
/// truncation error of order h^2 * |f'''| (about 1e-4) and a rounding error of order
/// eps_float32 * |L| / h (about 1e-5 * |L|), so the test allows an absolute error of
/// 2e-3 * scale plus 1e-2 relative, where scale is the largest analytic gradient value:
/// an indexing mistake gives errors of order 1 and fails by far.
func checkGradients(_ name: String, inputs: [Tensor], h: Float = 1e-2, maxChecksPerInput: Int = 60,
                    file: StaticString = #filePath, line: UInt = #line,
                    _ f: ([Tensor]) throws -> Tensor) throws {
    var rng = TestRNG(99)
    let probe = try f(inputs)
    let r = rng.values(probe.count)
    func loss() throws -> Double {
        let y = try Tensor.withoutGrad { try f(inputs) }
        var s = 0.0
        for i in 0..<y.count { s += Double(r[i]) * Double(y.data[i]) }
        return s
    }
    // Analytic: L = mean(y * r) * count.
    for x in inputs { x.zeroGrad() }
    let y = try f(inputs)
    let weights = try Tensor(shape: y.shape, data: r)
    let l = try (y * weights).mean().scaled(by: Float(y.count))
    try l.backward()
    for (k, x) in inputs.enumerated() where x.requiresGrad {
        guard let g = x.grad else { XCTFail("\(name): input \(k) got no gradient", file: file, line: line); continue }
        guard g.count == x.count else {
            XCTFail("\(name): input \(k) got \(g.count) gradient values for \(x.count)", file: file, line: line)
            continue
        }
        let scale = max(g.map { Swift.abs($0) }.max() ?? 0, 1e-3)
        let stride = max(1, x.count / maxChecksPerInput)
        // The worst element: its error over its tolerance (the check fails above 1).
        var worst = (ratio: 0.0, index: 0, numeric: 0.0)
        for i in Swift.stride(from: 0, to: x.count, by: stride) {
            let saved = x.data[i]
            x.data[i] = saved + h
            let up = try loss()
            x.data[i] = saved - h
            let down = try loss()
            x.data[i] = saved
            let numeric = (up - down) / Double(2 * h)
            let ratio = Swift.abs(numeric - Double(g[i])) / (2e-3 * Double(scale) + 1e-2 * Swift.abs(numeric))
            if ratio.isNaN || ratio > worst.ratio { worst = (ratio, i, numeric) }  // NaN counts as worst
        }
        XCTAssertLessThanOrEqual(worst.ratio, 1, "\(name): input \(k) [\(worst.index)] analytic \(g[worst.index]) vs numeric \(worst.numeric)",
                                 file: file, line: line)
    }
}

func tensor(_ shape: [Int], _ rng: inout TestRNG, grad: Bool = true) throws -> Tensor {
    try Tensor(shape: shape, data: rng.values(shape.reduce(1, *)), requiresGrad: grad)
}

/// `body`'s result with the compute thread count set to `threads`, the count before
/// restored afterwards.
func withThreads<T>(_ threads: Int, _ body: () throws -> T) rethrows -> T {
    let saved = Compute.threads
    Compute.setThreads(threads)
    defer { Compute.setThreads(saved) }
    return try body()
}
