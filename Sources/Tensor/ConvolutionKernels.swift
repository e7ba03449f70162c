/// conv2d's kernel layer: plain loops over raw pointers, no tensors and no autograd. The
/// op (`conv2d` in Convolution.swift) validates shapes, allocates, and calls these per
/// image. Four paths (see `Conv2dPath`); every path recomputes the transformed image and
/// its columns in the backward pass instead of keeping them.
import CKernels

/// How a conv2d layer computes.
enum Conv2dPath: Equatable {
    /// 1x1 kernel, stride 1, no zero padding: one GEMM per image on the image itself.
    case pointwise
    /// Few output channels, stride 1, no zero padding: the direct kernels of CKernels,
    /// no columns (the GEMM would be a few rows long over columns of many megabytes).
    case direct
    /// im2col one band of output rows at a time, then a GEMM per band.
    case columns
    /// oneDNN's convolution primitives (CKernels/onednn_conv.c) for the passes given, in
    /// the memory formats oneDNN picks for the CPU, reordered from and to the plain layout
    /// on every call; the other passes unfold columns as `columns` does.
    case primitive(OpaquePointer, Conv2dPasses)
    /// Winograd's minimal filtering for all three passes of a 3x3 layer of stride 1:
    /// oneDNN's F(4x4, 3x3) primitives where the CPU has them (AVX-512), called as
    /// `primitive`'s are; else (nil) F(2x2, 3x3) by CKernels' transforms and GEMMs
    /// (`WinogradTiles`).
    case winograd(OpaquePointer?)

    init(window g: Window, outputs: Int, tuning: Conv2dTuning) {
        if g.kh == 1 && g.kw == 1 && g.stride == 1 && g.pad == 0 {
            self = .pointwise
        } else if g.stride == 1 && g.pad == 0 && outputs <= tuning.directMaxOutputs {
            self = .direct
        } else if tuning.takesWinograd(g), !tuning.winogradTiles,
                  let p = aggan_conv_get(g.channels, g.height, g.width, outputs, g.kh, g.kw, g.stride, g.pad, 1, nil, 0) {
            self = .winograd(p)
        } else if tuning.takesWinogradTiles(g, outputs: outputs) {
            self = .winograd(nil)
        } else if let passes = tuning.primitivePasses(g, outputs: outputs), !passes.isEmpty,
                  let p = aggan_conv_get(g.channels, g.height, g.width, outputs, g.kh, g.kw, g.stride, g.pad, 0, nil, 0) {
            self = .primitive(p, passes)
        } else {
            self = .columns
        }
    }

    /// The primitives, when `pass` runs them.
    func primitive(_ pass: Conv2dPasses) -> OpaquePointer? {
        switch self {
        case .primitive(let p, let passes) where passes.contains(pass): p
        case .winograd(let p): p
        default: nil
        }
    }

    /// Whether some pass unfolds columns.
    var unfolds: Bool {
        switch self {
        case .columns: true
        case .primitive(_, let passes): passes != .all
        default: false
        }
    }

    static func == (a: Conv2dPath, b: Conv2dPath) -> Bool {
        switch (a, b) {
        case (.pointwise, .pointwise), (.direct, .direct), (.columns, .columns), (.winograd, .winograd): true
        case (.primitive(_, let p), .primitive(_, let q)): p == q
        default: false
        }
    }
}

/// The passes of a conv2d layer.
struct Conv2dPasses: OptionSet, Sendable {
    let rawValue: Int
    static let forward = Conv2dPasses(rawValue: 1), data = Conv2dPasses(rawValue: 2), weights = Conv2dPasses(rawValue: 4)
    static let all: Conv2dPasses = [.forward, .data, .weights]
}

