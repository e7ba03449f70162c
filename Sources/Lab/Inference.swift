// Translating whole images of any size with a trained model (`aggan translate`, `aggan
// eval`): exact 8/16-bit <-> tensor mapping, reflection padding to the networks' sizes,
// tiling with linear blending for large images, and the batch job that writes PNG files.

import AGGAN
import Foundation
import Imaging
import Tensor
import TrainingEngine

/// An error of translating or evaluating: one complete line for the user, naming the
/// file and the problem, for example `cannot write 'out/a.png': it already exists`.
public struct InferenceError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The message.
    public let description: String

    /// An error with a message written by the caller.
    public init(_ description: String) { self.description = description }
}

// MARK: - Pixels <-> tensors

/// The mapping between stored integer levels and the networks' [-1, 1] floats, exactly
/// as the PyTorch reference does it (`read_png`, `to_uint8` in aggan_reference.py).
///
/// - In: level `v` of an 8-bit file -> `Float(v) / 127.5 - 1` (float32); 16-bit:
///   `Float(v) / 32767.5 - 1`. This is `Image.toTensor(channels:)`: it computes `2 p - 1`
///   from the stored `p = Float(v) / 255` (resp. 65535), and doubling is exact in binary
///   floating point, so `2 p` is `Float(v) / 127.5` bit for bit (tested for every level).
/// - Out: `y` -> `round((y + 1) * 127.5)` (float32, round half to even, clamped to
///   0...255; NaN -> 0); 16-bit: `(y + 1) * 32767.5` clamped to 0...65535.
/// - Attention maps: `a` -> `round(a * 255)` (resp. 65535), the same rounding.
public enum PixelMapping {
    /// The largest level of a bit depth: 255 or 65535.
    public static func maxLevel(bitDepth: Int) -> Float { bitDepth == 16 ? 65535 : 255 }

    /// Sample `sample` of a [N, C, H, W] tensor in [-1, 1] as an image whose samples are
    /// levels of `bitDepth` (`level / maxLevel`), rounded as the reference does.
    public static func image(fromTensor t: Tensor, sample: Int = 0, bitDepth: Int = 8) throws -> Image {
        try quantized(t, sample: sample, bitDepth: bitDepth, offset: 1,
                      scale: maxLevel(bitDepth: bitDepth) / 2)
    }

    /// An attention map (a [N, 1, H, W] tensor in [0, 1]) as a gray image of levels.
    public static func attentionImage(fromTensor t: Tensor, sample: Int = 0, bitDepth: Int = 8) throws -> Image {
        try quantized(t, sample: sample, bitDepth: bitDepth, offset: 0, scale: maxLevel(bitDepth: bitDepth))
    }

    /// `level(v) = round((v + offset) * scale)`, clamped to the bit depth's levels.
    private static func quantized(_ t: Tensor, sample: Int, bitDepth: Int, offset: Float, scale: Float) throws -> Image {
        let s = t.shape
        guard s.count == 4, s[1] == 1 || s[1] == 3 else {
            throw InferenceError("cannot make an image of a tensor of shape \(s) (needs [N, 1 or 3, H, W])")
        }
        guard sample >= 0, sample < s[0] else {
            throw InferenceError("sample \(sample) is outside 0..<\(s[0])")
        }
        guard bitDepth == 8 || bitDepth == 16 else {
            throw InferenceError("bit depth must be 8 or 16, got \(bitDepth)")
        }
        let count = s[1] * s[2] * s[3], start = sample * count
        let out = levels(t.data[start..<(start + count)], bitDepth: bitDepth, offset: offset, scale: scale)
        return try Image(width: s[3], height: s[2], channels: s[1], pixels: out, bitDepth: bitDepth)
    }

    /// Values in [-1, 1] as samples `level / maxLevel` of `bitDepth`, rounded as
    /// `image(fromTensor:)` does: what a band of a streamed translation is written as.
    public static func samples(_ values: ArraySlice<Float>, bitDepth: Int) -> [Float] {
        levels(values, bitDepth: bitDepth, offset: 1, scale: maxLevel(bitDepth: bitDepth) / 2)
    }

