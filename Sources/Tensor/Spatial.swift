/// Ops that move pixels or normalise planes: reflection padding, nearest upsampling,
/// instance normalisation. Forward and backward side by side.

extension Tensor {
    /// Reflection padding by `p` on every side (PyTorch's `ReflectionPad2d`): the border
    /// pixel is not repeated. Needs p < H and p < W.
    public func reflectionPad2d(_ p: Int) throws -> Tensor {
        let op = "reflectionPad2d"
        try require4D(self, op, "input")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        guard p >= 0, p < h, p < w else {
            throw TensorError.invalid(op: op, "padding \(p) must be >= 0 and below the height and width of \(shape)")
        }
        if p == 0 { return self }
        let oh = h + 2 * p, ow = w + 2 * p
        var out = uninitializedFloats(n * c * oh * ow)  // every row written by the kernel
        data.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { reflectPad(xp.baseAddress!, $0.baseAddress!, planes: n * c, h: h, w: w, p: p) }
        }
        let x = self
        return Tensor(op: op, shape: [n, c, oh, ow], data: out, parents: [x], reads: []) { g in
            var dx = [Float](repeating: 0, count: x.count)
            g.withUnsafeBufferPointer { gp in
                dx.withUnsafeMutableBufferPointer { reflectPadAdjoint(gp.baseAddress!, $0.baseAddress!, planes: n * c, h: h, w: w, p: p) }
            }
            x.accumulate(dx)
        }
    }

    /// Nearest-neighbour upsampling by 2 in height and width.
    public func upsampleNearest2x() throws -> Tensor {
        let op = "upsampleNearest2x"
        try require4D(self, op, "input")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        var out = uninitializedFloats(n * c * 4 * h * w)  // every pixel written by the kernel
        data.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { upsample2x(xp.baseAddress!, $0.baseAddress!, planes: n * c, h: h, w: w) }
        }
        let x = self
        return Tensor(op: op, shape: [n, c, 2 * h, 2 * w], data: out, parents: [x], reads: []) { g in
            var dx = [Float](repeating: 0, count: x.count)
            g.withUnsafeBufferPointer { gp in
                dx.withUnsafeMutableBufferPointer { upsample2xAdjoint(gp.baseAddress!, $0.baseAddress!, planes: n * c, h: h, w: w) }
            }
            x.accumulate(dx)
        }
    }

    /// Instance normalisation: per sample and channel over H x W, biased variance, then
    /// `weight[c] * xhat + bias[c]` (weight and bias [C]); then, fused into the same op,
    /// `+ residual` (same shape as the input) and `activation`. The fused form keeps one
    /// activation for the backward pass where the chain IN -> add -> ReLU keeps three.
    public func instanceNorm(weight: Tensor, bias: Tensor, eps: Float = 1e-5,
                             residual: Tensor? = nil, activation: NormActivation = .none) throws -> Tensor {
        let op = "instanceNorm"
        try require4D(self, op, "input")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        guard weight.shape == [c], bias.shape == [c] else {
            throw TensorError.shapeMismatch(op: op, "input \(shape) needs weight and bias [\(c)], got \(weight.shape) and \(bias.shape)")
        }
        if let residual, residual.shape != shape {
            throw TensorError.shapeMismatch(op: op, "residual \(residual.shape) must have the input's shape \(shape)")
        }
        let plane = h * w
        // Only the per-plane mean and 1/std are kept for the backward pass: xhat is
        // recomputed from the input there, and the activation's derivative is read off the
        // output, so no intermediate activation is stored.
        var means = [Float](repeating: 0, count: n * c), invStd = [Float](repeating: 0, count: n * c)
        var out = uninitializedFloats(count)  // every plane written below
        let empty: [Float] = [], hasResidual = residual != nil
        data.withUnsafeBufferPointer { xp in
        (residual?.data ?? empty).withUnsafeBufferPointer { rp in
        out.withUnsafeMutableBufferPointer { yp in
        means.withUnsafeMutableBufferPointer { mp in
        invStd.withUnsafeMutableBufferPointer { ip in
            // Planes are spread over the OpenMP threads; each writes its own plane and stats.
            Compute.parallelFor(n * c, minimumChunk: max(1, parallelGrain / plane)) { planes in
                for i in planes {
                    let src = xp.baseAddress! + i * plane
                    let (mean, variance) = meanAndVariance(src, plane)
                    let inv = Float(1 / (variance + Double(eps)).squareRoot())
                    let m = Float(mean), gamma = weight.data[i % c], beta = bias.data[i % c]
                    mp[i] = m; ip[i] = inv
                    let y = yp.baseAddress! + i * plane
                    for j in 0..<plane { y[j] = (src[j] - m) * inv * gamma + beta }
                    if hasResidual { let r = rp.baseAddress! + i * plane; for j in 0..<plane { y[j] += r[j] } }
                    activation.apply(y, plane)
                }
            }
        }}}}}
        let x = self, y = out
        let parents = [x, weight, bias] + (residual.map { [$0] } ?? [])
        return Tensor(op: op, shape: shape, data: out, parents: parents, reads: [x, weight]) { gy in
            let g = activation.backward(gy, output: y)
            residual?.accumulate(g)
            var dx = uninitializedFloats(x.requiresGrad ? x.count : 0)  // every plane written below
            var sumsG = [Float](repeating: 0, count: n * c), sumsGH = [Float](repeating: 0, count: n * c)
            g.withUnsafeBufferPointer { gp in
            x.data.withUnsafeBufferPointer { xp in
            dx.withUnsafeMutableBufferPointer { dp in
            sumsG.withUnsafeMutableBufferPointer { sgp in
            sumsGH.withUnsafeMutableBufferPointer { sghp in
                Compute.parallelFor(n * c, minimumChunk: max(1, parallelGrain / plane)) { planes in
                    for i in planes {
                        let gy = gp.baseAddress! + i * plane, src = xp.baseAddress! + i * plane
                        let m = means[i], inv = invStd[i]
                        let m8 = SIMD8<Float>(repeating: m), inv8 = SIMD8<Float>(repeating: inv)
                        let (sumG, sumGH) = laneSums(plane, { j in
                            let g8 = load8(gy, j)
                            return (g8, g8 * ((load8(src, j) - m8) * inv8))
                        }, { j in (gy[j], gy[j] * ((src[j] - m) * inv)) })
                        sgp[i] = Float(sumG); sghp[i] = Float(sumGH)
                        guard x.requiresGrad else { continue }
                        // dx = gamma * invstd * (g - mean(g) - xhat * mean(g * xhat))
                        let k = weight.data[i % c] * inv
                        let mg = Float(sumG) / Float(plane), mgh = Float(sumGH) / Float(plane)
                        let d = dp.baseAddress! + i * plane
                        for j in 0..<plane { d[j] = k * (gy[j] - mg - ((src[j] - m) * inv) * mgh) }
                    }
                }
            }}}}}
            var dgamma = [Float](repeating: 0, count: c), dbeta = [Float](repeating: 0, count: c)
            for i in 0..<(n * c) { dgamma[i % c] += sumsGH[i]; dbeta[i % c] += sumsG[i] }
            if x.requiresGrad { x.accumulate(dx) }
            weight.accumulate(dgamma)
            bias.accumulate(dbeta)
        }
    }
}