/// The thresholds that pick conv2d's path and size its column buffer. Tests pass their own
/// to the internal `conv2d(..., tuning:)` instead of changing a global.
struct Conv2dTuning: Sendable {
    /// Layers with this many output channels or fewer take the direct path.
    var directMaxOutputs = 4
    /// The column buffer limit in floats (16 MiB), see `Window.bands`.
    var maxColumnFloats = 1 << 22
    /// The passes that run oneDNN's primitives, for every layer off the pointwise and
    /// direct paths; nil: the measured rule of `primitivePasses`.
    var primitives: Conv2dPasses? = nil
    /// Output pixels from which the measured rule takes the primitives.
    var minimumPrimitivePlane = 32 * 32
    /// Winograd for the 3x3 layers of stride 1 (oneDNN's F(4x4, 3x3) where the CPU has it,
    /// else CKernels' F(2x2, 3x3)): nil, the measured rule (from `minimumPrimitivePlane`
    /// output pixels, only when `primitives` is nil, and F(2x2, 3x3) from 128 channels);
    /// true, every such layer; false, none (what `Compute.winograd` off gives the standard
    /// rule).
    var winograd: Bool? = nil
    /// Winograd's layers by `WinogradTiles` even where oneDNN has Winograd primitives, so
    /// tests cover that path on every CPU.
    var winogradTiles = false
    /// The passes of 4x4 kernels (the discriminators') that run the primitives when
    /// `primitives` is nil. Measured (docs/PERFORMANCE.md): on an Intel Xeon im2col + GEMM
    /// won every pass of these layers, on an AMD EPYC the primitives won every pass (a B3
    /// iteration about 10 % faster). A fixed function of the CPU, so a run resumed on the
    /// same machine takes the same paths.
    var fourByFour: Conv2dPasses = Compute.isAMD ? .all : []

    /// Which passes of a layer run oneDNN's primitives. Measured with `aggan bench-ops`
    /// and `aggan bench` on the paper's layers (AVX-512, 2 threads; docs/PERFORMANCE.md):
    /// the primitives win the forward pass and the weight gradient of 3x3 and 7x7 kernels
    /// once the output has 32 x 32 pixels or more (below, reordering to and from the
    /// blocked layout on every call costs what they save), im2col + GEMM wins the input
    /// gradient of nearly every layer; the 4x4 kernels depend on the CPU (`fourByFour`).
    func primitivePasses(_ g: Window, outputs: Int) -> Conv2dPasses? {
        if let primitives { return primitives }
        if g.kh == 4 { return fourByFour }
        return g.cols < minimumPrimitivePlane ? nil : [.forward, .weights]
    }

    /// Whether a layer runs Winograd's primitives (when the CPU has them; else see
    /// `takesWinogradTiles`). Measured with
    /// `aggan bench-ops` (docs/PERFORMANCE.md): on AVX-512 they run the 3x3 layers of the
    /// paper's networks 2-2.5x faster than the direct primitives in every pass from 32 x 32
    /// output pixels (less below, where reordering costs as much), and agree with the
    /// direct computation to about 1e-6 of the output's scale (PrimitiveConvolutionTests).
    func takesWinograd(_ g: Window) -> Bool {
        guard g.kh == 3 && g.kw == 3 && g.stride == 1 && g.pad == 0 else { return false }
        switch winograd {
        case .some(let on): return on
        case .none: return primitives == nil && g.cols >= minimumPrimitivePlane
        }
    }

    /// Whether a layer that does not run oneDNN's Winograd primitives runs CKernels' F(2x2,
    /// 3x3). Measured with `aggan bench-ops` on an AMD EPYC with AVX2 (docs/PERFORMANCE.md):
    /// at the trunk's 128 -> 128 channels at 64 x 64 pixels its weight gradient ran
    /// 1.04-1.38x as fast as the rule before (median 1.27x), its forward pass 0.79-1.37x
    /// (median 1.01x), its input gradient 0.82-1.02x (whole iterations: within the
    /// machine's drift); at 64 channels its GEMMs are too short and every pass lost
    /// (0.6-0.85x), so the rule takes it from 128 input and output channels.
    func takesWinogradTiles(_ g: Window, outputs: Int) -> Bool {
        guard takesWinograd(g) else { return false }
        return winograd == true || (g.channels >= 128 && outputs >= 128)
    }

    /// The measured rule, Winograd's primitives left out when `Compute.winograd` is off.
    static var standard: Conv2dTuning { Compute.winograd ? Conv2dTuning() : Conv2dTuning(winograd: false) }
}

/// What conv2d does to each input image before its window slides: nearest upsampling by
/// 2, then reflection padding. Done per image into scratch buffers, in the forward pass and
/// again in the backward pass, so the transformed images are never stored.
struct InputTransform {
    let channels: Int, height: Int, width: Int
    let upsample: Bool, reflect: Int

    var upH: Int { upsample ? 2 * height : height }
    var upW: Int { upsample ? 2 * width : width }
    var outH: Int { upH + 2 * reflect }
    var outW: Int { upW + 2 * reflect }
    var isIdentity: Bool { !upsample && reflect == 0 }
    /// Floats of scratch `apply` and `adjoint` need.
    var scratchCount: Int { isIdentity ? 0 : channels * outH * outW + (upsample && reflect > 0 ? channels * upH * upW : 0) }

