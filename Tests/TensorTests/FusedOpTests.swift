import XCTest
@testable import Tensor

/// The fused forms that keep fewer activations: conv2d with its input transform
/// (upsampling, reflection padding) done inside the op, and instance norm with a residual
/// and an activation. Each is checked against finite differences and against the chain of
/// separate ops it replaces.
final class FusedOpTests: XCTestCase {
    var rng = TestRNG(11)

    func testConv2dWithReflectionPadding() throws {
        let x = try tensor([2, 3, 6, 5], &rng), w = try tensor([4, 3, 3, 3], &rng), b = try tensor([4], &rng)
        try checkGradients("conv2d reflect 1", inputs: [x, w, b]) { try conv2d($0[0], weight: $0[1], bias: $0[2], reflect: 1) }
    }

    func testConv2dWithReflectionPaddingStride2Kernel7() throws {
        let x = try tensor([1, 2, 9, 8], &rng), w = try tensor([3, 2, 7, 7], &rng)
        try checkGradients("conv2d 7x7 s2 reflect 3", inputs: [x, w]) { try conv2d($0[0], weight: $0[1], bias: nil, stride: 2, reflect: 3) }
    }

    func testConv2dWithUpsamplingAndReflectionPadding() throws {
        let x = try tensor([2, 2, 3, 4], &rng), w = try tensor([3, 2, 3, 3], &rng), b = try tensor([3], &rng)
        try checkGradients("conv2d upsample + reflect 2", inputs: [x, w, b]) {
            try conv2d($0[0], weight: $0[1], bias: $0[2], reflect: 2, upsample: true)
        }
    }

    func testConv2dWithUpsamplingAndZeroPadding() throws {
        let x = try tensor([2, 2, 3, 4], &rng), w = try tensor([3, 2, 3, 3], &rng)
        try checkGradients("conv2d upsample + pad 1", inputs: [x, w]) {
            try conv2d($0[0], weight: $0[1], bias: nil, padding: 1, upsample: true)
        }
    }

    func testConv2d1x1WithReflectionPadding() throws {
        let x = try tensor([2, 3, 4, 3], &rng), w = try tensor([2, 3, 1, 1], &rng)
        try checkGradients("conv2d 1x1 reflect 2", inputs: [x, w]) { try conv2d($0[0], weight: $0[1], bias: nil, reflect: 2) }
    }

    /// The fused transform gives the same numbers as the separate ops (both sum the same
    /// products in the same order, so forward values are equal to the bit).
    func testConv2dTransformMatchesSeparateOps() throws {
        // Reflection 2 and five outputs: the transform and the GEMM path (reflection 1 with a
        // 3x3 kernel takes upsampledConv3x3, four outputs or fewer the direct kernels).
        let x = try tensor([2, 3, 5, 4], &rng), w = try tensor([5, 3, 3, 3], &rng), b = try tensor([5], &rng)
        let weights = try Tensor(shape: [2, 5, 12, 10], data: rng.values(2 * 5 * 12 * 10))
        func run(_ f: () throws -> Tensor) throws -> (y: [Float], dx: [Float], dw: [Float], db: [Float]) {
            for t in [x, w, b] { t.zeroGrad() }
            let y = try f()
            try (y * weights).mean().backward()
            return (y.data, x.grad!, w.grad!, b.grad!)
        }
        let fused = try run { try conv2d(x, weight: w, bias: b, reflect: 2, upsample: true) }
        let separate = try run { try conv2d(x.upsampleNearest2x().reflectionPad2d(2), weight: w, bias: b) }
        XCTAssertEqual(fused.y, separate.y)
        XCTAssertEqual(maxAbsDifference(fused.dx, separate.dx), 0, accuracy: 1e-7)
        XCTAssertEqual(fused.dw, separate.dw)
        XCTAssertEqual(fused.db, separate.db)
    }

    func testConv2dRejectsReflectionWiderThanTheImage() throws {
        let x = try tensor([1, 1, 2, 4], &rng, grad: false), w = try tensor([1, 1, 3, 3], &rng, grad: false)
        XCTAssertThrowsError(try conv2d(x, weight: w, bias: nil, reflect: 2)) { error in
            XCTAssertTrue("\(error)".contains("reflection padding 2"), "\(error)")
        }
        XCTAssertNoThrow(try conv2d(x, weight: w, bias: nil, reflect: 2, upsample: true))
    }