/// The activation `instanceNorm` can apply in the same op: one whose derivative follows
/// from its output alone.
public enum NormActivation: Sendable, Equatable {
    case none, relu
    /// x for x > 0, slope * x otherwise (slope > 0).
    case leakyRelu(Float)

    /// Applies the activation in place to `count` values.
    func apply(_ v: UnsafeMutablePointer<Float>, _ count: Int) {
        switch self {
        case .none: return
        case .relu: for j in 0..<count { v[j] = max(v[j], 0) }
        case .leakyRelu(let slope): for j in 0..<count { v[j] = v[j] > 0 ? v[j] : v[j] * slope }
        }
    }

    /// The gradient of the pre-activation: g * f'(x), with f'(x) read off y = f(x)
    /// (y > 0 exactly when x > 0; the gradient at 0 is 0's side, as in PyTorch).
    func backward(_ g: [Float], output y: [Float]) -> [Float] {
        switch self {
        case .none: return g
        case .relu: return zipValues(g, y) { $1 > 0 ? $0 : 0 }
        case .leakyRelu(let slope): return zipValues(g, y) { $1 > 0 ? $0 : $0 * slope }
        }
    }
}

/// Mean and biased variance of `count` values, two passes (`laneSums`).
func meanAndVariance(_ p: UnsafePointer<Float>, _ count: Int) -> (Double, Double) {
    let mean = laneSums(count, { load8(p, $0) }, { p[$0] }).0 / Double(count)
    let m = Float(mean), m8 = SIMD8<Float>(repeating: m)
    let v = laneSums(count, { let d = load8(p, $0) - m8; return d * d }, { let d = p[$0] - m; return d * d }).0
    return (mean, v / Double(count))
}

/// Eight floats from `p + i`, any alignment.
@inline(__always)
func load8(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
}

/// Two sums over 0..<count at once, eight lanes at a time: `f8(i)` gives the terms of
/// i..<i+8 of both sums, `f1(i)` those of i alone (the tail). Each lane sums in float over
/// blocks of 1024 values; blocks are added in double. Eight independent lanes are what
/// makes it fast (a single float sum waits on every add) and keep float sums short.
@inline(__always)
func laneSums(_ count: Int, _ f8: (Int) -> (SIMD8<Float>, SIMD8<Float>), _ f1: (Int) -> (Float, Float)) -> (Double, Double) {
    var total = (0.0, 0.0)
    var i = 0
    while i < count {
        let end = min(i + 1024, count)
        var a = SIMD8<Float>(repeating: 0), b = SIMD8<Float>(repeating: 0)
        while i + 8 <= end { let (x, y) = f8(i); a += x; b += y; i += 8 }
        var (sa, sb) = (a.sum(), b.sum())
        while i < end { let (x, y) = f1(i); sa += x; sb += y; i += 1 }
        total.0 += Double(sa); total.1 += Double(sb)
    }
    return total
}