    /// Writes the transformed image of `src` into `scratch` and returns it.
    func apply(_ src: UnsafePointer<Float>, _ scratch: UnsafeMutablePointer<Float>?) -> UnsafePointer<Float> {
        guard !isIdentity, let scratch else { return src }
        var image = src
        if upsample {
            let dst = reflect > 0 ? scratch + channels * outH * outW : scratch
            upsample2x(image, dst, planes: channels, h: height, w: width)
            image = UnsafePointer(dst)
        }
        if reflect > 0 { reflectPad(image, scratch, planes: channels, h: upH, w: upW, p: reflect) }
        return UnsafePointer(scratch)
    }

    /// Adds the gradient `g` of the transformed image into `dx` (the input image's
    /// gradient); uses the scratch area after the transformed image.
    func adjoint(_ g: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ scratch: UnsafeMutablePointer<Float>) {
        if upsample && reflect > 0 {
            let mid = scratch + channels * outH * outW
            mid.update(repeating: 0, count: channels * upH * upW)
            reflectPadAdjoint(g, mid, planes: channels, h: upH, w: upW, p: reflect)
            upsample2xAdjoint(mid, dx, planes: channels, h: height, w: width)
        } else if upsample {
            upsample2xAdjoint(g, dx, planes: channels, h: height, w: width)
        } else {
            reflectPadAdjoint(g, dx, planes: channels, h: height, w: width, p: reflect)
        }
    }
}

/// One conv2d layer's geometry and path, and its kernels per image: the input transform,
/// then the window `window` (over the transformed image) with `outputs` output channels.
/// Images are [C, H, W] at `inCount` floats apart, outputs [O, outH * outW] at `outCount`.
struct Conv2dKernel {
    let transform: InputTransform
    let window: Window
    let outputs: Int
    let path: Conv2dPath
    /// Bands of output rows unfolded at a time (one band of every row off the columns path).
    let bands: [Range<Int>]
    /// The F(2x2, 3x3) layer, on the Winograd path without oneDNN's primitives.
    let tiles: WinogradTiles?

    init(transform: InputTransform, window: Window, outputs: Int, path: Conv2dPath, tuning: Conv2dTuning) {
        self.transform = transform
        self.window = window
        self.outputs = outputs
        self.path = path
        bands = path.unfolds ? window.bands(maxColumnFloats: tuning.maxColumnFloats) : [0..<window.outH]
        if case .winograd(nil) = path {
            tiles = WinogradTiles(window: window, outputs: outputs, maxFloats: tuning.maxColumnFloats)
        } else {
            tiles = nil
        }
    }

    var inCount: Int { transform.channels * transform.height * transform.width }
    var outCount: Int { outputs * window.cols }
    /// Floats of one band's columns, or of the F(2x2, 3x3) layer's work memory (its
    /// passes need the same).
    var columnFloats: Int { path.unfolds ? window.rows * bands[0].count * window.outW : tiles?.workFloats ?? 0 }
    /// The padded output gradient of the direct path's input gradient: dY zero-padded by
    /// the kernel size - 1 on every side.
    var paddedGradH: Int { window.outH + 2 * (window.kh - 1) }
    var paddedGradW: Int { window.outW + 2 * (window.kw - 1) }

    // MARK: Forward

    /// Floats of work memory `forward` needs.
    var forwardWorkFloats: Int { columnFloats + transform.scratchCount }

    /// Writes the outputs of `images` images: y[i] = W * x[i] (transformed). `work` has
    /// `forwardWorkFloats` floats.
    func forward(images: Int, input x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                 output y: UnsafeMutablePointer<Float>, work: UnsafeMutablePointer<Float>) {
        let columns = work, scratch = work + columnFloats
        for i in 0..<images {
            forward(image: transform.apply(x + i * inCount, scratch), weight: w, output: y + i * outCount, columns: columns)
        }
    }

