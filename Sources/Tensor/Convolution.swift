/// Convolutions: im2col + GEMM (oneDNN's `dnnl_sgemm`), forward and backward side by side.
/// Columns are recomputed in the backward pass instead of kept, which bounds memory to one
/// image's columns per op at a time.

/// Checks that `t` has four dimensions; names the op and the argument.
func require4D(_ t: Tensor, _ op: String, _ what: String) throws {
    guard t.shape.count == 4 else {
        throw TensorError.shapeMismatch(op: op, "\(what) must be 4-D [N, C, H, W], got \(t.shape)")
    }
}

/// 2-D cross-correlation as in PyTorch's `conv2d`: x [N, C, H, W], weight [O, C, kh, kw],
/// bias [O] or nil, zero padding `padding` on every side.
public func conv2d(_ x: Tensor, weight w: Tensor, bias b: Tensor?, stride: Int = 1, padding: Int = 0) throws -> Tensor {
    let op = "conv2d"
    try require4D(x, op, "input")
    guard w.shape.count == 4 else { throw TensorError.shapeMismatch(op: op, "weight must be 4-D [O, C, kh, kw], got \(w.shape)") }
    guard stride >= 1, padding >= 0 else { throw TensorError.invalid(op: op, "stride \(stride) must be >= 1 and padding \(padding) >= 0") }
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
    guard w.shape[1] == c else {
        throw TensorError.shapeMismatch(op: op, "input \(x.shape) has \(c) channels, weight \(w.shape) expects \(w.shape[1])")
    }
    if let b, b.shape != [o] { throw TensorError.shapeMismatch(op: op, "bias \(b.shape) must be [\(o)] for weight \(w.shape)") }
    let oh = (h + 2 * padding - kh) / stride + 1, ow = (wd + 2 * padding - kw) / stride + 1
    guard h + 2 * padding >= kh, wd + 2 * padding >= kw else {
        throw TensorError.shapeMismatch(op: op, "input \(x.shape) with padding \(padding) is smaller than kernel \(kh)x\(kw)")
    }
    let g = Window(channels: c, height: h, width: wd, kh: kh, kw: kw, stride: stride, pad: padding, outH: oh, outW: ow)
    let direct = kh == 1 && kw == 1 && stride == 1 && padding == 0
    var out = uninitializedFloats(n * o * g.cols)          // every row written by sgemm (beta 0)
    var col = uninitializedFloats(direct ? 0 : g.rows * g.cols)  // written by im2col
    x.data.withUnsafeBufferPointer { xp in
        w.data.withUnsafeBufferPointer { wp in
            out.withUnsafeMutableBufferPointer { yp in
                col.withUnsafeMutableBufferPointer { cp in
                    for i in 0..<n {
                        let xi = xp.baseAddress! + i * c * h * wd
                        let src: UnsafePointer<Float>
                        if direct { src = xi } else { im2col(xi, g, cp.baseAddress!); src = UnsafePointer(cp.baseAddress!) }
                        sgemm(transA: false, transB: false, m: o, n: g.cols, k: g.rows, a: wp.baseAddress!, b: src,
                              beta: 0, c: yp.baseAddress! + i * o * g.cols)
                    }
                }
            }
        }
    }
    if let b { addBias(&out, b.data, n: n, c: o, plane: g.cols) }
    let parents = b.map { [x, w, $0] } ?? [x, w]
    return Tensor(op: op, shape: [n, o, oh, ow], data: out, parents: parents) { gy in
        if let b, b.requiresGrad { b.accumulate(biasGrad(gy, n: n, c: o, plane: g.cols)) }
        guard x.requiresGrad || w.requiresGrad else { return }
        var dx = [Float](repeating: 0, count: x.requiresGrad ? x.count : 0)
        var dw = uninitializedFloats(w.requiresGrad ? w.count : 0)  // sgemm with beta 0 for the first sample
        var col = uninitializedFloats(direct ? 0 : g.rows * g.cols)
        var dcol = uninitializedFloats(x.requiresGrad && !direct ? g.rows * g.cols : 0)
        x.data.withUnsafeBufferPointer { xp in
        w.data.withUnsafeBufferPointer { wp in
        gy.withUnsafeBufferPointer { gp in
        col.withUnsafeMutableBufferPointer { cp in
        dcol.withUnsafeMutableBufferPointer { dcp in
        dx.withUnsafeMutableBufferPointer { dxp in
        dw.withUnsafeMutableBufferPointer { dwp in
            for i in 0..<n {
                let gi = gp.baseAddress! + i * o * g.cols
                if w.requiresGrad {
                    let xi = xp.baseAddress! + i * c * h * wd
                    let src: UnsafePointer<Float>
                    if direct { src = xi } else { im2col(xi, g, cp.baseAddress!); src = UnsafePointer(cp.baseAddress!) }
                    // dW[O, CKK] += dY[O, L] * col[CKK, L]^T
                    sgemm(transA: false, transB: true, m: o, n: g.rows, k: g.cols, a: gi, b: src,
                          beta: i == 0 ? 0 : 1, c: dwp.baseAddress!)
                }
                if x.requiresGrad {
                    let dxi = dxp.baseAddress! + i * c * h * wd
                    // dcol[CKK, L] = W[O, CKK]^T * dY[O, L], then fold back into the image.
                    let target = direct ? dxi : dcp.baseAddress!
                    sgemm(transA: true, transB: false, m: g.rows, n: g.cols, k: o, a: wp.baseAddress!, b: gi,
                          beta: 0, c: target)
                    if !direct { col2im(dcp.baseAddress!, g, dxi) }
                }
            }
        }}}}}}}
        if x.requiresGrad { x.accumulate(dx) }
        if w.requiresGrad { w.accumulate(dw) }
    }
}

