import XCTest
@testable import Tensor

/// conv2d layers with 16 or more input and output channels run oneDNN's convolution
/// primitives (blocked memory formats, reordered per call): finite differences through
/// them, agreement with im2col + GEMM for every geometry the networks use (strides,
/// zero padding, reflection padding, upsampling, batches), and what holds across thread
/// counts.
final class PrimitiveConvolutionTests: XCTestCase {
    var rng = TestRNG(33)

    func path(channels: Int, outputs: Int, size: Int = 66, k: Int = 3, stride: Int = 1, padding: Int = 0,
              _ tuning: Conv2dTuning = .standard) -> Conv2dPath {
        let out = (size + 2 * padding - k) / stride + 1
        return Conv2dPath(window: Window(channels: channels, height: size, width: size, kh: k, kw: k, stride: stride, pad: padding,
                                         outH: out, outW: out), outputs: outputs, tuning: tuning)
    }

    func testThePathChooser() {
        let some = OpaquePointer(bitPattern: 1)!
        // The measured rule: 3x3 kernels of stride 1 by Winograd from 32 x 32 output pixels
        // (oneDNN's primitives where the CPU has them, else CKernels' F(2x2, 3x3)); other
        // kernels but 4x4: forward and weight gradient by the direct primitives.
        let threeByThree = Conv2dPath.winograd(some)
        XCTAssertEqual(path(channels: 128, outputs: 128), threeByThree)
        XCTAssertEqual(path(channels: 128, outputs: 128, size: 34), threeByThree)
        XCTAssertNil(path(channels: 128, outputs: 128, Conv2dTuning(winogradTiles: true)).primitive(.forward))
        XCTAssertEqual(path(channels: 128, outputs: 128, Conv2dTuning(winograd: false)), .primitive(some, [.forward, .weights]))
        XCTAssertEqual(path(channels: 64, outputs: 128, size: 130, stride: 2, padding: 1), .primitive(some, [.forward, .weights]))
        XCTAssertEqual(path(channels: 3, outputs: 32, size: 262, k: 7), .primitive(some, [.forward, .weights]))
        XCTAssertEqual(path(channels: 128, outputs: 128, size: 18), .columns)
        // 4x4 kernels: every pass by the primitives on AMD CPUs, by columns elsewhere, at any size.
        let fourByFour: Conv2dPath = Compute.isAMD ? .primitive(some, .all) : .columns
        XCTAssertEqual(path(channels: 64, outputs: 128, size: 256, k: 4, stride: 2, padding: 1), fourByFour)
        XCTAssertEqual(path(channels: 256, outputs: 512, size: 10, k: 4, stride: 1, padding: 1), fourByFour)
        XCTAssertEqual(path(channels: 64, outputs: 128, size: 256, k: 4, stride: 2, padding: 1, Conv2dTuning(fourByFour: [])), .columns)
        XCTAssertEqual(path(channels: 64, outputs: 128, size: 256, k: 4, stride: 2, padding: 1, Conv2dTuning(fourByFour: .all)),
                       .primitive(some, .all))
        XCTAssertEqual(path(channels: 128, outputs: 128, Conv2dTuning(winograd: false, fourByFour: .all)), .primitive(some, [.forward, .weights]))
        XCTAssertEqual(path(channels: 16, outputs: 16, Conv2dTuning(primitives: [])), .columns)
        XCTAssertEqual(path(channels: 64, outputs: 128, k: 4, stride: 2, padding: 1, Conv2dTuning(primitives: .all)), .primitive(some, .all))
        XCTAssertEqual(path(channels: 16, outputs: 1), .direct)
        XCTAssertTrue(Conv2dPath.primitive(some, [.forward]).unfolds)
        XCTAssertFalse(Conv2dPath.primitive(some, .all).unfolds)
        // The same geometry gives the same cached primitives.
        guard let a = path(channels: 32, outputs: 16, stride: 2).primitive(.forward),
              let b = path(channels: 32, outputs: 16, stride: 2).primitive(.weights) else {
            return XCTFail("no primitive")
        }
        XCTAssertEqual(a, b)
    }

