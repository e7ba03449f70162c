// The Imaging module: the `Image` value type, PNG files, datasets, augmentation, domain
// building from an image + mask, and metrics. See docs/ARCHITECTURE.md.

/// A grayscale or RGB image with float samples in [0, 1], stored planar (CHW).
///
/// `pixels[(c * height + y) * width + x]` is channel `c` at row `y`, column `x`.
/// `bitDepth` records the depth of the file the image came from (8 or 16), so that
/// results can be written back at the same depth; it does not limit the float values.
public struct Image: Sendable, Equatable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// 1 (gray) or 3 (RGB).
    public let channels: Int
    /// Bits per sample of the source file: 8 or 16.
    public var bitDepth: Int
    /// Samples in [0, 1], planar CHW, `channels * height * width` of them.
    public private(set) var pixels: [Float]

    /// The largest `width * height` accepted: 2^28 pixels (a 16384 x 16384 image).
    /// PNG headers are checked against it before any pixel memory is allocated.
    public static let maxPixelCount = 1 << 28

    /// An image holding `pixels` (planar CHW, `channels * height * width` values).
    ///
    /// - Throws: `ImagingError` (`.invalidArgument`) when a size is not positive, the
    ///   channel count is not 1 or 3, the bit depth is not 8 or 16, or the number of
    ///   values does not match.
    public init(width: Int, height: Int, channels: Int, pixels: [Float], bitDepth: Int = 8) throws {
        try Image.validate(width: width, height: height, channels: channels, bitDepth: bitDepth)
        guard pixels.count == width * height * channels else {
            throw ImagingError.invalid("Image", "\(width) x \(height) x \(channels) needs \(width * height * channels) values, got \(pixels.count)")
        }
        self.init(unchecked: width, height, channels, pixels, bitDepth)
    }

    /// An image with every sample equal to `value`.
    public init(width: Int, height: Int, channels: Int, value: Float = 0, bitDepth: Int = 8) throws {
        try Image.validate(width: width, height: height, channels: channels, bitDepth: bitDepth)
        self.init(unchecked: width, height, channels,
                  [Float](repeating: value, count: width * height * channels), bitDepth)
    }

    /// For code of this module that has already checked the sizes.
    init(unchecked width: Int, _ height: Int, _ channels: Int, _ pixels: [Float], _ bitDepth: Int) {
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
        self.bitDepth = bitDepth
    }

    static func validate(width: Int, height: Int, channels: Int, bitDepth: Int) throws {
        guard width > 0, height > 0 else {
            throw ImagingError.invalid("Image", "size \(width) x \(height) must be positive")
        }
        guard width.multipliedReportingOverflow(by: height).partialValue <= maxPixelCount,
              width <= maxPixelCount, height <= maxPixelCount else {
            throw ImagingError.invalid("Image", "size \(width) x \(height) exceeds \(maxPixelCount) pixels")
        }
        guard channels == 1 || channels == 3 else {
            throw ImagingError.invalid("Image", "channels must be 1 (gray) or 3 (RGB), got \(channels)")
        }
        guard bitDepth == 8 || bitDepth == 16 else {
            throw ImagingError.invalid("Image", "bit depth must be 8 or 16, got \(bitDepth)")
        }
    }

    /// `width * height`, the size of one channel plane.
    public var planeSize: Int { width * height }

    /// The sample of channel `c` at row `y`, column `x` (indices must be in range).
    public subscript(c: Int, y: Int, x: Int) -> Float {
        get { pixels[(c * height + y) * width + x] }
        set { pixels[(c * height + y) * width + x] = newValue }
    }

    /// The samples of channel `c`, row-major.
    public func plane(_ c: Int) -> ArraySlice<Float> {
        pixels[(c * planeSize)..<((c + 1) * planeSize)]
    }

    /// The pixels, the image given up: when nothing else shares them (see
    /// `toTensor(channels:)`), the caller may change them without a copy.
    public consuming func takePixels() -> [Float] { pixels }

    /// A copy of this image's geometry and depth with other pixels (same count).
    func with(pixels newPixels: [Float]) -> Image {
        Image(unchecked: width, height, channels, newPixels, bitDepth)
    }
}

// MARK: - Channels

/// What happens to an image's channels when it meets a model with a given channel count.
public enum ChannelConversion: Sendable, Equatable {
    /// The counts match.
    case none
    /// A gray image is copied into 3 equal channels.
    case replicateGray
    /// A colour image is turned into gray by luminance (0.299 R + 0.587 G + 0.114 B);
    /// colour is lost, and a CLI should say so (once).
    case luminance
}

/// The gray image `0.299 R + 0.587 G + 0.114 B` (ITU-R BT.601 weights applied to the
/// stored values, no gamma handling). A gray image is returned unchanged.
public func rgbToGray(_ image: Image) -> Image {
    guard image.channels == 3 else { return image }
    let n = image.planeSize
    var out = [Float](repeating: 0, count: n)
    image.pixels.withUnsafeBufferPointer { p in
        for i in 0..<n {
            out[i] = 0.299 * p[i] + 0.587 * p[n + i] + 0.114 * p[2 * n + i]
        }
    }
    return Image(unchecked: image.width, image.height, 1, out, image.bitDepth)
}