/// One sum by `laneSums` (the second sum left at zero).
@inline(__always)
func laneSums(_ count: Int, _ f8: (Int) -> SIMD8<Float>, _ f1: (Int) -> Float) -> (Double, Double) {
    laneSums(count, { (f8($0), SIMD8<Float>(repeating: 0)) }, { (f1($0), 0) })
}

/// Sum of f(0..<count): float sums over blocks of 1024, added in double. One accumulator,
/// so the adds wait on each other; `laneSums` is the fast form for contiguous floats.
@inline(__always)
func blockedSum(_ count: Int, _ f: (Int) -> Float) -> Double {
    var total = 0.0
    var i = 0
    while i < count {
        let end = min(i + 1024, count)
        var block: Float = 0
        for j in i..<end { block += f(j) }
        total += Double(block)
        i = end
    }
    return total
}

// MARK: - Kernels over contiguous planes (shared by the ops above and by conv2d's input transform)

@inline(__always)
func reflectIndex(_ i: Int, _ size: Int) -> Int {
    i < 0 ? -i : (i >= size ? 2 * (size - 1) - i : i)
}

/// The source index of padded position i: its reflection, or with `replicate` the
/// nearest edge pixel.
@inline(__always)
func padIndex(_ i: Int, _ size: Int, replicate: Bool) -> Int {
    replicate ? min(max(i, 0), size - 1) : reflectIndex(i, size)
}

/// The walk `reflectPad` and its adjoint share: for every plane and padded row, the
/// offset of the source row in the unpadded planes and of the padded row, with the source
/// column of every padded column.
@inline(__always)
func forEachPaddedRow(planes: Int, h: Int, w: Int, p: Int, replicate: Bool,
                      _ body: (_ source: Int, _ padded: Int, _ srcX: [Int]) -> Void) {
    let oh = h + 2 * p, ow = w + 2 * p
    let srcX = (0..<ow).map { padIndex($0 - p, w, replicate: replicate) }
    for plane in 0..<planes {
        for y in 0..<oh { body(plane * h * w + padIndex(y - p, h, replicate: replicate) * w, (plane * oh + y) * ow, srcX) }
    }
}

/// Reflection-pads (or, with `replicate`, edge-pads) `planes` planes of h x w by p into
/// planes of (h + 2p) x (w + 2p).
func reflectPad(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, planes: Int, h: Int, w: Int, p: Int,
                replicate: Bool = false) {
    let ow = w + 2 * p
    forEachPaddedRow(planes: planes, h: h, w: w, p: p, replicate: replicate) { source, padded, srcX in
        let line = src + source, o = dst + padded
        for x in 0..<p { o[x] = line[srcX[x]] }
        (o + p).update(from: line, count: w)
        for x in (p + w)..<ow { o[x] = line[srcX[x]] }
    }
}

/// Copies `planes` planes of h x w into the interior of planes of (h + 2 py) x (w + 2 px),
/// leaving their border (the caller's zeros) as it is: the zero-padded output gradient
/// that a stride-1 convolution's input gradient convolves with the flipped kernel.
func copyIntoInterior(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, planes: Int, h: Int, w: Int,
                      py: Int, px: Int) {
    let (ph, pw) = (h + 2 * py, w + 2 * px)
    for plane in 0..<planes {
        for y in 0..<h { (dst + (plane * ph + y + py) * pw + px).update(from: src + (plane * h + y) * w, count: w) }
    }
}

/// The adjoint of `reflectPad`: adds the gradient of the padded planes into `dst` (h x w).
func reflectPadAdjoint(_ g: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, planes: Int, h: Int, w: Int, p: Int,
                       replicate: Bool = false) {
    let ow = w + 2 * p
    forEachPaddedRow(planes: planes, h: h, w: w, p: p, replicate: replicate) { source, padded, srcX in
        let line = dst + source, gl = g + padded
        for x in 0..<ow { line[srcX[x]] += gl[x] }
    }
}

/// Nearest-neighbour upsampling by 2 of `planes` planes of h x w.
func upsample2x(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, planes: Int, h: Int, w: Int) {
    let ow = 2 * w
    for plane in 0..<planes {
        let s = src + plane * h * w, d = dst + plane * 4 * h * w
        for y in 0..<h {
            let line = s + y * w, o = d + 2 * y * ow
            for x in 0..<w { o[2 * x] = line[x]; o[2 * x + 1] = line[x] }
            (o + ow).update(from: o, count: ow)
        }
    }
}

/// The adjoint of `upsample2x`: adds each 2x2 block of the gradient into `dst` (h x w).
func upsample2xAdjoint(_ g: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, planes: Int, h: Int, w: Int) {
    let ow = 2 * w
    for plane in 0..<planes {
        let gs = g + plane * 4 * h * w, d = dst + plane * h * w
        for y in 0..<h {
            let a = gs + 2 * y * ow, b = a + ow, o = d + y * w
            for x in 0..<w { o[x] += a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1] }
        }
    }
}