    /// A residual that puts every pre-activation at least 0.2 away from the kink at 0, so
    /// the finite differences (step 0.01) never cross it.
    func residualAwayFromKink(_ x: Tensor, _ w: Tensor, _ b: Tensor) throws -> Tensor {
        let z = try Tensor.withoutGrad { try x.instanceNorm(weight: w, bias: b) }
        let target = rng.awayFromZero(z.count, gap: 0.2)
        return try Tensor(shape: z.shape, data: zip(target, z.data).map { $0 - $1 }, requiresGrad: true)
    }

    func testInstanceNormWithResidualAndReLU() throws {
        let x = try tensor([2, 3, 5, 3], &rng)
        let w = try Tensor(shape: [3], data: rng.values(3, 0.5, 1.5), requiresGrad: true), b = try tensor([3], &rng)
        let r = try residualAwayFromKink(x, w, b)
        try checkGradients("instanceNorm + residual, relu", inputs: [x, w, b, r]) {
            try $0[0].instanceNorm(weight: $0[1], bias: $0[2], residual: $0[3], activation: .relu)
        }
    }

    func testInstanceNormWithLeakyReLU() throws {
        let x = try tensor([2, 3, 4, 5], &rng)
        let w = try Tensor(shape: [3], data: rng.values(3, 0.5, 1.5), requiresGrad: true), b = try tensor([3], &rng)
        let r = try residualAwayFromKink(x, w, b)
        r.requiresGrad = false
        try checkGradients("instanceNorm, leaky relu", inputs: [x, w, b]) {
            try $0[0].instanceNorm(weight: $0[1], bias: $0[2], residual: r, activation: .leakyRelu(0.2))
        }
    }

    /// A large eps (the attention option): gradients still match finite differences, and a
    /// faint plane stays faint instead of being stretched to unit variance.
    func testInstanceNormWithLargeEps() throws {
        let x = try Tensor(shape: [1, 2, 4, 5], data: rng.values(40).map { $0 * 0.3 }, requiresGrad: true)
        let w = try Tensor(shape: [2], data: rng.values(2, 0.5, 1.5), requiresGrad: true), b = try tensor([2], &rng)
        try checkGradients("instanceNorm, eps 0.05", inputs: [x, w, b]) {
            try $0[0].instanceNorm(weight: $0[1], bias: $0[2], eps: 0.05)
        }
        let faint = try Tensor(shape: [1, 1, 4, 4], data: (0..<16).map { Float($0 % 2) * 0.02 })
        let one = try Tensor(shape: [1], data: [1]), zero = try Tensor(zeros: [1])
        func spread(_ eps: Float) throws -> Float {
            let y = try Tensor.withoutGrad { try faint.instanceNorm(weight: one, bias: zero, eps: eps) }
            return (y.data.max() ?? 0) - (y.data.min() ?? 0)
        }
        XCTAssertGreaterThan(try spread(1e-5), 1.5, "the spec's eps stretches faint noise to +-1")
        XCTAssertLessThan(try spread(1e-2), 0.25, "a large eps leaves it faint")
    }

    /// Fused and separate forms agree on values and on every gradient.
    func testFusedInstanceNormMatchesSeparateOps() throws {
        let x = try tensor([2, 4, 6, 5], &rng), r = try tensor([2, 4, 6, 5], &rng)
        let w = try Tensor(shape: [4], data: rng.values(4, 0.5, 1.5), requiresGrad: true), b = try tensor([4], &rng)
        let weights = try Tensor(shape: [2, 4, 6, 5], data: rng.values(240))
        func run(_ f: () throws -> Tensor) throws -> [[Float]] {
            for t in [x, w, b, r] { t.zeroGrad() }
            let y = try f()
            try (y * weights).mean().backward()
            return [y.data, x.grad!, w.grad!, b.grad!, r.grad ?? []]
        }
        let cases: [(String, () throws -> Tensor, () throws -> Tensor)] = [
            ("relu", { try x.instanceNorm(weight: w, bias: b, activation: .relu) },
             { try x.instanceNorm(weight: w, bias: b).relu() }),
            ("leaky", { try x.instanceNorm(weight: w, bias: b, activation: .leakyRelu(0.2)) },
             { try x.instanceNorm(weight: w, bias: b).leakyRelu(0.2) }),
            ("residual relu", { try x.instanceNorm(weight: w, bias: b, residual: r, activation: .relu) },
             { try (r + x.instanceNorm(weight: w, bias: b)).relu() }),
        ]
        for (name, fused, separate) in cases {
            let a = try run(fused), s = try run(separate)
            for (k, (u, v)) in zip(a, s).enumerated() {
                XCTAssertEqual(u.count, v.count, "\(name) [\(k)]")
                XCTAssertLessThanOrEqual(maxAbsDifference(u, v), 1e-6, "\(name) [\(k)]")
            }
        }
    }

