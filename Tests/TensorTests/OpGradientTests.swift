import XCTest
@testable import Tensor

/// One finite-difference gradient check per op, with shapes that catch off-by-one errors:
/// odd and non-square sizes, stride 2, batch 2.
final class OpGradientTests: XCTestCase {
    var rng = TestRNG(1)

    func testConv2dStride1Padding1() throws {
        let x = try tensor([2, 3, 7, 5], &rng), w = try tensor([4, 3, 3, 3], &rng), b = try tensor([4], &rng)
        try checkGradients("conv2d 3x3 s1 p1", inputs: [x, w, b]) { try conv2d($0[0], weight: $0[1], bias: $0[2], stride: 1, padding: 1) }
    }

    func testConv2dStride2Padding1OddSize() throws {
        let x = try tensor([2, 2, 9, 6], &rng), w = try tensor([3, 2, 3, 3], &rng), b = try tensor([3], &rng)
        try checkGradients("conv2d 3x3 s2 p1", inputs: [x, w, b]) { try conv2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1) }
    }

    func testConv2dKernel4Stride2NoBias() throws {
        let x = try tensor([1, 2, 10, 7], &rng), w = try tensor([3, 2, 4, 4], &rng)
        try checkGradients("conv2d 4x4 s2 p1", inputs: [x, w]) { try conv2d($0[0], weight: $0[1], bias: nil, stride: 2, padding: 1) }
    }

    func testConv2dKernel7NonSquareKernel() throws {
        let x = try tensor([2, 1, 9, 8], &rng), w = try tensor([2, 1, 7, 5], &rng), b = try tensor([2], &rng)
        try checkGradients("conv2d 7x5 s1 p0", inputs: [x, w, b]) { try conv2d($0[0], weight: $0[1], bias: $0[2]) }
    }

    func testConv2d1x1() throws {
        let x = try tensor([2, 3, 3, 5], &rng), w = try tensor([2, 3, 1, 1], &rng), b = try tensor([2], &rng)
        try checkGradients("conv2d 1x1", inputs: [x, w, b]) { try conv2d($0[0], weight: $0[1], bias: $0[2]) }
    }

    func testConvTranspose2dStride2OutputPadding1() throws {
        let x = try tensor([2, 3, 5, 4], &rng), w = try tensor([3, 2, 3, 3], &rng), b = try tensor([2], &rng)
        try checkGradients("convT 3x3 s2 p1 op1", inputs: [x, w, b]) {
            try convTranspose2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1, outputPadding: 1)
        }
    }

    func testConvTranspose2dStride1() throws {
        let x = try tensor([1, 2, 4, 3], &rng), w = try tensor([2, 3, 3, 2], &rng)
        try checkGradients("convT 3x2 s1 p0", inputs: [x, w]) { try convTranspose2d($0[0], weight: $0[1], bias: nil) }
    }

    func testReflectionPad() throws {
        let x = try tensor([2, 2, 5, 4], &rng)
        try checkGradients("reflectionPad2d 3", inputs: [x]) { try $0[0].reflectionPad2d(3) }
    }

    func testUpsampleNearest() throws {
        let x = try tensor([2, 3, 3, 5], &rng)
        try checkGradients("upsampleNearest2x", inputs: [x]) { try $0[0].upsampleNearest2x() }
    }

    func testInstanceNorm() throws {
        let x = try tensor([2, 3, 5, 3], &rng)
        let w = try Tensor(shape: [3], data: rng.values(3, 0.5, 1.5), requiresGrad: true), b = try tensor([3], &rng)
        try checkGradients("instanceNorm", inputs: [x, w, b]) { try $0[0].instanceNorm(weight: $0[1], bias: $0[2]) }
    }

    func testReLU() throws {
        let x = try Tensor(shape: [2, 3, 3, 5], data: rng.awayFromZero(90), requiresGrad: true)
        try checkGradients("relu", inputs: [x]) { $0[0].relu() }
    }

    func testLeakyReLU() throws {
        let x = try Tensor(shape: [2, 3, 3, 5], data: rng.awayFromZero(90), requiresGrad: true)
        try checkGradients("leakyRelu", inputs: [x]) { $0[0].leakyRelu(0.2) }
    }

    func testTanh() throws {
        let x = try tensor([2, 3, 3, 5], &rng)
        try checkGradients("tanh", inputs: [x]) { $0[0].tanh() }
    }

    func testSigmoid() throws {
        let x = try Tensor(shape: [2, 3, 3, 5], data: rng.values(90, -3, 3), requiresGrad: true)
        try checkGradients("sigmoid", inputs: [x]) { $0[0].sigmoid() }
    }

    func testLog() throws {
        // Positive values away from the floor (0.2...1.2); the step h = 1e-2 stays above it.
        let p = try Tensor(shape: [2, 3, 5], data: rng.values(30, 0.2, 1.2), requiresGrad: true)
        try checkGradients("log", inputs: [p]) { $0[0].log() }
        // At or below the floor: the floor's log, and no gradient.
        let z = try Tensor(shape: [2], data: [0, 1], requiresGrad: true)
        XCTAssertEqual(z.log().data, [Foundation.log(Float(1e-6)), 0])
        try z.log().mean().backward()
        XCTAssertEqual(z.grad, [0, 0.5])
    }

    func testAddSameShape() throws {
        let a = try tensor([2, 3, 3, 5], &rng), b = try tensor([2, 3, 3, 5], &rng)
        try checkGradients("add", inputs: [a, b]) { try $0[0] + $0[1] }
    }

    func testAddMaskBroadcast() throws {
        let a = try tensor([2, 1, 3, 5], &rng), b = try tensor([2, 3, 3, 5], &rng)
        try checkGradients("add mask+image", inputs: [a, b]) { try $0[0] + $0[1] }
    }

    func testSubtractMaskBroadcast() throws {
        let a = try tensor([2, 3, 3, 5], &rng), b = try tensor([2, 1, 3, 5], &rng)
        try checkGradients("subtract image-mask", inputs: [a, b]) { try $0[0] - $0[1] }
        let c = try tensor([2, 1, 3, 5], &rng), d = try tensor([2, 3, 3, 5], &rng)
        try checkGradients("subtract mask-image", inputs: [c, d]) { try $0[0] - $0[1] }
    }

    func testMultiplySameShape() throws {
        let a = try tensor([2, 3, 3, 5], &rng), b = try tensor([2, 3, 3, 5], &rng)
        try checkGradients("multiply", inputs: [a, b]) { try $0[0] * $0[1] }
    }

    func testMultiplyMaskBroadcast() throws {
        let m = try tensor([2, 1, 4, 3], &rng), x = try tensor([2, 3, 4, 3], &rng)
        try checkGradients("multiply mask*image", inputs: [m, x]) { try $0[0] * $0[1] }
        let y = try tensor([2, 3, 4, 3], &rng), n = try tensor([2, 1, 4, 3], &rng)
        try checkGradients("multiply image*mask", inputs: [y, n]) { try $0[0] * $0[1] }
    }

    func testScalarAddAndMultiply() throws {
        let x = try tensor([2, 3, 3, 5], &rng)
        try checkGradients("addScalar", inputs: [x]) { $0[0].adding(-1.5) }
        try checkGradients("mulScalar", inputs: [x]) { $0[0].scaled(by: -2.5) }
    }

    func testMean() throws {
        let x = try tensor([2, 3, 3, 5], &rng)
        try checkGradients("mean", inputs: [x]) { $0[0].mean() }
    }

    func testAbs() throws {
        let x = try Tensor(shape: [2, 3, 3, 5], data: rng.awayFromZero(90), requiresGrad: true)
        try checkGradients("abs", inputs: [x]) { $0[0].abs() }
    }

    func testSquare() throws {
        let x = try tensor([2, 3, 3, 5], &rng)
        try checkGradients("square", inputs: [x]) { $0[0].square() }
    }

    /// The threshold is a constant: values are 1[x > tau] (strict) and no gradient flows.
    func testThresholdIsConstant() throws {
        let x = try Tensor(shape: [1, 1, 1, 4], data: [0.05, 0.1, 0.1001, 0.9], requiresGrad: true)
        let m = x.threshold(0.1)
        XCTAssertEqual(m.data, [0, 0, 1, 1])
        XCTAssertFalse(m.requiresGrad)
        let y = try (x * m).mean()
        try y.backward()
        XCTAssertEqual(x.grad!, [0, 0, 0.25, 0.25])
    }

    /// A tensor used twice gets the sum of both gradients (the cycle uses images twice).
    func testGradientsAccumulateWhenUsedTwice() throws {
        let x = try tensor([1, 2, 3, 3], &rng)
        try checkGradients("x*x + tanh(x)", inputs: [x]) { try ($0[0] * $0[0]) + $0[0].tanh() }
        x.zeroGrad()
        try (try x + x).mean().backward()
        XCTAssertEqual(x.grad!, [Float](repeating: 2 / 18, count: 18))
    }

    /// A composite graph like the attention composition: a * g + (1 - a) * x.
    func testComposition() throws {
        let a = try Tensor(shape: [2, 1, 3, 4], data: rng.values(24, 0, 1), requiresGrad: true)
        let g = try tensor([2, 3, 3, 4], &rng), x = try tensor([2, 3, 3, 4], &rng)
        try checkGradients("composition", inputs: [a, g, x]) {
            try ($0[0] * $0[1]) + ($0[0].scaled(by: -1).adding(1) * $0[2])
        }
    }
}