    /// `round((v + offset) * scale)`, clamped to the bit depth's levels, over its top.
    private static func levels(_ values: ArraySlice<Float>, bitDepth: Int, offset: Float, scale: Float) -> [Float] {
        let top = maxLevel(bitDepth: bitDepth)
        var out = [Float](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { d in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<d.count {
                    let level = ((d[i] + offset) * scale).rounded(.toNearestOrEven)
                    o[i] = level.isNaN ? 0 : min(max(level, 0), top) / top
                }
            }
        }
        return out
    }
}

// MARK: - Geometry

/// How an image is padded (by reflection) to a size the networks take: each side a
/// multiple of 4 and at least `ImageTranslator.minimumSide`. The padding is split
/// between both ends (the extra pixel, if any, at the bottom/right); the result is
/// cropped back to `[top, top + height) x [left, left + width)`.
public struct PaddingPlan: Sendable, Equatable {
    /// The image's size.
    public let width: Int, height: Int
    /// The size the networks see.
    public let paddedWidth: Int, paddedHeight: Int
    /// Columns added on the left and rows added on top.
    public let left: Int, top: Int

    /// The plan for a `width` x `height` image (sides positive).
    public init(width: Int, height: Int, multiple: Int = 4, minimum: Int = ImageTranslator.minimumSide) {
        func target(_ n: Int) -> Int { max(minimum, (n + multiple - 1) / multiple * multiple) }
        self.width = width
        self.height = height
        paddedWidth = target(width)
        paddedHeight = target(height)
        left = (paddedWidth - width) / 2
        top = (paddedHeight - height) / 2
    }

    /// True when nothing needs padding.
    public var isIdentity: Bool { paddedWidth == width && paddedHeight == height }
}

/// The index that reflection padding reads for position `i` of an axis of length `n`:
/// PyTorch's "reflect" (`c b | a b c d | c b`, the edge not repeated), applied again as
/// often as needed when the padding is wider than the axis. A 1-pixel axis repeats.
@inline(__always)
func reflectedIndex(_ i: Int, _ n: Int) -> Int {
    if n == 1 { return 0 }
    let period = 2 * (n - 1)
    var k = i % period
    if k < 0 { k += period }
    return k < n ? k : period - k
}

/// A [1, C, H, W] tensor's values, padded by reflection: `top` rows above, `left` columns
/// to the left, to `height` x `width`.
func reflectPadded(_ x: Tensor, top: Int, left: Int, height: Int, width: Int) throws -> Tensor {
    let c = x.shape[1], h = x.shape[2], w = x.shape[3]
    let columns = (0..<width).map { reflectedIndex($0 - left, w) }
    var out = [Float](repeating: 0, count: c * height * width)
    x.data.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for ch in 0..<c {
                for y in 0..<height {
                    let sy = reflectedIndex(y - top, h)
                    let s = (ch * h + sy) * w, d = (ch * height + y) * width
                    for x in 0..<width { dst[d + x] = src[s + columns[x]] }
                }
            }
        }
    }
    return try Tensor(shape: [1, c, height, width], data: out)
}

/// The `height` x `width` window of a [1, C, H, W] tensor whose corner is (`top`, `left`).
func cropped(_ x: Tensor, top: Int, left: Int, height: Int, width: Int) throws -> Tensor {
    let c = x.shape[1], h = x.shape[2], w = x.shape[3]
    guard top >= 0, left >= 0, top + height <= h, left + width <= w else {
        throw InferenceError("internal error: window \(left),\(top) \(width)x\(height) outside \(w)x\(h)")
    }
    var out = [Float]()
    out.reserveCapacity(c * height * width)
    for ch in 0..<c {
        for y in top..<(top + height) {
            let s = (ch * h + y) * w + left
            out.append(contentsOf: x.data[s..<(s + width)])
        }
    }
    return try Tensor(shape: [1, c, height, width], data: out)
}