/// The RGB image with the gray channel copied three times. An RGB image is returned
/// unchanged.
public func grayToRGB(_ image: Image) -> Image {
    guard image.channels == 1 else { return image }
    return Image(unchecked: image.width, image.height, 3,
                 image.pixels + image.pixels + image.pixels, image.bitDepth)
}

extension Image {
    /// How `converted(toChannels:)` and `toTensor(channels:)` treat this image for a
    /// model with `channels` channels (1 or 3).
    public func conversion(toChannels channels: Int) throws -> ChannelConversion {
        guard channels == 1 || channels == 3 else {
            throw ImagingError.invalid("conversion", "a model has 1 or 3 channels, got \(channels)")
        }
        if channels == self.channels { return .none }
        return channels == 3 ? .replicateGray : .luminance
    }

    /// This image with `channels` channels (see `ChannelConversion`).
    public func converted(toChannels channels: Int) throws -> Image {
        switch try conversion(toChannels: channels) {
        case .none: return self
        case .replicateGray: return grayToRGB(self)
        case .luminance: return rgbToGray(self)
        }
    }
}

// MARK: - Geometry

extension Image {
    /// The image resized to `width` x `height` by bilinear interpolation with half-pixel
    /// centres, as PyTorch's `interpolate(mode: "bilinear", align_corners: false)` without
    /// antialiasing: output pixel `i` samples the input at `(i + 0.5) * in / out - 0.5`,
    /// clamped to the image.
    public func resized(width newWidth: Int, height newHeight: Int) throws -> Image {
        try Image.validate(width: newWidth, height: newHeight, channels: channels, bitDepth: bitDepth)
        if newWidth == width && newHeight == height { return self }
        let xs = Image.bilinearTaps(from: width, to: newWidth)
        let ys = Image.bilinearTaps(from: height, to: newHeight)
        var out = [Float](repeating: 0, count: channels * newWidth * newHeight)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0..<channels {
                    let sp = c * planeSize, dp = c * newWidth * newHeight
                    for oy in 0..<newHeight {
                        let (y0, y1, wy) = ys[oy]
                        let r0 = sp + y0 * width, r1 = sp + y1 * width
                        let o = dp + oy * newWidth
                        for ox in 0..<newWidth {
                            let (x0, x1, wx) = xs[ox]
                            let top = src[r0 + x0] + (src[r0 + x1] - src[r0 + x0]) * wx
                            let bottom = src[r1 + x0] + (src[r1 + x1] - src[r1 + x0]) * wx
                            dst[o + ox] = top + (bottom - top) * wy
                        }
                    }
                }
            }
        }
        return Image(unchecked: newWidth, newHeight, channels, out, bitDepth)
    }

    /// For each output index: the two input indices and the weight of the second.
    static func bilinearTaps(from inSize: Int, to outSize: Int) -> [(Int, Int, Float)] {
        let scale = Double(inSize) / Double(outSize)
        return (0..<outSize).map { i in
            let src = max((Double(i) + 0.5) * scale - 0.5, 0)
            let i0 = min(Int(src), inSize - 1)
            let i1 = min(i0 + 1, inSize - 1)
            return (i0, i1, Float(src - Double(i0)))
        }
    }

    /// The `width` x `height` region whose top-left corner is column `x`, row `y`.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) throws -> Image {
        guard x >= 0, y >= 0, w > 0, h > 0, x + w <= width, y + h <= height else {
            throw ImagingError.invalid("crop", "region x \(x), y \(y), \(w) x \(h) is not inside the \(width) x \(height) image")
        }
        var out = [Float]()
        out.reserveCapacity(channels * w * h)
        for c in 0..<channels {
            for row in y..<(y + h) {
                let start = (c * height + row) * width + x
                out.append(contentsOf: pixels[start..<(start + w)])
            }
        }
        return Image(unchecked: w, h, channels, out, bitDepth)
    }

    /// Mirrored left to right.
    public func flippedHorizontally() -> Image {
        remapped(width: width, height: height) { x, y in (width - 1 - x, y) }
    }

    /// Mirrored top to bottom.
    public func flippedVertically() -> Image {
        remapped(width: width, height: height) { x, y in (x, height - 1 - y) }
    }

    /// Rotated by `quarterTurns` x 90 degrees counter-clockwise (as `numpy.rot90`);
    /// negative values turn clockwise. Odd turns swap width and height.
    public func rotated90(_ quarterTurns: Int) -> Image {
        switch ((quarterTurns % 4) + 4) % 4 {
        case 1: // out(x, y) = in(W-1-y, x), out is H x W
            return remapped(width: height, height: width) { x, y in (width - 1 - y, x) }
        case 2:
            return remapped(width: width, height: height) { x, y in (width - 1 - x, height - 1 - y) }
        case 3:
            return remapped(width: height, height: width) { x, y in (y, height - 1 - x) }
        default:
            return self
        }
    }

    /// A new image whose pixel (x, y) is this image's pixel `source(x, y)`.
    private func remapped(width w: Int, height h: Int, _ source: (Int, Int) -> (Int, Int)) -> Image {
        var out = [Float](repeating: 0, count: channels * w * h)
        for c in 0..<channels {
            for y in 0..<h {
                for x in 0..<w {
                    let (sx, sy) = source(x, y)
                    out[(c * h + y) * w + x] = pixels[(c * height + sy) * width + sx]
                }
            }
        }
        return Image(unchecked: w, h, channels, out, bitDepth)
    }
}