    /// Every pass by the primitives (the standard rule leaves the input gradient to GEMM),
    /// and by Winograd (oneDNN's where the CPU has it, else CKernels' F(2x2, 3x3), which is
    /// also checked on its own).
    func testGradientsThroughThePrimitives() throws {
        let all = Conv2dTuning(primitives: .all)
        let x = try tensor([1, 16, 6, 7], &rng), w = try tensor([16, 16, 3, 3], &rng), b = try tensor([16], &rng)
        try checkGradients("primitive conv2d 3x3 reflect 1", inputs: [x, w, b]) {
            try conv2d($0[0], weight: $0[1], bias: $0[2], stride: 1, padding: 0, reflect: 1, upsample: false, tuning: all)
        }
        let u = try tensor([2, 16, 8, 8], &rng), v = try tensor([32, 16, 4, 4], &rng)
        try checkGradients("primitive conv2d 4x4 stride 2 pad 1", inputs: [u, v]) {
            try conv2d($0[0], weight: $0[1], bias: nil, stride: 2, padding: 1, reflect: 0, upsample: false, tuning: all)
        }
        let winograd = Conv2dTuning(winograd: true)
        let y = try tensor([1, 16, 6, 9], &rng), z = try tensor([16, 16, 3, 3], &rng), c = try tensor([16], &rng)
        try checkGradients("Winograd conv2d 3x3 reflect 1", inputs: [y, z, c]) {
            try conv2d($0[0], weight: $0[1], bias: $0[2], stride: 1, padding: 0, reflect: 1, upsample: false, tuning: winograd)
        }
        // F(2x2, 3x3) of CKernels: odd sizes (tiles past the image's edge), two images, and
        // a band of one tile row at a time (the column limit below one band's arrays).
        let tiles = Conv2dTuning(maxColumnFloats: 1, winograd: true, winogradTiles: true)
        let e = try tensor([2, 5, 7, 4], &rng), f = try tensor([6, 5, 3, 3], &rng)
        try checkGradients("Winograd F(2x2, 3x3) conv2d, bands of one tile row", inputs: [e, f]) {
            try conv2d($0[0], weight: $0[1], bias: nil, stride: 1, padding: 0, reflect: 0, upsample: false, tuning: tiles)
        }
        let p = try tensor([1, 16, 4, 5], &rng), q = try tensor([16, 16, 3, 3], &rng)
        try checkGradients("primitive conv2d 3x3 upsample + reflect 2", inputs: [p, q]) {
            try conv2d($0[0], weight: $0[1], bias: nil, stride: 1, padding: 0, reflect: 2, upsample: true, tuning: all)
        }
    }

