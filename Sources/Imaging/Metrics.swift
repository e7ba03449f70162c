// Image-quality and mask metrics. All are pure functions on images with samples in
// [0, 1] (data range 1); sums are accumulated in Double.

import Foundation

/// A per-pixel yes/no map (cells, thresholded attention). `bits[y * width + x]`.
public struct PixelMask: Sendable, Equatable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// One value per pixel, row-major.
    public let bits: [Bool]

    /// A mask from explicit bits (`width * height` of them).
    public init(width: Int, height: Int, bits: [Bool]) throws {
        guard width > 0, height > 0, bits.count == width * height else {
            throw ImagingError.invalid("PixelMask", "\(width) x \(height) needs \(max(width, 0) * max(height, 0)) values, got \(bits.count)")
        }
        self.width = width
        self.height = height
        self.bits = bits
    }

    /// `1[v > threshold]` per pixel, where `v` is the largest channel of `image`: a 0/255
    /// mask file with the default 0.5, or an attention map with threshold tau.
    public init(_ image: Image, threshold: Float = 0.5) {
        let n = image.planeSize
        var bits = [Bool](repeating: false, count: n)
        for c in 0..<image.channels {
            let base = c * n
            for i in 0..<n where image.pixels[base + i] > threshold { bits[i] = true }
        }
        self.width = image.width
        self.height = image.height
        self.bits = bits
    }

    /// `1[a > threshold]` for an attention plane of `width * height` values (for example
    /// the data of a [1, 1, H, W] tensor).
    public init(attention: [Float], width: Int, height: Int, threshold: Float) throws {
        try self.init(width: width, height: height, bits: attention.map { $0 > threshold })
    }

    /// Number of pixels that are set.
    public var count: Int { bits.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// The mask with every bit flipped.
    public var inverted: PixelMask {
        PixelMask(uncheckedWidth: width, height: height, bits: bits.map { !$0 })
    }

    /// An image 1.0 where set and 0.0 elsewhere (gray, 8-bit).
    public var image: Image {
        Image(unchecked: width, height, 1, bits.map { $0 ? 1 : 0 }, 8)
    }

    init(uncheckedWidth width: Int, height: Int, bits: [Bool]) {
        self.width = width
        self.height = height
        self.bits = bits
    }
}

/// Which pixels a masked metric looks at.
public enum MaskRegion: Sendable, Equatable {
    /// Pixels where the mask is set (cells).
    case inside
    /// Pixels where it is not (background).
    case outside
}

// MARK: - Whole-image metrics

/// Mean squared difference of two equally long sample arrays.
public func meanSquaredError(_ a: [Float], _ b: [Float]) throws -> Double {
    try checkSameCount(a, b, "MSE")
    var sum = 0.0
    for i in 0..<a.count { let d = Double(a[i]) - Double(b[i]); sum += d * d }
    return sum / Double(a.count)
}

/// Mean absolute difference of two equally long sample arrays.
public func meanAbsoluteError(_ a: [Float], _ b: [Float]) throws -> Double {
    try checkSameCount(a, b, "MAE")
    var sum = 0.0
    for i in 0..<a.count { sum += abs(Double(a[i]) - Double(b[i])) }
    return sum / Double(a.count)
}

/// Peak signal-to-noise ratio in dB for data range 1: `10 log10(1 / MSE)`; `+infinity`
/// for identical inputs.
public func psnr(_ a: [Float], _ b: [Float]) throws -> Double {
    psnr(mse: try meanSquaredError(a, b))
}

/// PSNR of two images of the same size and channels (all samples).
public func psnr(_ a: Image, _ b: Image) throws -> Double {
    try checkSameShape(a, b, "PSNR")
    return try psnr(a.pixels, b.pixels)
}

/// Mean absolute error of two images of the same size and channels (all samples).
public func meanAbsoluteError(_ a: Image, _ b: Image) throws -> Double {
    try checkSameShape(a, b, "MAE")
    return try meanAbsoluteError(a.pixels, b.pixels)
}

private func psnr(mse: Double) -> Double {
    mse == 0 ? .infinity : 10 * log10(1 / mse)
}

// MARK: - Masked metrics

/// Mean absolute error over the pixels of `region` (all channels); nil when the region
/// holds no pixel.
public func maskedMeanAbsoluteError(_ a: Image, _ b: Image, mask: PixelMask, region: MaskRegion) throws -> Double? {
    try maskedMean(a, b, mask, region, "masked MAE") { abs($0) }
}

/// PSNR (data range 1) over the pixels of `region` (all channels); nil when the region
/// holds no pixel, `+infinity` when the images agree there.
public func maskedPSNR(_ a: Image, _ b: Image, mask: PixelMask, region: MaskRegion) throws -> Double? {
    try maskedMean(a, b, mask, region, "masked PSNR") { $0 * $0 }.map { psnr(mse: $0) }
}

/// Background drift: mean |output - input| outside the mask, in 8-bit levels (x 255).
/// nil when the mask covers every pixel.
public func backgroundDrift(output: Image, input: Image, mask: PixelMask) throws -> Double? {
    try maskedMeanAbsoluteError(output, input, mask: mask, region: .outside).map { $0 * 255 }
}