/// When and how a large image is translated tile by tile.
///
/// Instance normalisation uses the statistics of what the network sees, so a tile is not
/// normalised exactly as the whole image would be: tiled results differ slightly from
/// whole-image results (most where a tile's content differs from the image's average).
/// Overlapping tiles are blended with linear ramps of `overlap` pixels, which hides
/// seams. Images of at most `maxPixels` pixels are translated whole.
public struct TilingOptions: Sendable, Equatable, Codable {
    /// Whether an image of this size is translated in tiles.
    public func tiles(width: Int, height: Int) -> Bool {
        !(height * width <= maxPixels || (height <= tileSize && width <= tileSize))
    }

    /// Images with more pixels than this (width x height) are tiled.
    public var maxPixels: Int
    /// Side of a square tile: a multiple of 4, at least `ImageTranslator.minimumSide`.
    public var tileSize: Int
    /// Pixels shared by neighbouring tiles (0 <= overlap <= tileSize / 2).
    public var overlap: Int

    /// Defaults: tile above 1024 x 1024 pixels, 256-pixel tiles, 32 pixels of overlap.
    public init(maxPixels: Int = 1024 * 1024, tileSize: Int = 256, overlap: Int = 32) {
        self.maxPixels = maxPixels
        self.tileSize = tileSize
        self.overlap = overlap
    }

    /// Never tile.
    public static let never = TilingOptions(maxPixels: .max)

    /// Checks the fields; the error names the bad value.
    public func validate() throws {
        guard maxPixels >= 1 else { throw InferenceError("tiling: the pixel budget must be positive, got \(maxPixels)") }
        guard tileSize >= ImageTranslator.minimumSide, tileSize % 4 == 0 else {
            throw InferenceError("tiling: the tile size must be a multiple of 4 and at least \(ImageTranslator.minimumSide), got \(tileSize)")
        }
        guard overlap >= 0, overlap * 2 <= tileSize else {
            throw InferenceError("tiling: the overlap must be in 0...\(tileSize / 2) for \(tileSize)-pixel tiles, got \(overlap)")
        }
    }

    /// The first index of each tile along an axis of `n` pixels: every `tileSize -
    /// overlap`, the last tile flush with the end. One tile when `n <= tileSize`.
    public func tileStarts(length n: Int) -> [Int] {
        guard n > tileSize else { return [0] }
        let step = tileSize - overlap
        var starts = Array(stride(from: 0, to: n - tileSize, by: step))
        starts.append(n - tileSize)
        return starts
    }

    /// The blending weight of each pixel of a tile starting at `start` (length `length`)
    /// on an axis of `n`: a ramp `(i + 1) / (overlap + 1)` on a side shared with another
    /// tile, 1 elsewhere.
    func weights(start: Int, length: Int, axis n: Int) -> [Float] {
        let hasBefore = start > 0, hasAfter = start + length < n
        let ramp = Float(overlap + 1)
        return (0..<length).map { i in
            var w: Float = 1
            if hasBefore { w = min(w, Float(i + 1) / ramp) }
            if hasAfter { w = min(w, Float(length - i) / ramp) }
            return w
        }
    }
}

// MARK: - Translating one image

/// The result of translating a tensor: attention [1, 1, H, W] in [0, 1], the raw
/// generator output and the composite [1, C, H, W] in [-1, 1], at the input's size.
public struct TensorTranslation {
    /// The attention mask A (before any threshold mode).
    public let attention: Tensor
    /// G(x).
    public let generated: Tensor
    /// The composite with the mask used as the threshold mode says.
    public let composite: Tensor
    /// Tiles used (1 when translated whole).
    public let tiles: Int
}

/// One translated image, quantized to the levels of the output bit depth.
public struct TranslatedImage: Sendable {
    /// The composite, with the model's channel count.
    public let output: Image
    /// The attention mask as a gray image (levels of the same bit depth).
    public let attention: Image
    /// The attention values in [0, 1], `width * height` of them, not quantized.
    public let attentionValues: [Float]
    /// What was done to the input's channels to fit the model.
    public let conversion: ChannelConversion
    /// Tiles used (1 when translated whole).
    public let tiles: Int
}