    /// Writes one image's output [O, outH * outW] from its transformed image.
    func forward(image xi: UnsafePointer<Float>, weight w: UnsafePointer<Float>, output yi: UnsafeMutablePointer<Float>,
                 columns: UnsafeMutablePointer<Float>) {
        let g = window, o = outputs
        switch path {
        case .pointwise:
            sgemm(transA: false, transB: false, m: o, n: g.cols, k: g.rows, a: w, b: xi, beta: 0, c: yi)
        case .direct:
            Compute.parallelFor(g.outH, minimumChunk: 1) { rows in
                aggan_conv_direct(xi, g.channels, g.height, g.width, w, g.kh, g.kw, yi, 0, o, rows.lowerBound, rows.upperBound)
            }
        case .columns, .primitive, .winograd:
            if let p = path.primitive(.forward) { return checkPrimitive(aggan_conv_forward(p, xi, w, yi), "forward") }
            if let tiles { return tiles.forward(image: xi, weight: w, output: yi, work: columns) }
            for band in bands {
                im2col(xi, g, columns, band: band)
                sgemm(transA: false, transB: false, m: o, n: band.count * g.outW, k: g.rows, a: w,
                      b: columns, beta: 0, c: yi + band.lowerBound * g.outW, ldc: g.cols)
            }
        }
    }

    // MARK: Backward

    /// Floats of work memory `backward` needs: columns and their gradient, the direct
    /// path's padded output gradient and flipped kernel, the transformed image and its gradient.
    func backwardWorkFloats(inputGrad: Bool) -> Int {
        let direct = path == .direct && inputGrad
        return columnFloats * (inputGrad && path.unfolds ? 2 : 1)
            + (direct ? outputs * paddedGradH * paddedGradW + outputs * window.rows : 0)
            + transform.scratchCount + (transform.isIdentity ? 0 : window.channels * window.height * window.width)
    }

    /// From the output gradient `gy` of `images` images: writes dW (`weightGrad`, when
    /// given) and adds dx into `inputGrad` (when given; it must start at zero). `work` has
    /// `backwardWorkFloats(inputGrad:)` floats.
    func backward(images: Int, gradOutput gy: UnsafePointer<Float>, input x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                  inputGrad dx: UnsafeMutablePointer<Float>?, weightGrad dw: UnsafeMutablePointer<Float>?,
                  work: UnsafeMutablePointer<Float>) {
        let g = window
        let direct = path == .direct && dx != nil
        // Work memory, in order: columns, their gradient, padded dY, flipped kernel, transformed image, its gradient.
        let columns = work
        // The F(2x2, 3x3) layer runs its two passes one after the other in the same memory.
        let dColumns = path.unfolds ? columns + columnFloats : columns
        let paddedGrad = columns + columnFloats * (dx != nil && path.unfolds ? 2 : 1)
        let flipped = paddedGrad + (direct ? outputs * paddedGradH * paddedGradW : 0)
        let scratch = flipped + (direct ? outputs * g.rows : 0)
        let dImage = transform.isIdentity ? nil : scratch + transform.scratchCount
        if direct {
            paddedGrad.update(repeating: 0, count: outputs * paddedGradH * paddedGradW)
            flipKernel(w, outputs: outputs, channels: g.channels, kh: g.kh, kw: g.kw, into: flipped)
        }
        for i in 0..<images {
            let gi = gy + i * outCount
            if let dw {
                let xi = transform.apply(x + i * inCount, scratch)
                backwardWeights(gradOutput: gi, image: xi, weightGrad: dw, accumulate: i > 0, columns: columns)
            }
            if let dx {
                let dxi = dx + i * inCount
                // The gradient of the transformed image, folded into the input's by the adjoint.
                let target = dImage ?? dxi
                if let dImage, path.unfolds && path.primitive(.data) == nil { dImage.update(repeating: 0, count: g.channels * g.height * g.width) }
                backwardData(gradOutput: gi, weight: w, flipped: UnsafePointer(flipped), imageGrad: target,
                             dColumns: dColumns, paddedGrad: paddedGrad)
                if let dImage { transform.adjoint(dImage, dxi, scratch) }
            }
        }
    }

