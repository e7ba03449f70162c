import Foundation

// Element-wise ops, reductions and the mask broadcast. Each op's backward sits beside its
// forward. Loops run over contiguous buffers so the optimiser can vectorise them.

@inline(__always)
func mapValues(_ x: [Float], _ f: (Float) -> Float) -> [Float] {
    [Float](unsafeUninitializedCapacity: x.count) { buf, n in
        x.withUnsafeBufferPointer { xp in
            for i in 0..<xp.count { buf[i] = f(xp[i]) }
        }
        n = x.count
    }
}

@inline(__always)
func zipValues(_ a: [Float], _ b: [Float], _ f: (Float, Float) -> Float) -> [Float] {
    [Float](unsafeUninitializedCapacity: a.count) { buf, n in
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                for i in 0..<ap.count { buf[i] = f(ap[i], bp[i]) }
            }
        }
        n = a.count
    }
}

extension Tensor {
    // MARK: Activations

    /// max(x, 0). The gradient at 0 is 0, as in PyTorch.
    public func relu() -> Tensor {
        let x = self
        return Tensor(op: "relu", shape: shape, data: mapValues(data) { max($0, 0) }, parents: [x]) { g in
            x.accumulate(zipValues(g, x.data) { $1 > 0 ? $0 : 0 })
        }
    }

    /// x for x > 0, slope * x otherwise.
    public func leakyRelu(_ slope: Float = 0.2) -> Tensor {
        let x = self
        return Tensor(op: "leakyRelu", shape: shape, data: mapValues(data) { $0 > 0 ? $0 : $0 * slope }, parents: [x]) { g in
            x.accumulate(zipValues(g, x.data) { $1 > 0 ? $0 : $0 * slope })
        }
    }

    public func tanh() -> Tensor {
        let x = self
        let y = mapValues(data) { Foundation.tanh($0) }
        return Tensor(op: "tanh", shape: shape, data: y, parents: [x], reads: []) { g in
            x.accumulate(zipValues(g, y) { $0 * (1 - $1 * $1) })
        }
    }

    public func sigmoid() -> Tensor {
        let x = self
        let y = mapValues(data) { 1 / (1 + Foundation.exp(-$0)) }
        return Tensor(op: "sigmoid", shape: shape, data: y, parents: [x], reads: []) { g in
            x.accumulate(zipValues(g, y) { $0 * $1 * (1 - $1) })
        }
    }

    /// log(max(x, floor)): the natural logarithm, with x clamped from below so that a
    /// probability of 0 gives a large finite value, not -infinity. The gradient is
    /// 1 / x above the floor and 0 below it.
    public func log(floor: Float = 1e-6) -> Tensor {
        let x = self
        let y = mapValues(data) { Foundation.log(Swift.max($0, floor)) }
        return Tensor(op: "log", shape: shape, data: y, parents: [x]) { g in
            x.accumulate(zipValues(g, x.data) { $1 > floor ? $0 / $1 : 0 })
        }
    }

    // MARK: Simple maps

    /// |x|; the gradient at 0 is 0.
    public func abs() -> Tensor {
        let x = self
        return Tensor(op: "abs", shape: shape, data: mapValues(data) { Swift.abs($0) }, parents: [x]) { g in
            x.accumulate(zipValues(g, x.data) { $1 > 0 ? $0 : ($1 < 0 ? -$0 : 0) })
        }
    }

    /// x * x.
    public func square() -> Tensor {
        let x = self
        return Tensor(op: "square", shape: shape, data: mapValues(data) { $0 * $0 }, parents: [x]) { g in
            x.accumulate(zipValues(g, x.data) { 2 * $0 * $1 })
        }
    }

    /// x + c.
    public func adding(_ c: Float) -> Tensor {
        let x = self
        return Tensor(op: "addScalar", shape: shape, data: mapValues(data) { $0 + c }, parents: [x], reads: []) { g in
            x.accumulate(g)
        }
    }

    /// x * c.
    public func scaled(by c: Float) -> Tensor {
        let x = self
        return Tensor(op: "mulScalar", shape: shape, data: mapValues(data) { $0 * c }, parents: [x], reads: []) { g in
            x.accumulate(mapValues(g) { $0 * c })
        }
    }

    /// 1[x > tau]: a constant mask, not differentiable (no gradient flows through it).
    public func threshold(_ tau: Float) -> Tensor {
        Tensor(op: "threshold", shape: shape, data: mapValues(data) { $0 > tau ? 1 : 0 }, parents: [], backward: nil)
    }

    // MARK: Reductions

    /// The mean of all values, as a one-element tensor (accumulated in double precision).
    public func mean() -> Tensor {
        let x = self
        let s = data.withUnsafeBufferPointer { p in blockedSum(p.count) { p[$0] } }
        let n = Float(count)
        return Tensor(op: "mean", shape: [1], data: [Float(s / Double(count))], parents: [x], reads: []) { g in
            x.accumulate([Float](repeating: g[0] / n, count: x.count))
        }
    }
}

