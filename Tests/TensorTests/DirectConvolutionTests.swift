import XCTest
@testable import Tensor

/// conv2d with few output channels (stride 1, no zero padding) runs direct kernels instead
/// of im2col + GEMM: finite differences through them, agreement with the GEMM path at
/// widths that reach every tile of the kernels (64, 8 and single columns), and the same
/// bits for one and two threads.
final class DirectConvolutionTests: XCTestCase {
    var rng = TestRNG(21)

    /// The generators' last layers (7x7 or 3x3 to 1 or 3 channels, after reflection
    /// padding) take the direct path; wide layers, strided or zero-padded ones do not.
    func testThePathChooser() {
        func path(_ k: Int, stride: Int = 1, padding: Int = 0, outputs: Int, _ tuning: Conv2dTuning = Conv2dTuning(primitives: [])) -> Conv2dPath {
            Conv2dPath(kh: k, kw: k, stride: stride, padding: padding, outputs: outputs, tuning: tuning)
        }
        XCTAssertEqual(path(7, outputs: 3), .direct)
        XCTAssertEqual(path(3, outputs: 1), .direct)
        XCTAssertEqual(path(3, outputs: 64), .columns)
        XCTAssertEqual(path(3, stride: 2, outputs: 3), .columns)
        XCTAssertEqual(path(3, padding: 1, outputs: 3), .columns)
        XCTAssertEqual(path(1, outputs: 3), .pointwise)
        XCTAssertEqual(path(1, stride: 2, outputs: 3), .columns)
        XCTAssertEqual(path(7, outputs: 3, Conv2dTuning(directMaxOutputs: 0, primitives: [])), .columns)
        XCTAssertEqual(path(7, outputs: 5, Conv2dTuning(directMaxOutputs: 5)), .direct)
    }

    func testGradientsThroughTheDirectKernels() throws {
        let x = try tensor([2, 2, 5, 6], &rng), w = try tensor([3, 2, 7, 7], &rng), b = try tensor([3], &rng)
        try checkGradients("direct conv2d 7x7 reflect 3", inputs: [x, w, b]) { try conv2d($0[0], weight: $0[1], bias: $0[2], reflect: 3) }
        let u = try tensor([1, 3, 4, 5], &rng), v = try tensor([1, 3, 3, 3], &rng)
        try checkGradients("direct conv2d 3x3 upsample + reflect 2", inputs: [u, v]) {
            try conv2d($0[0], weight: $0[1], bias: nil, reflect: 2, upsample: true)
        }
        // Already padded input: no transform at all.
        let p = try tensor([1, 2, 12, 11], &rng), q = try tensor([2, 2, 4, 3], &rng)
        try checkGradients("direct conv2d 4x3 unpadded", inputs: [p, q]) { try conv2d($0[0], weight: $0[1], bias: nil) }
    }

    /// The same layer through the direct kernels and through im2col + GEMM.
    func testDirectKernelsMatchTheGemmPath() throws {
        for (shape, o, k, reflect, upsample) in [([2, 5, 9, 75], 3, 3, 1, false), ([1, 4, 20, 70], 1, 7, 3, false),
                                                 ([1, 3, 6, 40], 4, 3, 2, true), ([1, 2, 9, 8], 2, 4, 0, false)] {
            let c = shape[1]
            let x = try tensor(shape, &rng), w = try tensor([o, c, k, k], &rng), b = try tensor([o], &rng)
            func run(direct: Bool) throws -> [[Float]] {
                let tuning = Conv2dTuning(directMaxOutputs: direct ? 4 : 0, primitives: [])
                XCTAssertEqual(Conv2dPath(kh: k, kw: k, stride: 1, padding: 0, outputs: o, tuning: tuning), direct ? .direct : .columns)
                for t in [x, w, b] { t.zeroGrad() }
                let y = try conv2d(x, weight: w, bias: b, stride: 1, padding: 0, reflect: reflect, upsample: upsample, tuning: tuning)
                let weights = try Tensor(shape: y.shape, data: (0..<y.count).map { Float(($0 * 7919) % 23) / 11 - 1 })
                try (y * weights).mean().backward()
                return [y.data, x.grad!, w.grad!, b.grad!]
            }
            let direct = try run(direct: true), gemm = try run(direct: false)
            for (n, (a, g)) in zip(["output", "input gradient", "weight gradient", "bias gradient"], zip(direct, gemm)) {
                XCTAssertEqual(a.count, g.count)
                let scale = g.map { Swift.abs($0) }.max()!
                XCTAssertGreaterThan(scale, 0)
                let diff = zip(a, g).map { Swift.abs($0 - $1) }.max()!
                XCTAssertLessThanOrEqual(diff, 1e-5 * scale, "\(n), input \(shape), \(o) outputs, \(k)x\(k)")
            }
        }
    }