/// Transposed 2-D convolution as in PyTorch's `conv_transpose2d`: x [N, Cin, H, W],
/// weight [Cin, Cout, kh, kw], bias [Cout] or nil. Output size
/// (H - 1) * stride - 2 * padding + kh + outputPadding (and the same for W).
public func convTranspose2d(_ x: Tensor, weight w: Tensor, bias b: Tensor?, stride: Int = 1, padding: Int = 0,
                            outputPadding: Int = 0) throws -> Tensor {
    let op = "convTranspose2d"
    try require4D(x, op, "input")
    guard w.shape.count == 4 else { throw TensorError.shapeMismatch(op: op, "weight must be 4-D [Cin, Cout, kh, kw], got \(w.shape)") }
    guard stride >= 1, padding >= 0, outputPadding >= 0, outputPadding < stride else {
        throw TensorError.invalid(op: op, "need stride >= 1, padding >= 0, 0 <= outputPadding < stride; got stride \(stride), padding \(padding), outputPadding \(outputPadding)")
    }
    let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (cout, kh, kw) = (w.shape[1], w.shape[2], w.shape[3])
    guard w.shape[0] == cin else {
        throw TensorError.shapeMismatch(op: op, "input \(x.shape) has \(cin) channels, weight \(w.shape) expects \(w.shape[0])")
    }
    if let b, b.shape != [cout] { throw TensorError.shapeMismatch(op: op, "bias \(b.shape) must be [\(cout)] for weight \(w.shape)") }
    let oh = (h - 1) * stride - 2 * padding + kh + outputPadding
    let ow = (wd - 1) * stride - 2 * padding + kw + outputPadding
    guard oh >= 1, ow >= 1 else { throw TensorError.shapeMismatch(op: op, "input \(x.shape) gives an empty output \(oh)x\(ow)") }
    // The output plays the image of a convolution whose window positions are the input pixels.
    let g = Window(channels: cout, height: oh, width: ow, kh: kh, kw: kw, stride: stride, pad: padding, outH: h, outW: wd)
    var out = [Float](repeating: 0, count: n * cout * oh * ow)  // col2im adds into it
    var col = uninitializedFloats(g.rows * g.cols)
    x.data.withUnsafeBufferPointer { xp in
        w.data.withUnsafeBufferPointer { wp in
            out.withUnsafeMutableBufferPointer { yp in
                col.withUnsafeMutableBufferPointer { cp in
                    for i in 0..<n {
                        // col[Cout*kk, HW] = W[Cin, Cout*kk]^T * x[Cin, HW]
                        sgemm(transA: true, transB: false, m: g.rows, n: g.cols, k: cin, a: wp.baseAddress!,
                              b: xp.baseAddress! + i * cin * h * wd, beta: 0, c: cp.baseAddress!)
                        col2im(cp.baseAddress!, g, yp.baseAddress! + i * cout * oh * ow)
                    }
                }
            }
        }
    }
    if let b { addBias(&out, b.data, n: n, c: cout, plane: oh * ow) }
    let parents = b.map { [x, w, $0] } ?? [x, w]
    return Tensor(op: op, shape: [n, cout, oh, ow], data: out, parents: parents) { gy in
        if let b, b.requiresGrad { b.accumulate(biasGrad(gy, n: n, c: cout, plane: oh * ow)) }
        guard x.requiresGrad || w.requiresGrad else { return }
        var dx = uninitializedFloats(x.requiresGrad ? x.count : 0)  // sgemm with beta 0
        var dw = uninitializedFloats(w.requiresGrad ? w.count : 0)
        var gcol = uninitializedFloats(g.rows * g.cols)
        x.data.withUnsafeBufferPointer { xp in
        w.data.withUnsafeBufferPointer { wp in
        gy.withUnsafeBufferPointer { gp in
        gcol.withUnsafeMutableBufferPointer { cp in
        dx.withUnsafeMutableBufferPointer { dxp in
        dw.withUnsafeMutableBufferPointer { dwp in
            for i in 0..<n {
                im2col(gp.baseAddress! + i * cout * oh * ow, g, cp.baseAddress!)
                if x.requiresGrad {
                    // dx[Cin, HW] = W[Cin, Cout*kk] * gcol[Cout*kk, HW]
                    sgemm(transA: false, transB: false, m: cin, n: g.cols, k: g.rows, a: wp.baseAddress!,
                          b: cp.baseAddress!, beta: 0, c: dxp.baseAddress! + i * cin * h * wd)
                }
                if w.requiresGrad {
                    // dW[Cin, Cout*kk] += x[Cin, HW] * gcol[Cout*kk, HW]^T
                    sgemm(transA: false, transB: true, m: cin, n: g.rows, k: g.cols, a: xp.baseAddress! + i * cin * h * wd,
                          b: cp.baseAddress!, beta: i == 0 ? 0 : 1, c: dwp.baseAddress!)
                }
            }
        }}}}}}
        if x.requiresGrad { x.accumulate(dx) }
        if w.requiresGrad { w.accumulate(dw) }
    }
}

/// y[n, c, :] += bias[c]
func addBias(_ y: inout [Float], _ bias: [Float], n: Int, c: Int, plane: Int) {
    y.withUnsafeMutableBufferPointer { yp in
        for i in 0..<n {
            for ch in 0..<c {
                let v = bias[ch]
                let p = yp.baseAddress! + (i * c + ch) * plane
                for j in 0..<plane { p[j] += v }
            }
        }
    }
}

/// Sum of the gradient over batch and plane, per channel.
func biasGrad(_ g: [Float], n: Int, c: Int, plane: Int) -> [Float] {
    var db = [Float](repeating: 0, count: c)
    g.withUnsafeBufferPointer { gp in
        for i in 0..<n {
            for ch in 0..<c {
                let p = gp.baseAddress! + (i * c + ch) * plane
                var s: Float = 0
                for j in 0..<plane { s += p[j] }
                db[ch] += s
            }
        }
    }
    return db
}