/// Translates images of any size with a model: pads by reflection to the sizes the
/// networks take and crops back; tiles large images (see `TilingOptions`). Graph
/// recording is off inside. Not thread-safe (it uses the model's layers).
public final class ImageTranslator {
    /// The smallest side the networks take (the 4x down-sampled map must be at least 2
    /// pixels for the residual blocks' reflection padding).
    public static let minimumSide = 8

    /// The model.
    public let model: AGGANModel
    /// a2b (`.st`) or b2a (`.ts`).
    public var direction: Direction
    /// How the attention mask enters the composite.
    public var mode: ThresholdMode
    /// The threshold of the `zero` and `binary` modes.
    public var tau: Float
    /// When to tile.
    public var tiling: TilingOptions
    /// The model's `Config.scale`: the networks see the input resized by it; their
    /// attention and G(x) are resized back and composed with the input at its own size,
    /// so pixels the mask leaves out stay exactly as they were.
    public var scale: Double

    public init(model: AGGANModel, direction: Direction = .st, mode: ThresholdMode = .soft, tau: Float = 0.1,
                tiling: TilingOptions = TilingOptions(), scale: Double = 1) {
        self.model = model
        self.direction = direction
        self.mode = mode
        self.tau = tau
        self.tiling = tiling
        self.scale = scale
    }

    /// Translates a [1, C, H, W] tensor in [-1, 1] of any size (C = the model's channels).
    public func translate(tensor x: Tensor) throws -> TensorTranslation {
        guard x.shape.count == 4, x.shape[0] == 1, x.shape[1] == model.channels else {
            throw InferenceError("cannot translate a tensor of shape \(x.shape) with a model of \(model.channels) channel(s) (needs [1, \(model.channels), H, W])")
        }
        try validateSettings()
        return try Tensor.withoutGrad {
            scale == 1 ? try atModelSize(x) : try rescaledTranslation(x)
        }
    }

    private func atModelSize(_ x: Tensor) throws -> TensorTranslation {
        isTiled(width: x.shape[3], height: x.shape[2]) ? try tiled(x) : try whole(x)
    }

    /// Whether an image of this size (at the networks' scale) is translated in tiles:
    /// more than `tiling.maxPixels` pixels and larger than one tile.
    public func isTiled(width: Int, height: Int) -> Bool { tiling.tiles(width: width, height: height) }

    /// Checks the settings `translate` depends on.
    func validateSettings() throws {
        try tiling.validate()
        guard tau.isFinite else { throw InferenceError("tau must be a number, got \(tau)") }
        guard scale > 0, scale.isFinite else { throw InferenceError("scale must be positive, got \(scale)") }
    }

    /// x resized by `scale` for the networks; A and G(x) resized back (bilinear), then
    /// composed with x as `mode` says.
    private func rescaledTranslation(_ x: Tensor) throws -> TensorTranslation {
        let c = x.shape[1], h = x.shape[2], w = x.shape[3]
        func image(_ t: Tensor) throws -> Image {
            try Image(width: t.shape[3], height: t.shape[2], channels: t.shape[1], pixels: t.data)
        }
        func back(_ t: Tensor) throws -> Tensor {
            try Tensor(shape: [1, t.shape[1], h, w], data: image(t).resized(width: w, height: h).pixels)
        }
        let small = try rescaled(image(x), by: scale)
        guard small.width >= Self.minimumSide, small.height >= Self.minimumSide else {
            throw InferenceError("a \(w) x \(h) image resized by the model's scale \(scale) is \(small.width) x \(small.height), under the \(Self.minimumSide) px the networks take")
        }
        let r = try atModelSize(Tensor(shape: [1, c, small.height, small.width], data: small.pixels))
        let a = try back(r.attention), g = try back(r.generated)
        return TensorTranslation(attention: a, generated: g,
                                 composite: try AGGANModel.compose(mode.apply(a, tau: tau), g, x), tiles: r.tiles)
    }

