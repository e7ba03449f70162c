/// Convolutions: im2col + GEMM (oneDNN's `dnnl_sgemm`), forward and backward side by side.
/// Columns (and conv2d's transformed input) are recomputed in the backward pass instead of
/// kept, which bounds memory to one image's columns per op at a time. conv2d's kernels
/// (and its three paths) are in ConvolutionKernels.swift; this file has the ops.

/// Checks that `t` has four dimensions; names the op and the argument.
func require4D(_ t: Tensor, _ op: String, _ what: String) throws {
    guard t.shape.count == 4 else {
        throw TensorError.shapeMismatch(op: op, "\(what) must be 4-D [N, C, H, W], got \(t.shape)")
    }
}

/// 2-D cross-correlation as in PyTorch's `conv2d`: x [N, C, H, W], weight [O, C, kh, kw],
/// bias [O] or nil, zero padding `padding` on every side. With `upsample` and `reflect`,
/// the op first upsamples x by 2 (nearest) and reflection-pads it by `reflect`, the same
/// as `conv2d(x.upsampleNearest2x().reflectionPad2d(reflect), ...)` without storing the
/// transformed input.
public func conv2d(_ x: Tensor, weight w: Tensor, bias b: Tensor?, stride: Int = 1, padding: Int = 0,
                   reflect: Int = 0, upsample: Bool = false) throws -> Tensor {
    try conv2d(x, weight: w, bias: b, stride: stride, padding: padding, reflect: reflect, upsample: upsample, tuning: .standard)
}

/// conv2d with explicit path thresholds (tests compare the paths through this).
func conv2d(_ x: Tensor, weight w: Tensor, bias b: Tensor?, stride: Int, padding: Int,
            reflect: Int, upsample: Bool, tuning: Conv2dTuning) throws -> Tensor {
    let op = "conv2d"
    try require4D(x, op, "input")
    guard w.shape.count == 4 else { throw TensorError.shapeMismatch(op: op, "weight must be 4-D [O, C, kh, kw], got \(w.shape)") }
    guard stride >= 1, padding >= 0 else { throw TensorError.invalid(op: op, "stride \(stride) must be >= 1 and padding \(padding) >= 0") }
    let (n, c) = (x.shape[0], x.shape[1])
    let t = InputTransform(channels: c, height: x.shape[2], width: x.shape[3], upsample: upsample, reflect: reflect)
    guard reflect >= 0, reflect < t.upH, reflect < t.upW else {
        throw TensorError.invalid(op: op, "reflection padding \(reflect) must be >= 0 and below the height and width of \(x.shape)\(upsample ? " upsampled" : "")")
    }
    let (h, wd) = (t.outH, t.outW)
    let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
    guard w.shape[1] == c else {
        throw TensorError.shapeMismatch(op: op, "input \(x.shape) has \(c) channels, weight \(w.shape) expects \(w.shape[1])")
    }
    if let b, b.shape != [o] { throw TensorError.shapeMismatch(op: op, "bias \(b.shape) must be [\(o)] for weight \(w.shape)") }
    let oh = (h + 2 * padding - kh) / stride + 1, ow = (wd + 2 * padding - kw) / stride + 1
    guard h + 2 * padding >= kh, wd + 2 * padding >= kw else {
        throw TensorError.shapeMismatch(op: op, "input \(x.shape) with padding \(padding) is smaller than kernel \(kh)x\(kw)")
    }
    if upsample && reflect == 1 && kh == 3 && kw == 3 && stride == 1 && padding == 0 {
        return upsampledConv3x3(x, weight: w, bias: b)
    }
    let window = Window(channels: c, height: h, width: wd, kh: kh, kw: kw, stride: stride, pad: padding, outH: oh, outW: ow)
    let k = Conv2dKernel(transform: t, window: window, outputs: o, path: Conv2dPath(window: window, outputs: o, tuning: tuning),
                         tuning: tuning)
    var out = uninitializedFloats(n * k.outCount)             // every image written by the kernel
    var work = uninitializedFloats(k.forwardWorkFloats)
    k.forward(images: n, input: x.data, weight: w.data, output: &out, work: &work)
    if let b { addBias(&out, b.data, n: n, c: o, plane: oh * ow) }
    let flops = 2 * Double(n * o * window.rows * window.cols)
    ConvolutionCount.add(flops)
    if k.path != .pointwise && k.path != .direct { ConvolutionCount.saw(window, outputs: o) }
    return Tensor(op: op, shape: [n, o, oh, ow], data: out, parents: b.map { [x, w, $0] } ?? [x, w], reads: [x, w]) { gy in
        if let b, b.requiresGrad { b.accumulate(biasGrad(gy, n: n, c: o, plane: oh * ow)) }
        guard x.requiresGrad || w.requiresGrad else { return }
        ConvolutionCount.addBackward(flops, x, w)
        var dx = [Float](repeating: 0, count: x.requiresGrad ? x.count : 0)  // the kernel adds into it
        var dw = uninitializedFloats(w.requiresGrad ? w.count : 0)          // written by the first image
        var work = uninitializedFloats(k.backwardWorkFloats(inputGrad: x.requiresGrad))
        dx.withUnsafeMutableBufferPointer { dxp in
            dw.withUnsafeMutableBufferPointer { dwp in
                k.backward(images: n, gradOutput: gy, input: x.data, weight: w.data,
                           inputGrad: x.requiresGrad ? dxp.baseAddress : nil, weightGrad: w.requiresGrad ? dwp.baseAddress : nil,
                           work: &work)
            }
        }
        if x.requiresGrad { x.accumulate(dx) }
        if w.requiresGrad { w.accumulate(dw) }
    }
}