// MARK: - Binary ops with the mask broadcast

/// How two operands line up: equal shapes, or one of them [N, 1, H, W] broadcast over the
/// channels of the other [N, C, H, W].
struct Broadcast {
    var shape: [Int]
    var aIsMask: Bool, bIsMask: Bool
    var n: Int, c: Int, plane: Int

    init(_ a: [Int], _ b: [Int], op: String) throws {
        if a == b {
            shape = a; aIsMask = false; bIsMask = false
            n = 1; c = 1; plane = a.reduce(1, *)
            return
        }
        guard a.count == 4, b.count == 4, a[0] == b[0], a[2] == b[2], a[3] == b[3], a[1] == 1 || b[1] == 1 else {
            throw TensorError.shapeMismatch(op: op, "\(a) and \(b) are neither equal nor [N, C, H, W] with a [N, 1, H, W] mask")
        }
        aIsMask = a[1] == 1; bIsMask = !aIsMask
        shape = aIsMask ? b : a
        n = shape[0]; c = shape[1]; plane = shape[2] * shape[3]
    }

    /// Calls body(offsetA, offsetB, offsetOut) for each contiguous run of `plane` values.
    @inline(__always)
    func forEachRun(_ body: (Int, Int, Int) -> Void) {
        for i in 0..<n {
            for ch in 0..<c {
                let o = (i * c + ch) * plane
                body(aIsMask ? i * plane : o, bIsMask ? i * plane : o, o)
            }
        }
    }

    /// Reduces a gradient of the output shape to the operand's shape (sums over channels
    /// for a broadcast mask).
    func reduce(_ g: [Float], mask: Bool) -> [Float] {
        guard mask else { return g }
        var r = [Float](repeating: 0, count: n * plane)
        r.withUnsafeMutableBufferPointer { rp in
            g.withUnsafeBufferPointer { gp in
                for i in 0..<n {
                    for ch in 0..<c {
                        let src = gp.baseAddress! + (i * c + ch) * plane
                        let dst = rp.baseAddress! + i * plane
                        for j in 0..<plane { dst[j] += src[j] }
                    }
                }
            }
        }
        return r
    }
}

@inline(__always)
func broadcastApply(_ a: [Float], _ b: [Float], _ bc: Broadcast, _ f: (Float, Float) -> Float) -> [Float] {
    var out = uninitializedFloats(bc.shape.reduce(1, *))  // every run written below
    a.withUnsafeBufferPointer { ap in
        b.withUnsafeBufferPointer { bp in
            out.withUnsafeMutableBufferPointer { op in
                bc.forEachRun { ia, ib, io in
                    let pa = ap.baseAddress! + ia, pb = bp.baseAddress! + ib, po = op.baseAddress! + io
                    for j in 0..<bc.plane { po[j] = f(pa[j], pb[j]) }
                }
            }
        }
    }
    return out
}

extension Tensor {
    /// a + b (b may be a [N, 1, H, W] mask of a [N, C, H, W] a, or the other way round).
    public static func + (a: Tensor, b: Tensor) throws -> Tensor {
        let bc = try Broadcast(a.shape, b.shape, op: "add")
        return Tensor(op: "add", shape: bc.shape, data: broadcastApply(a.data, b.data, bc, +), parents: [a, b], reads: []) { g in
            a.accumulate(bc.reduce(g, mask: bc.aIsMask))
            b.accumulate(bc.reduce(g, mask: bc.bIsMask))
        }
    }

    /// a - b, with the same broadcasting as `+`.
    public static func - (a: Tensor, b: Tensor) throws -> Tensor {
        let bc = try Broadcast(a.shape, b.shape, op: "subtract")
        return Tensor(op: "subtract", shape: bc.shape, data: broadcastApply(a.data, b.data, bc, -), parents: [a, b], reads: []) { g in
            a.accumulate(bc.reduce(g, mask: bc.aIsMask))
            if b.requiresGrad { b.accumulate(bc.reduce(mapValues(g) { -$0 }, mask: bc.bIsMask)) }
        }
    }

    /// a * b element-wise, with the same broadcasting as `+`.
    public static func * (a: Tensor, b: Tensor) throws -> Tensor {
        let bc = try Broadcast(a.shape, b.shape, op: "multiply")
        return Tensor(op: "multiply", shape: bc.shape, data: broadcastApply(a.data, b.data, bc, *), parents: [a, b]) { g in
            // d/da = g * b, d/db = g * a (the gradient has the full shape, so it takes the
            // full operand's place in the same broadcast), each then reduced to its own shape.
            if a.requiresGrad {
                let ga = bc.bIsMask ? broadcastApply(g, b.data, bc, *) : zipValues(g, b.data, *)
                a.accumulate(bc.reduce(ga, mask: bc.aIsMask))
            }
            if b.requiresGrad {
                let gb = bc.aIsMask ? broadcastApply(a.data, g, bc, *) : zipValues(g, a.data, *)
                b.accumulate(bc.reduce(gb, mask: bc.bIsMask))
            }
        }
    }
}