    /// Translates an image: converts its channels to the model's (gray replicated,
    /// colour to luminance), maps its levels exactly to [-1, 1], translates, and returns
    /// the composite and the attention quantized to `bitDepth` (default: the image's).
    public func translate(_ image: Image, bitDepth: Int? = nil) throws -> TranslatedImage {
        let depth = bitDepth ?? image.bitDepth
        let conversion = try image.conversion(toChannels: model.channels)
        let r = try translate(tensor: image.toTensor(channels: model.channels))
        return TranslatedImage(
            output: try PixelMapping.image(fromTensor: r.composite, bitDepth: depth),
            attention: try PixelMapping.attentionImage(fromTensor: r.attention, bitDepth: depth),
            attentionValues: r.attention.data, conversion: conversion, tiles: r.tiles)
    }

    /// The whole tensor at once, padded and cropped back.
    private func whole(_ x: Tensor) throws -> TensorTranslation {
        let plan = PaddingPlan(width: x.shape[3], height: x.shape[2])
        let input = plan.isIdentity ? x : try reflectPadded(x, top: plan.top, left: plan.left,
                                                            height: plan.paddedHeight, width: plan.paddedWidth)
        let r = try model.translate(input, direction, mode: mode, tau: tau)
        if plan.isIdentity {
            return TensorTranslation(attention: r.attention, generated: r.generated, composite: r.composite, tiles: 1)
        }
        func back(_ t: Tensor) throws -> Tensor {
            try cropped(t, top: plan.top, left: plan.left, height: plan.height, width: plan.width)
        }
        return TensorTranslation(attention: try back(r.attention), generated: try back(r.generated),
                                 composite: try back(r.composite), tiles: 1)
    }

    /// Tile by tile, each tile translated whole, blended with linear ramps.
    private func tiled(_ x: Tensor) throws -> TensorTranslation {
        let c = x.shape[1], h = x.shape[2], w = x.shape[3]
        var att = [Float](repeating: 0, count: h * w)
        var gen = [Float](repeating: 0, count: c * h * w), comp = gen
        let tiles = try tiledRows(height: h, width: w, channels: c, generated: true, band: { _ in (x, 0) }) { band in
            let n = band.rows.count, o = band.rows.lowerBound * w
            att.replaceSubrange(o..<(o + n * w), with: band.attention)
            for ch in 0..<c {
                let from = ch * n * w, to = ch * h * w + o
                gen.replaceSubrange(to..<(to + n * w), with: band.generated[from..<(from + n * w)])
                comp.replaceSubrange(to..<(to + n * w), with: band.composite[from..<(from + n * w)])
            }
        }
        return TensorTranslation(attention: try Tensor(shape: [1, 1, h, w], data: att),
                                 generated: try Tensor(shape: [1, c, h, w], data: gen),
                                 composite: try Tensor(shape: [1, c, h, w], data: comp),
                                 tiles: tiles)
    }

    /// Finished rows of a tiled translation, blended: planar (channel, row, column).
    struct TranslatedRows {
        /// The image rows these are.
        let rows: Range<Int>
        /// `rows.count * width` values.
        let attention: [Float]
        /// `channels * rows.count * width` values, or none when not asked for.
        let generated: [Float]
        let composite: [Float]
    }

    /// The most rows `tiledRows` hands to its `emit` at a time.
    static let emittedRows = 16

