import Basics
import Foundation
import XCTest
import NeuralNet
import Tensor

final class TrainingTests: XCTestCase {
    /// Forward, backward and Adam together: a two-layer conv net fits a fixed target.
    func testTwoLayerConvNetLearnsWithAdam() throws {
        final class Net: Layer {
            let c1 = Conv2D(2, 8, kernel: 3, padding: 1), c2 = Conv2D(8, 1, kernel: 3, stride: 2, padding: 1)
            var namedParameters: [(name: String, tensor: Tensor)] { prefixed([("c1", c1), ("c2", c2)]) }
            func callAsFunction(_ x: Tensor) throws -> Tensor { try c2(c1(x).relu()).tanh() }
        }
        let net = Net()
        var rng = SplitMix64(seed: 3)
        Initializer.apply(to: net, rng: &rng)
        // Larger initial weights than the spec's 0.02 (but not saturating tanh) so the net starts far from the target.
        for p in net.parameters { for i in 0..<p.count { p.data[i] = Float(0.1 * rng.nextNormal()) } }
        let x = try Tensor(shape: [2, 2, 8, 6], data: (0..<192).map { _ in Float(rng.nextNormal()) })
        let target = try Tensor(shape: [2, 1, 4, 3], data: (0..<24).map { _ in Float(rng.nextDouble() - 0.5) })
        let adam = Adam(net.namedParameters, learningRate: 0.01)
        var losses: [Float] = []
        for _ in 0..<200 {
            let loss = try (net(x) - target).square().mean()
            losses.append(loss.item)
            try loss.backward()
            adam.step()
        }
        XCTAssertGreaterThan(losses[0], 0.1)
        XCTAssertLessThan(losses.last!, losses[0] * 0.01, "loss \(losses[0]) -> \(losses.last!)")
        XCTAssertEqual(adam.steps, [Int](repeating: 200, count: 4))
    }

    /// One Adam step by hand: with m = v = 0, the first step moves each value by
    /// lr * g / (|g| + eps) (bias corrections cancel).
    func testAdamFirstStepAndFrozenParameters() throws {
        let p = try Tensor(shape: [3], data: [1, 2, 3], requiresGrad: true)
        let frozen = try Tensor(shape: [1], data: [5], requiresGrad: true)
        let adam = Adam([("p", p), ("frozen", frozen)], learningRate: 0.1)
        p.grad = [0.5, -2, 0]
        adam.step()
        XCTAssertEqual(p.data[0], 0.9, accuracy: 1e-6)
        XCTAssertEqual(p.data[1], 2.1, accuracy: 1e-6)
        XCTAssertEqual(p.data[2], 3, accuracy: 1e-6)
        XCTAssertEqual(frozen.data, [5])
        XCTAssertEqual(adam.steps, [1, 0])
        XCTAssertNil(p.grad)
        adam.learningRate = 0
        p.grad = [1, 1, 1]
        adam.step()
        XCTAssertEqual(p.data[0], 0.9, accuracy: 1e-6)
    }

    /// Adam's vectorised update (CKernels) gives every element the bits of the scalar
    /// formula, over lengths that leave a remainder after the 8-wide loop and split over
    /// two threads, for three steps with changing gradients.
    func testAdamUpdateHasTheBitsOfTheScalarFormula() throws {
        var rng = SplitMix64(seed: 7)
        for n in [1, 7, 8, 13, 40_003] {
            let start = (0..<n).map { _ in Float(rng.nextNormal()) }
            let p = try Tensor(shape: [n], data: start, requiresGrad: true)
            let adam = Adam([("p", p)], learningRate: 2e-4)
            var (x, m, v) = (start, [Float](repeating: 0, count: n), [Float](repeating: 0, count: n))
            let saved = Compute.threads
            Compute.setThreads(2)
            defer { Compute.setThreads(saved) }
            for step in 1...3 {
                let g = (0..<n).map { _ in Float(rng.nextNormal()) * (step == 2 ? 1e-6 : 1) }
                p.grad = g
                adam.step()
                let t = Float(step)
                let stepSize = adam.learningRate / (1 - pow(adam.beta1, t)), bc2Sqrt = (1 - pow(adam.beta2, t)).squareRoot()
                for i in 0..<n {
                    m[i] = adam.beta1 * m[i] + (1 - adam.beta1) * g[i]
                    v[i] = adam.beta2 * v[i] + (1 - adam.beta2) * g[i] * g[i]
                    x[i] -= stepSize * m[i] / (v[i].squareRoot() / bc2Sqrt + adam.eps)
                }
                XCTAssertTrue(p.data.elementsEqual(x) { $0.bitPattern == $1.bitPattern }, "n \(n), step \(step): parameters")
                XCTAssertTrue(adam.m[0].elementsEqual(m) { $0.bitPattern == $1.bitPattern }, "n \(n), step \(step): m")
                XCTAssertTrue(adam.v[0].elementsEqual(v) { $0.bitPattern == $1.bitPattern }, "n \(n), step \(step): v")
            }
        }
    }