    /// dW from one image: written when not `accumulate`, else added.
    func backwardWeights(gradOutput gi: UnsafePointer<Float>, image xi: UnsafePointer<Float>,
                         weightGrad dw: UnsafeMutablePointer<Float>, accumulate: Bool, columns: UnsafeMutablePointer<Float>) {
        let g = window, o = outputs
        switch path {
        case .pointwise:
            // dW[O, C] (+)= dY[O, L] * x[C, L]^T
            sgemm(transA: false, transB: true, m: o, n: g.rows, k: g.cols, a: gi, b: xi, beta: accumulate ? 1 : 0, c: dw)
        case .direct:
            Compute.parallelFor(o * g.channels, minimumChunk: 1) { pairs in
                aggan_conv_direct_weight_grad(gi, xi, g.channels, g.height, g.width, g.kh, g.kw, dw,
                                              pairs.lowerBound, pairs.upperBound, accumulate ? 1 : 0)
            }
        case .columns, .primitive, .winograd:
            if let p = path.primitive(.weights) {
                guard accumulate else { return checkPrimitive(aggan_conv_backward_weights(p, xi, gi, dw), "backward weights") }
                var image = uninitializedFloats(o * g.rows)
                return image.withUnsafeMutableBufferPointer { ip in
                    checkPrimitive(aggan_conv_backward_weights(p, xi, gi, ip.baseAddress!), "backward weights")
                    for j in 0..<ip.count { dw[j] += ip[j] }
                }
            }
            if let tiles { return tiles.backwardWeights(gradOutput: gi, image: xi, weightGrad: dw, accumulate: accumulate, work: columns) }
            // dW[O, CKK] (+)= dY[O, band] * col[CKK, band]^T
            for (k, band) in bands.enumerated() {
                im2col(xi, g, columns, band: band)
                sgemm(transA: false, transB: true, m: o, n: g.rows, k: band.count * g.outW, a: gi + band.lowerBound * g.outW,
                      lda: g.cols, b: columns, beta: accumulate || k > 0 ? 1 : 0, c: dw)
            }
        }
    }

    /// The gradient of one transformed image: written on the pointwise and direct paths,
    /// by the primitive and by F(2x2, 3x3), added by columns (col2im adds).
    func backwardData(gradOutput gi: UnsafePointer<Float>, weight w: UnsafePointer<Float>, flipped: UnsafePointer<Float>,
                      imageGrad target: UnsafeMutablePointer<Float>, dColumns: UnsafeMutablePointer<Float>,
                      paddedGrad: UnsafeMutablePointer<Float>) {
        let g = window, o = outputs
        switch path {
        case .pointwise:
            sgemm(transA: true, transB: false, m: g.rows, n: g.cols, k: o, a: w, b: gi, beta: 0, c: target)
        case .direct:
            // The direct convolution of dY, zero-padded by the kernel size - 1, with the
            // flipped kernel [C, O, kh, kw]. Only the interior of paddedGrad is written.
            let (ph, pw) = (paddedGradH, paddedGradW)
            copyIntoInterior(gi, paddedGrad, planes: o, h: g.outH, w: g.outW, py: g.kh - 1, px: g.kw - 1)
            Compute.parallelFor(g.channels, minimumChunk: 1) { chans in
                aggan_conv_direct(paddedGrad, o, ph, pw, flipped, g.kh, g.kw, target, chans.lowerBound, chans.upperBound, 0, g.height)
            }
        case .columns, .primitive, .winograd:
            if let p = path.primitive(.data) { return checkPrimitive(aggan_conv_backward_data(p, gi, w, target), "backward data") }
            if let tiles { return tiles.backwardData(gradOutput: gi, weight: w, imageGrad: target, work: dColumns) }
            // dcol[CKK, band] = W[O, CKK]^T * dY[O, band], folded back into the image by col2im.
            for band in bands {
                sgemm(transA: true, transB: false, m: g.rows, n: band.count * g.outW, k: o, a: w,
                      b: gi + band.lowerBound * g.outW, ldb: g.cols, beta: 0, c: dColumns)
                col2im(dColumns, g, target, band: band)
            }
        }
    }
}

/// oneDNN's primitives fail only when memory runs out: stop with the reason.
func checkPrimitive(_ status: Int32, _ what: String) {
    precondition(status == 1, "oneDNN convolution \(what) failed (out of memory)")
}

/// The kernel w [O, C, kh, kw] transposed and rotated by 180 degrees: [C, O, kh, kw].
func flipKernel(_ w: UnsafePointer<Float>, outputs o: Int, channels c: Int, kh: Int, kw: Int,
                into flipped: UnsafeMutablePointer<Float>) {
    for oc in 0..<o {
        for ic in 0..<c {
            for ky in 0..<kh {
                for kx in 0..<kw {
                    flipped[((ic * o + oc) * kh + kh - 1 - ky) * kw + kw - 1 - kx] = w[((oc * c + ic) * kh + ky) * kw + kx]
                }
            }
        }
    }
}