private func maskedMean(_ a: Image, _ b: Image, _ mask: PixelMask, _ region: MaskRegion, _ name: String,
                        _ f: (Double) -> Double) throws -> Double? {
    try checkSameShape(a, b, name)
    guard mask.width == a.width, mask.height == a.height else {
        throw ImagingError.invalid(name, "mask is \(mask.width) x \(mask.height), images are \(a.width) x \(a.height)")
    }
    let wanted = region == .inside
    let n = a.planeSize
    var sum = 0.0, count = 0
    for i in 0..<n where mask.bits[i] == wanted {
        for c in 0..<a.channels { sum += f(Double(a.pixels[c * n + i]) - Double(b.pixels[c * n + i])) }
        count += a.channels
    }
    return count == 0 ? nil : sum / Double(count)
}

// MARK: - Overlap

/// Intersection over union of two masks; 1 when both are empty.
public func intersectionOverUnion(_ a: PixelMask, _ b: PixelMask) throws -> Double {
    let (both, either) = try overlap(a, b, "IoU")
    return either == 0 ? 1 : Double(both) / Double(either)
}

/// Dice coefficient `2 |a and b| / (|a| + |b|)`; 1 when both are empty.
public func dice(_ a: PixelMask, _ b: PixelMask) throws -> Double {
    let (both, either) = try overlap(a, b, "Dice")
    let total = both + either  // |a| + |b| = |a and b| + |a or b|
    return total == 0 ? 1 : 2 * Double(both) / Double(total)
}

private func overlap(_ a: PixelMask, _ b: PixelMask, _ name: String) throws -> (both: Int, either: Int) {
    guard a.width == b.width, a.height == b.height else {
        throw ImagingError.invalid(name, "masks are \(a.width) x \(a.height) and \(b.width) x \(b.height)")
    }
    var both = 0, either = 0
    for i in 0..<a.bits.count {
        if a.bits[i] && b.bits[i] { both += 1 }
        if a.bits[i] || b.bits[i] { either += 1 }
    }
    return (both, either)
}

// MARK: - SSIM

/// Structural similarity (Wang et al. 2004) as scikit-image's
/// `structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
/// data_range=1)` computes it: Gaussian window of 11 taps (sigma 1.5, truncated at 3.5
/// sigma), K1 0.01, K2 0.03, population covariances; the SSIM map is averaged over the
/// pixels at least 5 from every border, per channel, and the channels are averaged.
///
/// - Throws: when the images differ in shape or a side is shorter than 11.
public func ssim(_ a: Image, _ b: Image) throws -> Double {
    try checkSameShape(a, b, "SSIM")
    guard a.width >= 11, a.height >= 11 else {
        throw ImagingError.invalid("SSIM", "needs images of at least 11 x 11, got \(a.width) x \(a.height)")
    }
    var total = 0.0
    for c in 0..<a.channels {
        total += ssimPlane(Array(a.plane(c)), Array(b.plane(c)), width: a.width, height: a.height)
    }
    return total / Double(a.channels)
}

/// The SSIM of one plane (sizes checked by the caller).
private func ssimPlane(_ x: [Float], _ y: [Float], width w: Int, height h: Int) -> Double {
    let radius = 5, sigma = 1.5
    var g = (0...(2 * radius)).map { k -> Double in
        let d = Double(k - radius)
        return exp(-0.5 * d * d / (sigma * sigma))
    }
    let gs = g.reduce(0, +)
    g = g.map { $0 / gs }
    let c1 = 0.01 * 0.01, c2 = 0.03 * 0.03
    let ow = w - 2 * radius, oh = h - 2 * radius
    // Horizontal pass on every row, kept only for the valid columns: the five moments.
    var hx = [Double](repeating: 0, count: h * ow), hy = hx, hxx = hx, hyy = hx, hxy = hx
    for row in 0..<h {
        for j in 0..<ow {
            var sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0
            for k in 0...(2 * radius) {
                let i = row * w + j + k
                let vx = Double(x[i]), vy = Double(y[i]), wk = g[k]
                sx += wk * vx; sy += wk * vy
                sxx += wk * vx * vx; syy += wk * vy * vy; sxy += wk * vx * vy
            }
            let o = row * ow + j
            hx[o] = sx; hy[o] = sy; hxx[o] = sxx; hyy[o] = syy; hxy[o] = sxy
        }
    }
    // Vertical pass for the valid rows, and the SSIM formula.
    var sum = 0.0
    for row in 0..<oh {
        for j in 0..<ow {
            var ux = 0.0, uy = 0.0, uxx = 0.0, uyy = 0.0, uxy = 0.0
            for k in 0...(2 * radius) {
                let o = (row + k) * ow + j, wk = g[k]
                ux += wk * hx[o]; uy += wk * hy[o]
                uxx += wk * hxx[o]; uyy += wk * hyy[o]; uxy += wk * hxy[o]
            }
            let vx = uxx - ux * ux, vy = uyy - uy * uy, vxy = uxy - ux * uy
            sum += ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
        }
    }
    return sum / Double(ow * oh)
}

// MARK: - Checks

private func checkSameCount(_ a: [Float], _ b: [Float], _ name: String) throws {
    guard a.count == b.count, !a.isEmpty else {
        throw ImagingError.invalid(name, "needs two equally long, non-empty arrays, got \(a.count) and \(b.count) values")
    }
}

private func checkSameShape(_ a: Image, _ b: Image, _ name: String) throws {
    guard a.width == b.width, a.height == b.height, a.channels == b.channels else {
        throw ImagingError.invalid(name, "images differ: \(a.width) x \(a.height) x \(a.channels) and \(b.width) x \(b.height) x \(b.channels)")
    }
}
