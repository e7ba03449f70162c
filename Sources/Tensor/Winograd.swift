/// Winograd's F(2x2, 3x3) for the 3x3 conv2d layers of stride 1 without padding, on CPUs
/// where oneDNN has no Winograd primitives (AVX2): CKernels' transforms (winograd.c)
/// around 16 GEMMs per band of tile rows, one per element of the 4x4 tile, with 2.25x
/// fewer multiply-adds than the direct computation in every pass. The input gradient is the
/// same forward computation on the output gradient, zero-padded by 2, with the flipped
/// kernel; the weight gradient runs the transforms' adjoints. Like the columns path, nothing
/// is kept between the passes: each recomputes its transforms.
import CKernels

struct WinogradTiles {
    let channels: Int, height: Int, width: Int, outputs: Int
    /// Output tiles (2x2 pixels) per row.
    let tilesPerRow: Int
    /// Tile rows transformed at a time, so that one band's arrays stay within `maxFloats`.
    let bands: [Range<Int>]
    let maxFloats: Int

    /// Floats of one band's transformed input and output by default (4 MiB). Measured with
    /// `aggan bench-ops` at the trunk (AVX2, 2 threads): bands of 4 MiB ran its passes
    /// faster than the whole image at once (17 MiB, which the machine's other tenants can
    /// push out of the shared cache) and than 1 MiB bands (GEMMs of 64 columns).
    static let bandFloats = 1 << 20

    /// The layer of window `g` (3x3, stride 1, no padding) with `outputs` channels; one
    /// band's transformed input and output stay within `maxFloats` (and `bandFloats`)
    /// where a tile row allows.
    init(window g: Window, outputs: Int, maxFloats: Int) {
        precondition(g.kh == 3 && g.kw == 3 && g.stride == 1 && g.pad == 0, "Winograd F(2x2, 3x3) needs a 3x3 window of stride 1")
        self.init(channels: g.channels, height: g.height, width: g.width, outputs: outputs,
                  maxFloats: min(maxFloats, WinogradTiles.bandFloats))
    }

    private init(channels: Int, height: Int, width: Int, outputs: Int, maxFloats: Int) {
        (self.channels, self.height, self.width, self.outputs, self.maxFloats) = (channels, height, width, outputs, maxFloats)
        tilesPerRow = (width - 1) / 2
        let tileRows = (height - 1) / 2
        let perRow = 16 * (channels + outputs) * tilesPerRow
        let rowsPerBand = max(1, min(tileRows, maxFloats / max(1, perRow)))
        bands = stride(from: 0, to: tileRows, by: rowsPerBand).map { $0..<min(tileRows, $0 + rowsPerBand) }
    }

    /// The layer whose forward pass is this one's input gradient: the output gradient,
    /// zero-padded by 2, convolved with the flipped kernel [C, O, 3, 3].
    private var transposed: WinogradTiles {
        WinogradTiles(channels: outputs, height: height + 2, width: width + 2, outputs: channels, maxFloats: maxFloats)
    }

    private var outH: Int { height - 2 }
    private var outW: Int { width - 2 }
    private var maxTiles: Int { bands[0].count * tilesPerRow }
    /// Floats of work memory the forward pass and the weight gradient need: the transformed
    /// weights (or their gradient), one band's transformed input and transformed output (or
    /// its gradient).
    private var passFloats: Int { 16 * (outputs * channels + (channels + outputs) * maxTiles) }
    /// Floats of the input gradient's padded output gradient and flipped kernel.
    private var paddedGradFloats: Int { outputs * (height + 2) * (width + 2) + 9 * outputs * channels }
    /// Floats of work memory every pass fits in.
    var workFloats: Int { max(passFloats, paddedGradFloats + transposed.passFloats) }

    /// Splits the three parts of `work`: [16][O][C], [16][C][tiles], [16][O][tiles].
    private func parts(_ work: UnsafeMutablePointer<Float>)
        -> (weights: UnsafeMutablePointer<Float>, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let input = work + 16 * outputs * channels
        return (work, input, input + 16 * channels * maxTiles)
    }

