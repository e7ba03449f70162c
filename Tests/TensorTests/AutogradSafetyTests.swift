import XCTest
@testable import Tensor

/// What `backward()` refuses: a gradient of the wrong size from an op's backward, and an
/// input written in place between the op and the backward pass. Both name the op.
final class AutogradSafetyTests: XCTestCase {
    var rng = TestRNG(41)

    func testWrongSizeGradientIsReportedWithTheOp() throws {
        let x = try tensor([2, 2], &rng)
        // A custom op whose backward hands x three values for its four.
        let y = Tensor(op: "brokenOp", shape: [2, 2], data: x.data, parents: [x]) { g in x.accumulate(Array(g.prefix(3))) }
        XCTAssertThrowsError(try y.mean().backward()) { error in
            XCTAssertEqual(error as? TensorError, .invalid(op: "brokenOp", "gradient of 3 values for shape [2, 2]"))
        }
        XCTAssertNil(x.grad, "the wrong-size gradient must not be added")
        // The graph was released: a new one through the same leaf works.
        try x.square().mean().backward()
        XCTAssertEqual(x.grad?.count, 4)
    }

    func testWrongSizeGradientOfAnInnerTensor() throws {
        // A second, valid consumer: `inner` does get a gradient, so relu's backward would
        // run (and reach x) if the walk went on after the error; both orders of the sum.
        for badFirst in [true, false] {
            let x = try tensor([3], &rng)
            let inner = x.relu()
            let bad = Tensor(op: "tooLong", shape: [3], data: inner.data, parents: [inner]) { g in inner.accumulate(g + g) }
            let y = badFirst ? try bad + inner.scaled(by: 2) : try inner.scaled(by: 2) + bad
            XCTAssertThrowsError(try y.mean().backward()) { error in
                XCTAssertEqual(error as? TensorError, .invalid(op: "tooLong", "gradient of 6 values for shape [3]"))
            }
            XCTAssertNil(x.grad, "no backward runs after the error")
        }
    }

    func testInPlaceWriteBeforeBackwardIsCaught() throws {
        let x = try tensor([2, 3], &rng)
        let y = try x * x
        x.data[0] += 1
        XCTAssertThrowsError(try y.mean().backward()) { error in
            XCTAssertEqual(error as? TensorError, .invalid(op: "multiply", "input 0 was modified in place after the op (version 0 -> 1)"))
        }
    }

    func testInPlaceWriteToAConvolutionWeightIsCaught() throws {
        let x = try tensor([1, 2, 6, 5], &rng), w = try tensor([4, 2, 3, 3], &rng)
        let y = try conv2d(x, weight: w, bias: nil, padding: 1).relu()
        w.data.withUnsafeMutableBufferPointer { $0[0] = 0 }
        XCTAssertThrowsError(try y.mean().backward()) { error in
            XCTAssertEqual(error as? TensorError, .invalid(op: "conv2d", "input 1 was modified in place after the op (version 0 -> 1)"))
        }
        // Replacing the values wholesale counts too.
        let z = try conv2d(x, weight: w, bias: nil, padding: 1)
        x.data = x.data.map { $0 * 2 }
        XCTAssertThrowsError(try z.mean().backward()) { error in
            XCTAssertEqual(error as? TensorError, .invalid(op: "conv2d", "input 0 was modified in place after the op (version 0 -> 1)"))
        }
    }

    /// Ops whose backward does not read an input do not mind it changing (as in PyTorch).
    func testWritesToInputsTheBackwardDoesNotReadAreAllowed() throws {
        let a = try tensor([2, 3], &rng), b = try tensor([2, 3], &rng)
        let y = try (a + b).scaled(by: 2).tanh()
        a.data[1] = 5
        b.data[2] = 5
        try y.mean().backward()
        XCTAssertEqual(a.grad?.count, 6)
        XCTAssertEqual(b.grad?.count, 6)
    }

    /// Forward, backward, update in place, forward, backward: the training loop's order.
    func testUpdatesBetweenIterationsAreAllowed() throws {
        let x = try tensor([1, 2, 5, 4], &rng, grad: false), w = try tensor([3, 2, 3, 3], &rng)
        for _ in 0..<3 {
            let loss = try conv2d(x, weight: w, bias: nil, padding: 1).square().mean()
            try loss.backward()
            let g = try XCTUnwrap(w.grad)
            w.data.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] -= 0.1 * g[i] } }
            w.zeroGrad()
        }
        XCTAssertEqual(w.version, 3)
    }

    func testEveryWriteBumpsTheVersion() throws {
        let x = try tensor([4], &rng)
        XCTAssertEqual(x.version, 0)
        x.data[0] = 1
        x.data.withUnsafeMutableBufferPointer { $0[1] = 2 }
        x.data = [1, 2, 3, 4]
        XCTAssertEqual(x.version, 3)
        _ = x.data[2] + x.data.reduce(0, +)
        XCTAssertEqual(x.version, 3, "reads do not count")
    }

    /// Counting writes must not turn an in-place write into a copy of the values (Adam
    /// writes every parameter in place each step).
    func testInPlaceWritesDoNotCopy() throws {
        let x = try Tensor(zeros: [1 << 16])
        let before = x.data.withUnsafeBufferPointer { $0.baseAddress }
        x.data.withUnsafeMutableBufferPointer { $0[0] = 1 }
        x.data[1] = 2
        XCTAssertEqual(x.data.withUnsafeBufferPointer { $0.baseAddress }, before)
        XCTAssertEqual(x.version, 2)
    }
}
