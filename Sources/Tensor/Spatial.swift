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
        @inline(__always) func reflect(_ i: Int, _ size: Int) -> Int {
            i < 0 ? -i : (i >= size ? 2 * (size - 1) - i : i)
        }
        // Source index of every output column and row (shared by all planes).
        let srcX = (0..<ow).map { reflect($0 - p, w) }
        let srcY = (0..<oh).map { reflect($0 - p, h) }
        var out = uninitializedFloats(n * c * oh * ow)  // every row written below
        data.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { yp in
                for plane in 0..<(n * c) {
                    let src = xp.baseAddress! + plane * h * w, dst = yp.baseAddress! + plane * oh * ow
                    for y in 0..<oh {
                        let line = src + srcY[y] * w, o = dst + y * ow
                        for x in 0..<p { o[x] = line[srcX[x]] }
                        (o + p).update(from: line, count: w)
                        for x in (p + w)..<ow { o[x] = line[srcX[x]] }
                    }
                }
            }
        }
        let x = self
        return Tensor(op: op, shape: [n, c, oh, ow], data: out, parents: [x]) { g in
            var dx = [Float](repeating: 0, count: x.count)
            g.withUnsafeBufferPointer { gp in
                dx.withUnsafeMutableBufferPointer { dp in
                    for plane in 0..<(n * c) {
                        let src = gp.baseAddress! + plane * oh * ow, dst = dp.baseAddress! + plane * h * w
                        for y in 0..<oh {
                            let line = dst + srcY[y] * w, gl = src + y * ow
                            for xx in 0..<ow { line[srcX[xx]] += gl[xx] }
                        }
                    }
                }
            }
            x.accumulate(dx)
        }
    }

    /// Nearest-neighbour upsampling by 2 in height and width.
    public func upsampleNearest2x() throws -> Tensor {
        let op = "upsampleNearest2x"
        try require4D(self, op, "input")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let oh = 2 * h, ow = 2 * w
        var out = uninitializedFloats(n * c * oh * ow)  // both rows of each pair written below
        data.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { yp in
                for plane in 0..<(n * c) {
                    let src = xp.baseAddress! + plane * h * w, dst = yp.baseAddress! + plane * oh * ow
                    for y in 0..<h {
                        let line = src + y * w, o = dst + 2 * y * ow
                        for x in 0..<w { o[2 * x] = line[x]; o[2 * x + 1] = line[x] }
                        (o + ow).update(from: o, count: ow)
                    }
                }
            }
        }
        let x = self
        return Tensor(op: op, shape: [n, c, oh, ow], data: out, parents: [x]) { g in
            var dx = [Float](repeating: 0, count: x.count)
            g.withUnsafeBufferPointer { gp in
                dx.withUnsafeMutableBufferPointer { dp in
                    for plane in 0..<(n * c) {
                        let src = gp.baseAddress! + plane * oh * ow, dst = dp.baseAddress! + plane * h * w
                        for y in 0..<h {
                            let a = src + 2 * y * ow, b = a + ow, o = dst + y * w
                            for x in 0..<w { o[x] = a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1] }
                        }
                    }
                }
            }
            x.accumulate(dx)
        }
    }

    /// Instance normalisation: per sample and channel over H x W, biased variance, then
    /// `weight[c] * xhat + bias[c]` (weight and bias [C]).
    public func instanceNorm(weight: Tensor, bias: Tensor, eps: Float = 1e-5) throws -> Tensor {
        let op = "instanceNorm"
        try require4D(self, op, "input")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        guard weight.shape == [c], bias.shape == [c] else {
            throw TensorError.shapeMismatch(op: op, "input \(shape) needs weight and bias [\(c)], got \(weight.shape) and \(bias.shape)")
        }
        let plane = h * w
        // Only the per-plane mean and 1/std are kept for the backward pass; xhat is
        // recomputed from the input there, which saves a full copy of the activation.
        var means = [Float](repeating: 0, count: n * c), invStd = [Float](repeating: 0, count: n * c)
        var out = uninitializedFloats(count)  // every plane written below
        data.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { yp in
                for i in 0..<(n * c) {
                    let src = xp.baseAddress! + i * plane
                    let (mean, variance) = meanAndVariance(src, plane)
                    let inv = Float(1 / (variance + Double(eps)).squareRoot())
                    let m = Float(mean), gamma = weight.data[i % c], beta = bias.data[i % c]
                    means[i] = m; invStd[i] = inv
                    let y = yp.baseAddress! + i * plane
                    for j in 0..<plane { y[j] = (src[j] - m) * inv * gamma + beta }
                }
            }
        }
        let x = self
        return Tensor(op: op, shape: shape, data: out, parents: [x, weight, bias]) { g in
            var dx = uninitializedFloats(x.requiresGrad ? x.count : 0)  // every plane written below
            var dgamma = [Float](repeating: 0, count: c), dbeta = [Float](repeating: 0, count: c)
            g.withUnsafeBufferPointer { gp in
                x.data.withUnsafeBufferPointer { xp in
                    dx.withUnsafeMutableBufferPointer { dp in
                        for i in 0..<(n * c) {
                            let gy = gp.baseAddress! + i * plane, src = xp.baseAddress! + i * plane
                            let m = means[i], inv = invStd[i]
                            var sumG: Float = 0, sumGH: Float = 0
                            for j in 0..<plane { sumG += gy[j]; sumGH += gy[j] * ((src[j] - m) * inv) }
                            dgamma[i % c] += sumGH
                            dbeta[i % c] += sumG
                            guard x.requiresGrad else { continue }
                            // dx = gamma * invstd * (g - mean(g) - xhat * mean(g * xhat))
                            let k = weight.data[i % c] * inv
                            let mg = sumG / Float(plane), mgh = sumGH / Float(plane)
                            let d = dp.baseAddress! + i * plane
                            for j in 0..<plane { d[j] = k * (gy[j] - mg - ((src[j] - m) * inv) * mgh) }
                        }
                    }
                }
            }
            if x.requiresGrad { x.accumulate(dx) }
            weight.accumulate(dgamma)
            bias.accumulate(dbeta)
        }
    }
}

/// Mean and biased variance of `count` values, two passes; float sums over blocks of 1024
/// (vectorised), added up in double precision.
func meanAndVariance(_ p: UnsafePointer<Float>, _ count: Int) -> (Double, Double) {
    let mean = blockedSum(count) { p[$0] } / Double(count)
    let m = Float(mean)
    let v = blockedSum(count) { let d = p[$0] - m; return d * d }
    return (mean, v / Double(count))
}

/// Sum of f(0..<count): float sums over blocks of 1024 (vectorised), added in double.
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