    /// The tiled translation of a `height` x `width` image, one row of tiles at a time,
    /// so that only one row of tiles is in memory: `band(rows)` returns a [1, C, H', W]
    /// tensor holding image rows `rows` (the ones a row of tiles covers) and the image
    /// row its first row is; `emit` receives the finished rows in order, top to bottom,
    /// at most `emittedRows` at a time, each pixel blended from its tiles in the same
    /// order and with the same arithmetic whatever `band` returns (so a streamed image
    /// gives the in-memory result bit for bit). Returns the number of tiles.
    func tiledRows(height h: Int, width w: Int, channels c: Int, generated keepGenerated: Bool,
                   band: (Range<Int>) throws -> (tensor: Tensor, top: Int),
                   emit: (TranslatedRows) throws -> Void) throws -> Int {
        let ys = tiling.tileStarts(length: h), xs = tiling.tileStarts(length: w)
        let th = min(tiling.tileSize, h), tw = min(tiling.tileSize, w)
        // Sums over image rows [lo, lo + th): the only rows tiles still add to.
        var lo = 0
        var att = [Float](repeating: 0, count: th * w), total = att
        var comp = [Float](repeating: 0, count: c * th * w)
        var gen = keepGenerated ? comp : []
        // Rows [lo, end) are complete: blended, handed on `emittedRows` at a time (so
        // that what is handed on stays small beside the sums), and the sums moved up.
        func finish(upTo end: Int) throws {
            let n = end - lo
            guard n > 0 else { return }
            for first in stride(from: 0, to: n, by: Self.emittedRows) {
                let k = min(Self.emittedRows, n - first)
                var a = [Float](repeating: 0, count: k * w)
                var g = [Float](repeating: 0, count: keepGenerated ? c * k * w : 0), m = [Float](repeating: 0, count: c * k * w)
                for j in 0..<(k * w) {
                    let o = first * w + j
                    let inv = 1 / total[o]
                    a[j] = att[o] * inv
                    for ch in 0..<c {
                        if keepGenerated { g[ch * k * w + j] = gen[ch * th * w + o] * inv }
                        m[ch * k * w + j] = comp[ch * th * w + o] * inv
                    }
                }
                try emit(TranslatedRows(rows: (lo + first)..<(lo + first + k), attention: a, generated: g, composite: m))
            }
            func shift(_ buffer: inout [Float], planes: Int) {
                for p in 0..<planes {
                    let base = p * th * w
                    buffer.withUnsafeMutableBufferPointer { b in
                        for i in 0..<((th - n) * w) { b[base + i] = b[base + n * w + i] }
                        for i in ((th - n) * w)..<(th * w) { b[base + i] = 0 }
                    }
                }
            }
            shift(&att, planes: 1)
            shift(&total, planes: 1)
            shift(&comp, planes: c)
            if keepGenerated { shift(&gen, planes: c) }
            lo = end
        }
        for y0 in ys {
            try finish(upTo: y0)
            let (x, top) = try band(y0..<(y0 + th))
            let wy = tiling.weights(start: y0, length: th, axis: h)
            for x0 in xs {
                let wx = tiling.weights(start: x0, length: tw, axis: w)
                let r = try whole(cropped(x, top: y0 - top, left: x0, height: th, width: tw))
                let ra = r.attention.data, rg = r.generated.data, rc = r.composite.data
                for y in 0..<th {
                    for xx in 0..<tw {
                        let weight = wy[y] * wx[xx]
                        let o = (y0 - lo + y) * w + x0 + xx, i = y * tw + xx
                        total[o] += weight
                        att[o] += weight * ra[i]
                        for ch in 0..<c {
                            if keepGenerated { gen[ch * th * w + o] += weight * rg[ch * th * tw + i] }
                            comp[ch * th * w + o] += weight * rc[ch * th * tw + i]
                        }
                    }
                }
            }
        }
        try finish(upTo: h)
        return ys.count * xs.count
    }
}

// MARK: - Batch translation (`aggan translate`)

/// The files a batch translation reads and writes, checked before anything is written:
/// inputs exist, no two outputs share a path, no output is an input, and no output
/// exists unless `force`.
public struct TranslationPlan: Sendable, Equatable {
    /// One input and what it becomes.
    public struct Item: Sendable, Equatable {
        /// The image file read (PNG or TIFF).
        public let input: String
        /// `directory/<input's file name>`, its ending changed to the output format's
        /// (`.png`, or `.tif` unless the input already ends in `.tif` or `.tiff`).
        public let output: String
        /// `directory/<input's name without ending>_attention.png` (or `.tif`), when asked for.
        public let attention: String?
        /// The output's format.
        public let format: ImageFileKind
    }