/// conv2d of x upsampled by 2 (nearest) and reflection-padded by 1, 3x3 kernel, stride 1
/// (the attention network's decoder), at the input's resolution. Each output pixel of
/// parity (py, px) sees 2x2 distinct input pixels (the padded border repeats the edge), so
/// the 3x3 kernel folds into four 2x2 kernels, one per parity, over x edge-padded by 1:
/// one GEMM of the four stacked kernels [4O, C*4] with the 2x2 columns of x gives every
/// parity, and the output interleaves them. 2.25x fewer multiply-adds than the 3x3 on
/// the upsampled image, and columns a ninth of the size.
func upsampledConv3x3(_ x: Tensor, weight w: Tensor, bias b: Tensor?) -> Tensor {
    let (n, c, h, wd, o) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], w.shape[0])
    // Window positions (r, s), r in 0...h, s in 0...wd, over x padded to (h + 2) x (wd + 2).
    let g = Window(channels: c, height: h + 2, width: wd + 2, kh: 2, kw: 2, stride: 1, pad: 0, outH: h + 1, outW: wd + 1)
    let (inCount, outPlane) = (c * h * wd, 4 * h * wd)
    /// Calls body(stacked index, weight index) for every 3x3 tap that a 2x2 tap sums; the
    /// stacked kernels are [(py * 2 + px) * O + o][(c * 2 + a) * 2 + b].
    func forEachTap(_ body: (Int, Int) -> Void) {
        // taps[p][a]: the rows (or columns) of the 3x3 kernel that tap a of parity p sums.
        let taps = [[[0], [1, 2]], [[0, 1], [2]]]
        for py in 0..<2 { for px in 0..<2 { for oc in 0..<o { for ic in 0..<c { for a in 0..<2 { for bb in 0..<2 {
            let si = ((py * 2 + px) * o + oc) * g.rows + (ic * 2 + a) * 2 + bb
            for ky in taps[py][a] { for kx in taps[px][bb] { body(si, ((oc * c + ic) * 3 + ky) * 3 + kx) } }
        }}}}}}
    }
    let stacked = {
        var k = [Float](repeating: 0, count: 4 * o * g.rows)
        let weights = w.data
        forEachTap { si, wi in k[si] += weights[wi] }
        return k
    }()
    /// Calls body(z position, output offset) for every output pixel of parity p of channel oc.
    func parity(_ p: Int, _ oc: Int, _ body: (Int, Int) -> Void) {
        let (py, px) = (p / 2, p % 2)
        for i in 0..<h { for j in 0..<wd { body((i + py) * g.outW + j + px, oc * outPlane + (2 * i + py) * 2 * wd + 2 * j + px) } }
    }
    var out = uninitializedFloats(n * o * outPlane)  // every pixel written by the interleave
    var padded = uninitializedFloats(c * g.height * g.width), col = uninitializedFloats(g.rows * g.cols)
    var z = uninitializedFloats(4 * o * g.cols)
    x.data.withUnsafeBufferPointer { xp in
    out.withUnsafeMutableBufferPointer { yp in
    padded.withUnsafeMutableBufferPointer { pp in
    col.withUnsafeMutableBufferPointer { cp in
    z.withUnsafeMutableBufferPointer { zp in
    stacked.withUnsafeBufferPointer { sp in
        for i in 0..<n {
            reflectPad(xp.baseAddress! + i * inCount, pp.baseAddress!, planes: c, h: h, w: wd, p: 1, replicate: true)
            im2col(pp.baseAddress!, g, cp.baseAddress!)
            sgemm(transA: false, transB: false, m: 4 * o, n: g.cols, k: g.rows, a: sp.baseAddress!, b: cp.baseAddress!, beta: 0, c: zp.baseAddress!)
            let yi = yp.baseAddress! + i * o * outPlane
            Compute.parallelFor(4 * o, minimumChunk: max(1, parallelGrain / outPlane)) { rows in
                for row in rows {
                    let zr = zp.baseAddress! + row * g.cols
                    parity(row / o, row % o) { zi, yo in yi[yo] = zr[zi] }
                }
            }
        }
    }}}}}}
    if let b { addBias(&out, b.data, n: n, c: o, plane: outPlane) }
    let flops = 2 * Double(n * o * c * 9 * outPlane)  // the 3x3 kernel on the upsampled image
    ConvolutionCount.add(flops)
    let parents = b.map { [x, w, $0] } ?? [x, w]
    // The backward reads the folded kernel computed here, not w's values.
    return Tensor(op: "conv2d", shape: [n, o, 2 * h, 2 * wd], data: out, parents: parents, reads: [x]) { gy in
        if let b, b.requiresGrad { b.accumulate(biasGrad(gy, n: n, c: o, plane: outPlane)) }
        guard x.requiresGrad || w.requiresGrad else { return }
        ConvolutionCount.addBackward(flops, x, w)
        var dx = [Float](repeating: 0, count: x.requiresGrad ? x.count : 0)
        var dStacked = [Float](repeating: 0, count: w.requiresGrad ? stacked.count : 0)
        var dz = [Float](repeating: 0, count: 4 * o * g.cols)  // positions no parity uses stay 0
        var dPadded = uninitializedFloats(x.requiresGrad ? c * g.height * g.width : 0)
        var padded = uninitializedFloats(w.requiresGrad ? c * g.height * g.width : 0), col = uninitializedFloats(g.rows * g.cols)
        gy.withUnsafeBufferPointer { gp in
        x.data.withUnsafeBufferPointer { xp in
        dx.withUnsafeMutableBufferPointer { dxp in
        dStacked.withUnsafeMutableBufferPointer { dsp in
        dz.withUnsafeMutableBufferPointer { dzp in
        dPadded.withUnsafeMutableBufferPointer { dpp in
        padded.withUnsafeMutableBufferPointer { pp in
        col.withUnsafeMutableBufferPointer { cp in
        stacked.withUnsafeBufferPointer { sp in
            for i in 0..<n {
                let gi = gp.baseAddress! + i * o * outPlane
                Compute.parallelFor(4 * o, minimumChunk: max(1, parallelGrain / outPlane)) { rows in
                    for row in rows {
                        let dr = dzp.baseAddress! + row * g.cols
                        parity(row / o, row % o) { zi, yo in dr[zi] = gi[yo] }
                    }
                }
                if w.requiresGrad {
                    // dStacked[4O, C*4] += dZ[4O, L] * col[C*4, L]^T
                    reflectPad(xp.baseAddress! + i * inCount, pp.baseAddress!, planes: c, h: h, w: wd, p: 1, replicate: true)
                    im2col(pp.baseAddress!, g, cp.baseAddress!)
                    sgemm(transA: false, transB: true, m: 4 * o, n: g.rows, k: g.cols, a: dzp.baseAddress!, b: cp.baseAddress!,
                          beta: 1, c: dsp.baseAddress!)
                }
                if x.requiresGrad {
                    // dcol[C*4, L] = stacked^T * dZ, folded into the padded image, then into x.
                    sgemm(transA: true, transB: false, m: g.rows, n: g.cols, k: 4 * o, a: sp.baseAddress!, b: dzp.baseAddress!,
                          beta: 0, c: cp.baseAddress!)
                    dpp.baseAddress!.update(repeating: 0, count: dpp.count)
                    col2im(cp.baseAddress!, g, dpp.baseAddress!)
                    reflectPadAdjoint(dpp.baseAddress!, dxp.baseAddress! + i * inCount, planes: c, h: h, w: wd, p: 1, replicate: true)
                }
            }
        }}}}}}}}}
        if x.requiresGrad { x.accumulate(dx) }
        if w.requiresGrad {
            // The adjoint of the folding: each 3x3 tap collects the 2x2 taps that summed it.
            var dw = [Float](repeating: 0, count: w.count)
            forEachTap { si, wi in dw[wi] += dStacked[si] }
            w.accumulate(dw)
        }
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
    let flops = 2 * Double(n * cin * g.rows * g.cols)
    ConvolutionCount.add(flops)
    let parents = b.map { [x, w, $0] } ?? [x, w]
    return Tensor(op: op, shape: [n, cout, oh, ow], data: out, parents: parents, reads: [x, w]) { gy in
        if let b, b.requiresGrad { b.accumulate(biasGrad(gy, n: n, c: cout, plane: oh * ow)) }
        guard x.requiresGrad || w.requiresGrad else { return }
        ConvolutionCount.addBackward(flops, x, w)
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

/// Sum of the gradient over batch and plane, per channel (channels spread over the
/// threads; each channel's sum is the same whatever the split).
func biasGrad(_ g: [Float], n: Int, c: Int, plane: Int) -> [Float] {
    var db = [Float](repeating: 0, count: c)
    g.withUnsafeBufferPointer { gp in
        db.withUnsafeMutableBufferPointer { dp in
            Compute.parallelFor(c, minimumChunk: max(1, parallelGrain / max(1, n * plane))) { channels in
                for ch in channels {
                    var s: Float = 0
                    for i in 0..<n {
                        let p = gp.baseAddress! + (i * c + ch) * plane
                        s += Float(laneSums(plane, { load8(p, $0) }, { p[$0] }).0)
                    }
                    dp[ch] = s
                }
            }
        }
    }
    return db
}