    func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0
    }
}

/// The kernels spread over OpenMP threads (im2col, col2im, instance norm) split work by
/// channel or plane, so one thread and two give the same bits.
final class ParallelKernelTests: XCTestCase {
    func testOneAndTwoThreadsGiveTheSameBits() throws {
        var rng = TestRNG(5)
        let x = try tensor([1, 64, 24, 20], &rng), w = try tensor([32, 64, 3, 3], &rng), b = try tensor([32], &rng)
        let wt = try tensor([32, 16, 3, 3], &rng)
        let gamma = try Tensor(shape: [16], data: rng.values(16, 0.5, 1.5), requiresGrad: true), beta = try tensor([16], &rng)
        let weights = try Tensor(shape: [1, 16, 48, 40], data: rng.values(16 * 48 * 40))
        func run(threads: Int) throws -> [[Float]] {
            try withThreads(threads) {
                for t in [x, w, b, wt, gamma, beta] { t.zeroGrad() }
                let c = try conv2d(x, weight: w, bias: b, stride: 1, reflect: 1)
                let u = try convTranspose2d(c, weight: wt, bias: nil, stride: 2, padding: 1, outputPadding: 1)
                let y = try u.instanceNorm(weight: gamma, bias: beta, activation: .relu)
                try (y * weights).mean().backward()
                return [y.data, x.grad!, w.grad!, b.grad!, wt.grad!, gamma.grad!, beta.grad!]
            }
        }
        let one = try run(threads: 1), two = try run(threads: 2)
        XCTAssertGreaterThan(one[0].filter { $0 > 0 }.count, 1000)
        for (k, (a, b)) in zip(one, two).enumerated() { XCTAssertEqual(a, b, "output or gradient \(k)") }
    }
}

/// conv2d unfolds one band of output rows at a time when the columns would exceed
/// `Conv2dTuning.maxColumnFloats`; any banding gives the unbanded values and gradients.
final class ConvolutionBandTests: XCTestCase {
    func testBandedColumnsMatchOneBand() throws {
        var rng = TestRNG(8)
        let x = try tensor([2, 3, 13, 11], &rng), w = try tensor([4, 3, 3, 3], &rng), b = try tensor([4], &rng)
        let weights = try Tensor(shape: [2, 4, 15, 13], data: rng.values(2 * 4 * 15 * 13))
        func run(limit: Int) throws -> [[Float]] {
            for t in [x, w, b] { t.zeroGrad() }
            let y = try conv2d(x, weight: w, bias: b, stride: 1, padding: 1, reflect: 1, upsample: false,
                               tuning: Conv2dTuning(maxColumnFloats: limit, primitives: []))
            XCTAssertEqual(y.shape, [2, 4, 15, 13])
            try (y * weights).mean().backward()
            return [y.data, x.grad!, w.grad!, b.grad!]
        }
        let whole = try run(limit: 1 << 22)
        // 27 column rows x 13 output columns per output row: two output rows per band, then one.
        for limit in [27 * 13 * 2, 1] {
            let banded = try run(limit: limit)
            for (k, (a, c)) in zip(whole, banded).enumerated() {
                let scale = a.map { Swift.abs($0) }.max()!
                XCTAssertLessThanOrEqual(zip(a, c).map { Swift.abs($0 - $1) }.max()!, 1e-5 * scale, "limit \(limit), tensor \(k)")
            }
        }
    }

    func testBandedConvolutionGradient() throws {
        var rng = TestRNG(9)
        let x = try tensor([2, 2, 7, 6], &rng), w = try tensor([3, 2, 3, 3], &rng), b = try tensor([3], &rng)
        try checkGradients("conv2d one output row per band", inputs: [x, w, b]) {
            try conv2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1, reflect: 1, upsample: false,
                       tuning: Conv2dTuning(maxColumnFloats: 1, primitives: []))
        }
    }
}