    /// The files, in the order given (a folder's image files sorted by name).
    public let items: [Item]
    /// The output folder.
    public let outputDirectory: String

    /// Plans translating `inputs` (image files, or folders whose `.png`, `.tif` and
    /// `.tiff` files are all taken) into `outputDirectory`, each written as `format`
    /// (default: the input's).
    ///
    /// - Throws: `InferenceError` or `ImagingError` naming the file: an input is missing
    ///   or is a folder without image files; two inputs have the same file name; an output
    ///   would be an input (refused even with `force`); an output exists and `force` is
    ///   false; an output path is a folder; the output folder is a file.
    public init(inputs: [String], outputDirectory: String, attentionMaps: Bool = false, force: Bool = false,
                format: ImageFileKind? = nil) throws {
        guard !inputs.isEmpty else { throw InferenceError("no input files given") }
        let fm = FileManager.default
        var files: [String] = []
        for input in inputs {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: input, isDirectory: &isDirectory) else {
                throw InferenceError("cannot read '\(input)': no such file or folder")
            }
            if isDirectory.boolValue {
                files += try ImageFolder(directory: input).files
            } else {
                files.append(input)
            }
        }
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: outputDirectory, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw InferenceError("cannot write into '\(outputDirectory)': it is a file, not a folder")
        }
        let base = outputDirectory.hasSuffix("/") ? outputDirectory : outputDirectory + "/"
        var items: [Item] = []
        var claimed: [String: String] = [:]  // output path -> the input it comes from
        let inputIdentities = Set(files.compactMap(fileIdentity))
        for file in files {
            let name = String(file.split(separator: "/").last ?? Substring(file))
            let kind = ImageFileKind(path: name)
            let out = format ?? kind ?? .png
            let stem = kind == nil ? name : String(name[..<name.lastIndex(of: ".")!])
            let keepsName = kind == out
            let item = Item(input: file, output: base + (keepsName ? name : stem + out.fileExtension),
                            attention: attentionMaps ? base + stem + "_attention" + out.fileExtension : nil, format: out)
            for path in [item.output, item.attention].compactMap({ $0 }) {
                if let other = claimed[path] {
                    throw InferenceError("'\(file)' and '\(other)' would both be written to '\(path)'; translate them into different folders")
                }
                claimed[path] = file
                if let id = fileIdentity(path), inputIdentities.contains(id) {
                    throw InferenceError("refusing to write '\(path)': it is one of the inputs; choose another output folder")
                }
                if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
                    if isDirectory.boolValue { throw InferenceError("cannot write '\(path)': it is a folder") }
                    if !force { throw InferenceError("cannot write '\(path)': it already exists (use --force to replace it)") }
                }
            }
            items.append(item)
        }
        self.items = items
        self.outputDirectory = outputDirectory
    }
}

/// Device and inode of an existing path (symbolic links followed), nil when absent.
func fileIdentity(_ path: String) -> [UInt64]? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return [UInt64(info.st_dev), UInt64(info.st_ino)]
}