    /// The same layer through the primitives and through im2col + GEMM.
    func testPrimitivesMatchTheGemmPath() throws {
        // (input shape, outputs, kernel, stride, zero padding, reflection, upsample)
        let cases: [([Int], Int, Int, Int, Int, Int, Bool)] = [
            ([1, 32, 16, 16], 32, 3, 1, 0, 1, false), ([2, 16, 17, 15], 32, 3, 2, 1, 0, false),
            ([1, 16, 20, 20], 32, 4, 2, 1, 0, false), ([1, 64, 9, 9], 16, 4, 1, 1, 0, false),
            ([1, 16, 7, 9], 24, 3, 1, 0, 2, true), ([1, 16, 10, 10], 16, 7, 1, 0, 3, false),
        ]
        for (shape, o, k, stride, padding, reflect, upsample) in cases {
            let c = shape[1]
            let x = try tensor(shape, &rng), w = try tensor([o, c, k, k], &rng), b = try tensor([o], &rng)
            func run(primitives: Conv2dPasses) throws -> [[Float]] {
                let tuning = Conv2dTuning(primitives: primitives)
                for t in [x, w, b] { t.zeroGrad() }
                let y = try conv2d(x, weight: w, bias: b, stride: stride, padding: padding, reflect: reflect, upsample: upsample, tuning: tuning)
                let weights = try Tensor(shape: y.shape, data: (0..<y.count).map { Float(($0 * 7919) % 23) / 11 - 1 })
                try (y * weights).mean().backward()
                return [y.data, x.grad!, w.grad!, b.grad!]
            }
            let primitive = try run(primitives: .all), gemm = try run(primitives: [])
            for (n, (a, g)) in zip(["output", "input gradient", "weight gradient", "bias gradient"], zip(primitive, gemm)) {
                XCTAssertEqual(a.count, g.count)
                let scale = g.map { Swift.abs($0) }.max()!
                XCTAssertGreaterThan(scale, 0)
                let diff = zip(a, g).map { Swift.abs($0 - $1) }.max()!
                XCTAssertLessThanOrEqual(diff, 1e-5 * scale, "\(n), input \(shape), \(o) outputs, \(k)x\(k) stride \(stride)")
            }
        }
    }

    /// Winograd against im2col + GEMM at the paper's 3x3 layers (reflection padded, as the
    /// residual trunk and the attention run them) and at small layers: oneDNN's F(4x4, 3x3)
    /// primitives (where the CPU has them) and CKernels' F(2x2, 3x3), the latter also in
    /// bands of a few tile rows. Winograd adds and subtracts transformed tiles, so its
    /// rounding is a few times float32's direct sum: measured about 2e-6 of each result's
    /// largest value for F(4x4, 3x3), below 1e-6 for F(2x2, 3x3).
    func testWinogradMatchesTheGemmPath() throws {
        let oneDNN = Conv2dTuning(primitives: [], winograd: true)
        let tiles = Conv2dTuning(primitives: [], winograd: true, winogradTiles: true)
        let banded = Conv2dTuning(maxColumnFloats: 16 * 40 * 12, primitives: [], winograd: true, winogradTiles: true)
        for (shape, o, tuning) in [([1, 128, 64, 64], 128, oneDNN), ([2, 64, 34, 30], 64, oneDNN), ([1, 16, 9, 11], 32, oneDNN),
                                   ([1, 128, 64, 64], 128, tiles), ([2, 64, 34, 30], 64, tiles), ([1, 16, 9, 11], 32, tiles),
                                   ([2, 16, 13, 10], 24, banded), ([1, 3, 5, 6], 5, tiles)] {
            let x = try tensor(shape, &rng), w = try tensor([o, shape[1], 3, 3], &rng), b = try tensor([o], &rng)
            func run(_ tuning: Conv2dTuning) throws -> (Conv2dPath, [[Float]]) {
                for t in [x, w, b] { t.zeroGrad() }
                let y = try conv2d(x, weight: w, bias: b, stride: 1, padding: 0, reflect: 1, upsample: false, tuning: tuning)
                let weights = try Tensor(shape: y.shape, data: (0..<y.count).map { Float(($0 * 7919) % 23) / 11 - 1 })
                try (y * weights).mean().backward()
                let window = Window(channels: shape[1], height: shape[2] + 2, width: shape[3] + 2, kh: 3, kw: 3, stride: 1, pad: 0,
                                    outH: shape[2], outW: shape[3])
                return (Conv2dPath(window: window, outputs: o, tuning: tuning), [y.data, x.grad!, w.grad!, b.grad!])
            }
            let (path, winograd) = try run(tuning)
            guard case .winograd(let p) = path else { return XCTFail("no Winograd path for \(shape)") }
            if p == nil && !tuning.winogradTiles {
                print("oneDNN has no Winograd convolution on this CPU (\(Compute.isa)): F(2x2, 3x3) of CKernels instead")
            }
            let (columns, gemm) = try run(Conv2dTuning(primitives: [], winograd: false))
            XCTAssertEqual(columns, .columns)
            for (n, (a, g)) in zip(["output", "input gradient", "weight gradient", "bias gradient"], zip(winograd, gemm)) {
                let scale = g.map { Swift.abs($0) }.max()!
                let diff = zip(a, g).map { Swift.abs($0 - $1) }.max()!
                print("winograd (\(p == nil ? "F(2x2, 3x3)" : "oneDNN")) vs columns \(shape) \(n): \(diff / scale)")
                XCTAssertLessThanOrEqual(diff, 1e-5 * scale, "\(n), input \(shape), \(o) outputs")
            }
        }
    }