    func testOneAndTwoThreadsGiveTheSameBits() throws {
        let x = try tensor([1, 8, 30, 70], &rng), w = try tensor([3, 8, 7, 7], &rng)
        func run(threads: Int) throws -> [[Float]] {
            try withThreads(threads) {
                for t in [x, w] { t.zeroGrad() }
                let y = try conv2d(x, weight: w, bias: nil, reflect: 3)
                try y.square().mean().backward()
                return [y.data, x.grad!, w.grad!]
            }
        }
        let one = try run(threads: 1), two = try run(threads: 2)
        for (k, (a, b)) in zip(one, two).enumerated() { XCTAssertEqual(a, b, "output or gradient \(k)") }
    }
}

/// conv2d of an upsampled, reflection-padded (1) input with a 3x3 kernel runs as four 2x2
/// kernels at the input's resolution: finite differences, and the same values as the
/// separate upsample, pad and convolution ops.
final class UpsampledConvolutionTests: XCTestCase {
    var rng = TestRNG(31)

    func testGradients() throws {
        let x = try tensor([2, 2, 3, 4], &rng), w = try tensor([5, 2, 3, 3], &rng), b = try tensor([5], &rng)
        try checkGradients("conv2d upsample + reflect 1, 3x3", inputs: [x, w, b]) {
            try conv2d($0[0], weight: $0[1], bias: $0[2], reflect: 1, upsample: true)
        }
    }

    func testMatchesTheSeparateOps() throws {
        for (shape, o) in [([2, 3, 5, 4], 6), ([1, 8, 9, 13], 16), ([1, 2, 1, 1], 3)] {
            let x = try tensor(shape, &rng), w = try tensor([o, shape[1], 3, 3], &rng), b = try tensor([o], &rng)
            let outShape = [shape[0], o, 2 * shape[2], 2 * shape[3]]
            let weights = try Tensor(shape: outShape, data: rng.values(outShape.reduce(1, *)))
            func run(_ f: () throws -> Tensor) throws -> [[Float]] {
                for t in [x, w, b] { t.zeroGrad() }
                let y = try f()
                XCTAssertEqual(y.shape, outShape)
                try (y * weights).mean().backward()
                return [y.data, x.grad!, w.grad!, b.grad!]
            }
            let folded = try run { try conv2d(x, weight: w, bias: b, reflect: 1, upsample: true) }
            let separate = try run { try conv2d(x.upsampleNearest2x().reflectionPad2d(1), weight: w, bias: b) }
            for (k, (a, e)) in zip(folded, separate).enumerated() {
                let scale = e.map { Swift.abs($0) }.max()!
                XCTAssertGreaterThan(scale, 0)
                XCTAssertLessThanOrEqual(zip(a, e).map { Swift.abs($0 - $1) }.max()!, 1e-5 * scale, "input \(shape), tensor \(k)")
            }
        }
    }
}

extension Conv2dPath {
    /// The path of a layer over a 4-channel 16x16 image.
    init(kh: Int, kw: Int, stride: Int, padding: Int, outputs: Int, tuning: Conv2dTuning) {
        let (oh, ow) = ((16 + 2 * padding - kh) / stride + 1, (16 + 2 * padding - kw) / stride + 1)
        self.init(window: Window(channels: 4, height: 16, width: 16, kh: kh, kw: kw, stride: stride, pad: padding, outH: oh, outW: ow),
                  outputs: outputs, tuning: tuning)
    }
}
