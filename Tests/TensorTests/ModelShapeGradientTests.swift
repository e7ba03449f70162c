import XCTest
@testable import Tensor

/// Gradient checks at the shapes the AGGAN networks use on RGB images (3 input channels,
/// 32 px), where the mask broadcast and multi-channel convolutions meet.
final class ModelShapeGradientTests: XCTestCase {
    var rng = TestRNG(7)

    func testDiscriminatorFirstConvRGB() throws {
        let x = try tensor([1, 3, 32, 32], &rng), w = try tensor([4, 3, 4, 4], &rng), b = try tensor([4], &rng)
        try checkGradients("conv2d 4x4 s2 p1 rgb", inputs: [x, w, b]) { try conv2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1) }
    }

    func testAttentionFirstConvRGB() throws {
        let x = try tensor([1, 3, 32, 32], &rng), w = try tensor([4, 3, 7, 7], &rng)
        try checkGradients("reflect 3 + conv2d 7x7 s2 rgb", inputs: [x, w]) {
            try conv2d($0[0].reflectionPad2d(3), weight: $0[1], bias: nil, stride: 2)
        }
    }

    func testGeneratorOutConvRGB() throws {
        let x = try tensor([1, 4, 12, 12], &rng), w = try tensor([3, 4, 7, 7], &rng)
        try checkGradients("reflect 3 + conv2d 7x7 -> rgb", inputs: [x, w]) {
            try conv2d($0[0].reflectionPad2d(3), weight: $0[1], bias: nil).tanh()
        }
    }

    func testComposeRGBWithMaskUsedTwice() throws {
        let a = try Tensor(shape: [1, 1, 8, 8], data: rng.values(64, 0.05, 0.95), requiresGrad: true)
        let g = try tensor([1, 3, 8, 8], &rng), x = try tensor([1, 3, 8, 8], &rng)
        try checkGradients("compose rgb", inputs: [a, g, x]) {
            let composite = try ($0[0] * $0[1]) + ($0[0].scaled(by: -1).adding(1) * $0[2])
            return try composite * $0[0]
        }
    }
}