    private func transformWeights(_ w: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>) {
        let (o, c) = (outputs, channels)
        Compute.parallelFor(o * c, minimumChunk: 256) { aggan_wino_weights(w, o, c, u, $0.lowerBound, $0.upperBound) }
    }

    private func transformInput(_ x: UnsafePointer<Float>, _ band: Range<Int>, into v: UnsafeMutablePointer<Float>) {
        let (c, h, w) = (channels, height, width)
        Compute.parallelFor(c, minimumChunk: 4) {
            aggan_wino_input(x, c, h, w, band.lowerBound, band.upperBound, v, $0.lowerBound, $0.upperBound)
        }
    }

    private func transformGradOutput(_ gy: UnsafePointer<Float>, _ band: Range<Int>, into dm: UnsafeMutablePointer<Float>) {
        let (o, oh, ow) = (outputs, outH, outW)
        Compute.parallelFor(o, minimumChunk: 4) {
            aggan_wino_output_adjoint(gy, o, oh, ow, band.lowerBound, band.upperBound, dm, $0.lowerBound, $0.upperBound)
        }
    }

    /// Writes one image's output [O, outH, outW] from its (transformed) image [C, H, W].
    func forward(image x: UnsafePointer<Float>, weight w: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>,
                 work: UnsafeMutablePointer<Float>) {
        let (u, v, m) = parts(work)
        let (o, c, oh, ow) = (outputs, channels, outH, outW)
        transformWeights(w, into: u)
        for band in bands {
            let nt = band.count * tilesPerRow
            transformInput(x, band, into: v)
            for e in 0..<16 {  // M[e] = U[e] V[e]
                sgemm(transA: false, transB: false, m: o, n: nt, k: c, a: u + e * o * c, b: v + e * c * nt, beta: 0,
                      c: m + e * o * nt)
            }
            Compute.parallelFor(o, minimumChunk: 4) {
                aggan_wino_output(m, o, oh, ow, band.lowerBound, band.upperBound, y, $0.lowerBound, $0.upperBound)
            }
        }
    }

    /// Writes the gradient of one (transformed) image from its output gradient.
    func backwardData(gradOutput gy: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                      imageGrad dx: UnsafeMutablePointer<Float>, work: UnsafeMutablePointer<Float>) {
        let (o, ph, pw) = (outputs, height + 2, width + 2)
        let padded = work, flipped = work + o * ph * pw
        padded.update(repeating: 0, count: o * ph * pw)
        copyIntoInterior(gy, padded, planes: o, h: outH, w: outW, py: 2, px: 2)
        flipKernel(w, outputs: o, channels: channels, kh: 3, kw: 3, into: flipped)
        transposed.forward(image: padded, weight: flipped, output: dx, work: work + paddedGradFloats)
    }

    /// dW from one image: written when not `accumulate`, else added.
    func backwardWeights(gradOutput gy: UnsafePointer<Float>, image x: UnsafePointer<Float>,
                         weightGrad dw: UnsafeMutablePointer<Float>, accumulate: Bool, work: UnsafeMutablePointer<Float>) {
        let (du, v, dm) = parts(work)
        let (o, c) = (outputs, channels)
        for (k, band) in bands.enumerated() {
            let nt = band.count * tilesPerRow
            transformGradOutput(gy, band, into: dm)
            transformInput(x, band, into: v)
            for e in 0..<16 {  // dU[e] (+)= dM[e] V[e]^T
                sgemm(transA: false, transB: true, m: o, n: c, k: nt, a: dm + e * o * nt, b: v + e * c * nt,
                      beta: k > 0 ? 1 : 0, c: du + e * o * c)
            }
        }
        Compute.parallelFor(o * c, minimumChunk: 256) {
            aggan_wino_weights_adjoint(du, o, c, dw, $0.lowerBound, $0.upperBound, accumulate ? 1 : 0)
        }
    }
}