extension ImageTranslator {
    /// Translates every item of `plan` in order, writing each output (and attention map)
    /// atomically (temporary file, then rename).
    ///
    /// - PNG outputs are written at `bitDepth`, default the input's (16 for 16-bit and
    ///   float TIFFs).
    /// - TIFF outputs of TIFF inputs are written as the input was (`TIFFSource.write`):
    ///   the same sample type, value range (the normalisation inverted), planes,
    ///   compression, tiling and metadata; each T or Z plane is translated on its own.
    ///   Attention maps are float32 TIFFs in [0, 1]. A 16-bit input never passes through
    ///   8 bits.
    /// - A TIFF output of a PNG input is a plain TIFF of the PNG's levels.
    ///
    /// Stops at the first input that cannot be read or translated and throws its error
    /// (which names the file); outputs written before stay as they are, and nothing is
    /// written for the failing input.
    ///
    /// - Parameters:
    ///   - read: how TIFF inputs are read (axes, channel, normalisation).
    ///   - warning: called at most once per run, when colour inputs are converted to
    ///     gray for a 1-channel model.
    ///   - progress: called after each item is written.
    ///
    /// Large TIFFs are read, translated and written band by band (`streamedReader`,
    /// `translateStreamed`), with the same result.
    public func run(_ plan: TranslationPlan, bitDepth: Int? = nil, read: ReadOptions = ReadOptions(),
                    warning: (String) -> Void = { _ in },
                    progress: (TranslationPlan.Item, TranslationSummary) -> Void = { _, _ in }) throws {
        if let bitDepth, bitDepth != 8 && bitDepth != 16 {
            throw InferenceError("bit depth must be 8 or 16, got \(bitDepth)")
        }
        do {
            try FileManager.default.createDirectory(atPath: plan.outputDirectory, withIntermediateDirectories: true)
        } catch {
            throw InferenceError("cannot create the output folder '\(plan.outputDirectory)'")
        }
        var warned = false
        for item in plan.items {
            if let reader = try streamedReader(for: item, read: read) {
                let summary = try translateStreamed(reader, to: item.output, attention: item.attention)
                if !warned, summary.conversion == .luminance {
                    warning("colour input (first: '\(item.input)') converted to gray by luminance for a 1-channel model; colour is lost")
                    warned = true
                }
                progress(item, summary)
                continue
            }
            let loaded = try LoadedImage(path: item.input, options: read)
            if item.format == .png && loaded.planes.count > 1 {
                throw InferenceError("cannot write '\(item.output)': '\(item.input)' has \(loaded.planes.count) planes (\(loaded.tiff?.planeAxes.description ?? "")) and a PNG holds one; use --format tiff")
            }
            var results: [TranslatedImage] = []
            for image in loaded.planes {
                if !warned, try image.conversion(toChannels: model.channels) == .luminance {
                    warning("colour input (first: '\(item.input)') converted to gray by luminance for a 1-channel model; colour is lost")
                    warned = true
                }
                do {
                    // TIFF outputs take 16-bit levels; the source's type is restored on writing.
                    results.append(try translate(image, bitDepth: item.format == .tiff ? 16 : bitDepth))
                } catch {
                    throw InferenceError("cannot translate '\(item.input)': \(error)")
                }
            }
            try writeTranslated(results, format: item.format, output: item.output, attention: item.attention,
                                depth: bitDepth ?? loaded.planes[0].bitDepth, tiff: loaded.tiff, channels: model.channels)
            if let last = results.last {
                progress(item, TranslationSummary(tiles: last.tiles, conversion: last.conversion, streamed: false))
            }
        }
    }
}

/// Writes the translations of an input's planes to `output` (and the attention maps to
/// `attention`): a PNG of the first plane at `depth` bits, or a TIFF of the input's kind
/// (`tiff`, else a plain one of `depth` bits) with every plane.
func writeTranslated(_ results: [TranslatedImage], format: ImageFileKind, output: String, attention: String?,
                     depth: Int, tiff: TIFFSource?, channels: Int) throws {
    switch format {
    case .png:
        try results[0].output.writePNG(to: output, bitDepth: depth)
        if let attention { try results[0].attention.writePNG(to: attention, bitDepth: depth) }
    case .tiff:
        let source = tiff ?? TIFFSource.plain(bitDepth: depth, channels: channels)
        try source.write(results.map(\.output), to: output)
        if let attention {
            let maps = try results.map { r in
                try Image(width: r.attention.width, height: r.attention.height, channels: 1,
                          pixels: r.attentionValues, bitDepth: 16)
            }
            try source.attention.write(maps, to: attention)
        }
    }
}