    /// The same bits for one and two threads through the primitives, at the generator's
    /// trunk (128 channels) and first layer (3 channels, 7x7), a discriminator's 4x4 layers
    /// (stride 2 and 1, zero padding) and a small layer: oneDNN splits these passes over
    /// output pixels and channels, not a sum between threads, except the weight gradient
    /// of a layer with few input channels (the first layers), which is left out here
    /// (docs/PERFORMANCE.md). Each thread count has primitives of its own: oneDNN fixes
    /// a primitive's count when it creates it.
    func testOneAndTwoThreadsGiveTheSameBits() throws {
        // (input shape, outputs, kernel, reflection, stride, zero padding)
        let cases: [([Int], Int, Int, Int, Int, Int)] = [
            ([1, 128, 64, 64], 128, 3, 1, 1, 0), ([1, 3, 128, 128], 32, 7, 3, 1, 0), ([1, 32, 24, 24], 32, 3, 1, 1, 0),
            ([1, 64, 64, 64], 128, 4, 0, 2, 1), ([1, 3, 128, 128], 64, 4, 0, 2, 1), ([1, 256, 33, 33], 512, 4, 0, 1, 1),
        ]
        for (shape, o, k, reflect, stride, padding) in cases {
            let x = try tensor(shape, &rng), w = try tensor([o, shape[1], k, k], &rng)
            func run(threads: Int, _ tuning: Conv2dTuning) throws -> [[Float]] {
                try withThreads(threads) {
                    for t in [x, w] { t.zeroGrad() }
                    let y = try conv2d(x, weight: w, bias: nil, stride: stride, padding: padding, reflect: reflect, upsample: false,
                                       tuning: tuning)
                    try y.square().mean().backward()
                    return [y.data, x.grad!, w.grad!]
                }
            }
            var tunings = [("direct", Conv2dTuning(primitives: .all))]
            if k == 3 && stride == 1 { tunings.append(("Winograd", Conv2dTuning(primitives: [], winograd: true))) }
            for (name, tuning) in tunings {
                // The layer's window is over the reflection-padded image (every case is square).
                func primitive(threads: Int) -> OpaquePointer? {
                    withThreads(threads) {
                        path(channels: shape[1], outputs: o, size: shape[2] + 2 * reflect, k: k, stride: stride, padding: padding,
                             tuning).primitive(.forward)
                    }
                }
                let (first, second) = (primitive(threads: 1), primitive(threads: 2))
                if name == "Winograd" && first == nil { continue }  // no Winograd on this CPU
                XCTAssertNotNil(first, "\(name) \(k)x\(k) on \(shape) takes no primitive")
                if Compute.maximumThreads >= 2 { XCTAssertNotEqual(first, second, "one primitive for both thread counts") }
                let one = try run(threads: 1, tuning), two = try run(threads: 2, tuning)
                let passes = shape[1] < 16 ? ["output", "input gradient"] : ["output", "input gradient", "weight gradient"]
                for (n, (a, b)) in zip(passes, zip(one, two)) {
                    XCTAssertTrue(a == b, "\(name): \(n) of \(k)x\(k) stride \(stride) on \(shape)")
                }
            }
        }
    }
}