    func testInitializerFollowsTheSpec() throws {
        let block = ResidualBlock(16)
        var rng = SplitMix64(seed: 1)
        Initializer.apply(to: block, rng: &rng)
        let w = block.conv1.weight.data
        let mean = w.reduce(0, +) / Float(w.count)
        let std = (w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(w.count)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 0.002)
        XCTAssertEqual(std, 0.02, accuracy: 0.002)
        XCTAssertEqual(block.conv1.bias.data, [Float](repeating: 0, count: 16))
        let g = block.norm2.weight.data
        XCTAssertEqual(g.reduce(0, +) / 16, 1, accuracy: 0.02)
        XCTAssertTrue(g.contains { $0 != 1 })
        XCTAssertEqual(block.norm2.bias.data, [Float](repeating: 0, count: 16))
        XCTAssertEqual(block.namedParameters.map(\.name),
                       ["conv1.weight", "conv1.bias", "norm1.weight", "norm1.bias", "conv2.weight", "conv2.bias", "norm2.weight", "norm2.bias"])
    }

    func testLayerErrorsNameTheOpAndShapes() throws {
        let conv = Conv2D(3, 4, kernel: 3)
        let x = try Tensor(zeros: [1, 2, 8, 8])
        XCTAssertThrowsError(try conv(x)) { e in
            XCTAssertEqual("\(e)", "conv2d: shape mismatch: input [1, 2, 8, 8] has 2 channels, weight [4, 3, 3, 3] expects 3")
        }
    }
}

final class SafetensorsTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("aggan-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testRoundTrip() throws {
        let path = dir.appendingPathComponent("a.safetensors").path
        var f = Safetensors.File(metadata: ["format": "aggan", "step": "12"])
        f.tensors["x.weight"] = .init([1, -2.5, 3e-8, .greatestFiniteMagnitude], shape: [2, 2])
        f.tensors["y"] = .init([7], shape: [1])
        try Safetensors.write(f, to: path)
        let g = try Safetensors.read(path)
        XCTAssertEqual(g.metadata, f.metadata)
        XCTAssertEqual(g.tensors["x.weight"]?.floats, [1, -2.5, 3e-8, .greatestFiniteMagnitude])
        XCTAssertEqual(g.tensors["x.weight"]?.shape, [2, 2])
        XCTAssertEqual(g.tensors["y"]?.floats, [7])
        // No temporary file is left beside it.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["a.safetensors"])
    }

    func testTruncatedAndForeignFilesAreRefused() throws {
        let path = dir.appendingPathComponent("a.safetensors").path
        var f = Safetensors.File()
        f.tensors["w"] = .init([Float](repeating: 1, count: 100), shape: [10, 10])
        try Safetensors.write(f, to: path)
        let full = try Data(contentsOf: URL(fileURLWithPath: path))
        let cut = dir.appendingPathComponent("cut.safetensors").path
        try full.prefix(full.count - 10).write(to: URL(fileURLWithPath: cut))
        XCTAssertThrowsError(try Safetensors.read(cut)) { e in
            XCTAssertTrue("\(e)".contains("cut.safetensors") && "\(e)".contains("truncated"), "\(e)")
        }
        let png = dir.appendingPathComponent("x.png").path
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]).write(to: URL(fileURLWithPath: png))
        XCTAssertThrowsError(try Safetensors.read(png)) { e in XCTAssertTrue("\(e)".contains("not a safetensors file"), "\(e)") }
        XCTAssertThrowsError(try Safetensors.read(dir.path)) { e in XCTAssertTrue("\(e)".contains("is a directory"), "\(e)") }
        XCTAssertThrowsError(try Safetensors.read(dir.appendingPathComponent("none").path)) { e in
            XCTAssertTrue("\(e)".contains("no such file"), "\(e)")
        }
    }

    func testWriteIntoMissingFolderFailsCleanly() throws {
        let path = dir.appendingPathComponent("missing/a.safetensors").path
        XCTAssertThrowsError(try Safetensors.write(Safetensors.File(), to: path)) { e in
            XCTAssertTrue("\(e)".hasPrefix("cannot write"), "\(e)")
        }
    }
}

final class AdamInPlaceTests: XCTestCase {
    /// Adam writes the parameters in place: a graph built before the step is stale, and
    /// its backward says so instead of differentiating with the new values.
    func testBackwardAfterAStepIsRefused() throws {
        let p = try Tensor(shape: [3], data: [1, 2, 3], requiresGrad: true)
        let adam = Adam([("p", p)], learningRate: 0.1)
        try p.square().mean().backward()
        let stale = p.square().mean()
        adam.step()
        XCTAssertThrowsError(try stale.backward()) { error in
            XCTAssertEqual(error as? TensorError, .invalid(op: "square", "input 0 was modified in place after the op (version 0 -> 1)"))
        }
        // The next iteration's graph is fine.
        try p.square().mean().backward()
        XCTAssertNotNil(p.grad)
    }
}
