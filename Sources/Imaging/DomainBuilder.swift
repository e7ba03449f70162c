// Two unpaired domains from one image and its cell mask (`aggan samples`; samples/README.md
// describes the bundled set): disjoint blocks for A, B and a held-out test set; A and
// test blocks degraded only inside the dilated mask.

import Basics
import Foundation

/// Parameters of `DomainDataset`; all of them are recorded in `dataset.json`.
public struct DomainBuildOptions: Sendable, Equatable, Codable {
    /// Side of the square blocks cut on a grid (no overlap; the remainder is dropped).
    public var blockSize: Int = 64
    /// Seed of the block assignment and of the noise.
    public var seed: UInt64 = 0
    /// Fraction of blocks held out for testing (rounded), at least `minimumTestBlocks`.
    public var testFraction: Double = 0.10
    /// The smallest held-out set.
    public var minimumTestBlocks: Int = 2
    /// The mask is dilated by a disk of this radius (pixels) before degrading.
    public var dilation: Int = 2
    /// Cells are pulled toward the background level: `level + gain * (blurred - level)`.
    public var gain: Double = 0.45
    /// Gaussian blur (sigma, pixels) inside the dilated mask.
    public var blurSigma: Double = 1.5
    /// Factor on the estimated background noise that is added inside the dilated mask.
    public var noiseScale: Double = 1.0
    /// The image and mask are resized by this factor before anything else (1: as they
    /// are); `aggan samples` chooses it from the cells' size (`CellScale`).
    public var scale: Double = 1.0

    public init() {}

    enum CodingKeys: String, CodingKey { case blockSize, seed, testFraction, minimumTestBlocks, dilation, gain, blurSigma, noiseScale, scale }

    /// Decodes every field; `scale` may be missing (a dataset.json written before it existed).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        blockSize = try c.decode(Int.self, forKey: .blockSize)
        seed = try c.decode(UInt64.self, forKey: .seed)
        testFraction = try c.decode(Double.self, forKey: .testFraction)
        minimumTestBlocks = try c.decode(Int.self, forKey: .minimumTestBlocks)
        dilation = try c.decode(Int.self, forKey: .dilation)
        gain = try c.decode(Double.self, forKey: .gain)
        blurSigma = try c.decode(Double.self, forKey: .blurSigma)
        noiseScale = try c.decode(Double.self, forKey: .noiseScale)
        scale = try c.decodeIfPresent(Double.self, forKey: .scale) ?? 1
    }
}

/// A block (or any image) with its file name.
public struct NamedImage: Sendable, Equatable {
    /// File name, for example `blk_r03_c05.png`.
    public let name: String
    /// The pixels.
    public let image: Image

    public init(name: String, image: Image) {
        self.name = name
        self.image = image
    }
}

/// What `dataset.json` records: the source, the parameters, the measured background and
/// which block went where.
public struct DomainDatasetInfo: Sendable, Equatable, Codable {
    /// Format tag of the file.
    public var format = "aggan-domains/1"
    /// File name (no folder) of the source image.
    public var image: String
    /// File name (no folder) of the source mask.
    public var mask: String
    /// Width of the source image.
    public var width: Int
    /// Height of the source image.
    public var height: Int
    /// Channels of the source image (and of every block).
    public var channels: Int
    /// Bit depth of the source image (and of every written block but the masks).
    public var bitDepth: Int
    /// The parameters used.
    public var options: DomainBuildOptions
    /// Median of the background (outside the dilated mask), per channel, in [0, 1].
    public var backgroundLevel: [Double]
    /// Estimated background noise standard deviation, per channel, in [0, 1].
    public var backgroundNoise: [Double]
    /// Rows of the block grid.
    public var gridRows: Int
    /// Columns of the block grid.
    public var gridColumns: Int
    /// Blocks of domain A (degraded), sorted.
    public var trainA: [String]
    /// Blocks of domain B (original), sorted.
    public var trainB: [String]
    /// Held-out blocks, sorted.
    public var test: [String]
    /// Median equivalent diameter (pixels) of the source mask's cells, before `options.scale`.
    public var cellDiameter: Double?
}

/// A two-domain dataset built from one image and its 0/255 cell mask.
///
/// - Domain B (`trainB`) holds original blocks; domain A (`trainA`) degraded blocks; the
///   held-out blocks are saved degraded (`testA`), original (`testB_truth`, and again as
///   `testB` for the CycleGAN layout) and as mask crops (`testMasks`).
/// - Degradation happens only inside the mask dilated by `options.dilation`: Gaussian
///   blur, pull toward the background median by `gain`, and Gaussian noise of the
///   background's noise level (estimated from the high-pass residual of pixels whose
///   3 x 3 neighbourhood is background), rounded to the source's levels. Every pixel
///   outside the dilated mask keeps its value exactly.
/// - Deterministic: the same inputs and options give the same blocks.
public struct DomainDataset: Sendable, Equatable {
    /// Degraded training blocks (domain A).
    public let trainA: [NamedImage]
    /// Original training blocks (domain B).
    public let trainB: [NamedImage]
    /// Degraded held-out blocks.
    public let testA: [NamedImage]
    /// The originals of the held-out blocks.
    public let testBTruth: [NamedImage]
    /// The cell mask of the held-out blocks (1 = cell).
    public let testMasks: [NamedImage]
    /// What `dataset.json` records.
    public let info: DomainDatasetInfo
    /// The whole image, degraded inside `degradedRegion`.
    public let degraded: Image
    /// The dilated mask the degradation was confined to.
    public let degradedRegion: PixelMask

    /// Reads the image and the mask files (PNG or TIFF; a TIFF image by `read`, a TIFF
    /// mask as any non-zero value = cell) and builds the dataset (`aggan samples`). Only
    /// the files' names (not their folders) go into `dataset.json`.
    public init(imageFile: String, maskFile: String, options: DomainBuildOptions = DomainBuildOptions(),
                read: ReadOptions = ReadOptions()) throws {
        func name(_ path: String) -> String { String(path.split(separator: "/").last ?? Substring(path)) }
        let image = try LoadedImage(path: imageFile, options: read).single()
        let mask = try LoadedImage(path: maskFile, options: ReadOptions(axes: read.axes, normalization: ReadOptions.mask.normalization)).single()
        try self.init(image: image, mask: mask, options: options, imageName: name(imageFile), maskName: name(maskFile))
    }

    /// Builds the dataset in memory; `imageName` and `maskName` only go into `info`.
    public init(image source: Image, mask sourceMask: Image, options: DomainBuildOptions = DomainBuildOptions(),
                imageName: String = "image.png", maskName: String = "mask.png") throws {
        guard sourceMask.width == source.width, sourceMask.height == source.height else {
            throw ImagingError.invalid("samples", "the mask is \(sourceMask.width) x \(sourceMask.height), the image \(source.width) x \(source.height)")
        }
        let o = options
        guard o.blockSize > 0, o.dilation >= 0, o.gain.isFinite, o.blurSigma >= 0, o.noiseScale >= 0,
              o.testFraction >= 0, o.testFraction < 1, o.minimumTestBlocks >= 1, o.scale > 0, o.scale <= 16 else {
            throw ImagingError.invalid("samples", "invalid options \(o)")
        }
        let (image, maskImage) = try (rescaled(source, by: o.scale), rescaled(sourceMask, by: o.scale, isMask: true))
        let rows = image.height / o.blockSize, columns = image.width / o.blockSize
        let blocks = rows * columns
        let testCount = max(o.minimumTestBlocks, Int((o.testFraction * Double(blocks)).rounded()))
        guard blocks >= testCount + 2 else {
            throw ImagingError.invalid("samples", "a \(image.width) x \(image.height) image gives \(blocks) blocks of \(o.blockSize) px; needs at least \(testCount + 2) (\(testCount) for testing, 1 each for A and B)")
        }
        let cells = PixelMask(maskImage)
        let region = dilate(cells, radius: o.dilation)

        var rng = SplitMix64(seed: o.seed)
        let order = shuffled(Array(0..<blocks), using: &rng)
        let aCount = (blocks - testCount + 1) / 2
        let test = order[0..<testCount].sorted()
        let a = order[testCount..<(testCount + aCount)].sorted()
        let b = order[(testCount + aCount)...].sorted()

        let background = try backgroundStatistics(image, outside: region)
        let degraded = degrade(image, inside: region, level: background.level,
                               noise: background.noise.map { $0 * o.noiseScale },
                               gain: o.gain, sigma: o.blurSigma, rng: &rng)

        let digits = max(2, String(max(rows, columns) - 1).count)
        func name(_ block: Int) -> String {
            func pad(_ v: Int) -> String { String(repeating: "0", count: max(0, digits - String(v).count)) + String(v) }
            return "blk_r\(pad(block / columns))_c\(pad(block % columns)).png"
        }
        func crop(_ source: Image, _ blocks: [Int]) throws -> [NamedImage] {
            try blocks.map { k in
                NamedImage(name: name(k), image: try source.cropped(
                    x: (k % columns) * o.blockSize, y: (k / columns) * o.blockSize,
                    width: o.blockSize, height: o.blockSize))
            }
        }
        trainA = try crop(degraded, a)
        trainB = try crop(image, b)
        testA = try crop(degraded, test)
        testBTruth = try crop(image, test)
        testMasks = try crop(cells.image, test)
        self.degraded = degraded
        degradedRegion = region
        info = DomainDatasetInfo(
            image: imageName, mask: maskName, width: source.width, height: source.height,
            channels: image.channels, bitDepth: image.bitDepth, options: o,
            backgroundLevel: background.level.map(rounded6), backgroundNoise: background.noise.map(rounded6),
            gridRows: rows, gridColumns: columns,
            trainA: a.map(name), trainB: b.map(name), test: test.map(name),
            cellDiameter: CellPrior.medianDiameter(of: PixelMask(sourceMask)).map(rounded6))
    }

    /// The sub-folders (and file) that `write(to:)` creates.
    public static let entries = ["trainA", "trainB", "testA", "testB", "testB_truth", "testMasks", "dataset.json"]

    /// Writes `trainA/`, `trainB/`, `testA/`, `testB/`, `testB_truth/`, `testMasks/` (PNG
    /// at the source's bit depth; masks 8-bit 0/255) and `dataset.json` into `directory`,
    /// creating it if needed.
    ///
    /// - Parameter overwrite: when false, refuses a folder that already holds any of
    ///   `entries`; when true, removes those entries first (nothing else).
    public func write(to directory: String, overwrite: Bool = false) throws {
        let fm = FileManager.default
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        let existing = DomainDataset.entries.filter { fm.fileExists(atPath: base + $0) }
        if !existing.isEmpty {
            guard overwrite else {
                throw ImagingError.write(directory, "already holds \(existing.joined(separator: ", ")); choose another folder or overwrite")
            }
            for entry in existing {
                do { try fm.removeItem(atPath: base + entry) } catch {
                    throw ImagingError.write(base + entry, "cannot remove the old entry")
                }
            }
        }
        let depth = info.bitDepth
        let folders: [(String, [NamedImage], Int)] = [
            ("trainA", trainA, depth), ("trainB", trainB, depth), ("testA", testA, depth),
            ("testB", testBTruth, depth), ("testB_truth", testBTruth, depth), ("testMasks", testMasks, 8),
        ]
        for (folder, images, bits) in folders {
            do {
                try fm.createDirectory(atPath: base + folder, withIntermediateDirectories: true)
            } catch {
                throw ImagingError.write(base + folder, "cannot create the folder")
            }
            for item in images { try item.image.writePNG(to: base + folder + "/" + item.name, bitDepth: bits) }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json: Data
        do { json = try encoder.encode(info) } catch {
            throw ImagingError.write(base + "dataset.json", "cannot encode: \(error)")
        }
        try writeFileAtomically([UInt8](json) + [10], to: base + "dataset.json")
    }
}

private func rounded6(_ v: Double) -> Double { (v * 1e6).rounded() / 1e6 }

/// `image` resized by `factor` (each side rounded, at least 1 pixel): bilinear, after a
/// Gaussian blur of sigma (1/factor - 1)/2 when shrinking (against aliasing). A mask is
/// resized the same way and thresholded at half its maximum, so it stays two-valued.
public func rescaled(_ image: Image, by factor: Double, isMask: Bool = false) throws -> Image {
    if factor == 1 { return image }
    let w = max(1, Int((Double(image.width) * factor).rounded())), h = max(1, Int((Double(image.height) * factor).rounded()))
    let smoothed = factor < 1 ? gaussianBlur(image, sigma: (1 / factor - 1) / 2) : image
    let out = try smoothed.resized(width: w, height: h)
    guard isMask else { return out }
    let top = image.pixels.max() ?? 1
    return try Image(width: w, height: h, channels: image.channels, pixels: out.pixels.map { $0 >= top / 2 && top > 0 ? top : 0 },
                     bitDepth: image.bitDepth)
}

// MARK: - Pieces

/// `mask` grown by a disk of `radius` pixels (offsets with dx^2 + dy^2 <= radius^2).
public func dilate(_ mask: PixelMask, radius: Int) -> PixelMask {
    guard radius > 0 else { return mask }
    var offsets: [(Int, Int)] = []
    for dy in -radius...radius { for dx in -radius...radius where dx * dx + dy * dy <= radius * radius { offsets.append((dx, dy)) } }
    let w = mask.width, h = mask.height
    var out = mask.bits
    for y in 0..<h {
        for x in 0..<w where mask.bits[y * w + x] {
            for (dx, dy) in offsets {
                let nx = x + dx, ny = y + dy
                if nx >= 0, nx < w, ny >= 0, ny < h { out[ny * w + nx] = true }
            }
        }
    }
    return PixelMask(uncheckedWidth: w, height: h, bits: out)
}

/// Separable Gaussian blur of every channel; taps to 4 sigma, borders mirrored
/// (`d c b a | a b c d`, scipy's "reflect"). sigma 0 returns the image.
public func gaussianBlur(_ image: Image, sigma: Double) -> Image {
    guard sigma > 0 else { return image }
    let radius = Int(4 * sigma + 0.5)
    var taps = (-radius...radius).map { exp(-0.5 * Double($0 * $0) / (sigma * sigma)) }
    let total = taps.reduce(0, +)
    taps = taps.map { $0 / total }
    func mirror(_ i: Int, _ n: Int) -> Int {
        var i = i
        while i < 0 || i >= n { i = i < 0 ? -i - 1 : 2 * n - i - 1 }
        return i
    }
    let w = image.width, h = image.height
    var out = image.pixels
    var row = [Double](repeating: 0, count: w * h)
    for c in 0..<image.channels {
        let p = c * w * h
        for y in 0..<h {
            for x in 0..<w {
                var s = 0.0
                for k in -radius...radius { s += taps[k + radius] * Double(image.pixels[p + y * w + mirror(x + k, w)]) }
                row[y * w + x] = s
            }
        }
        for y in 0..<h {
            for x in 0..<w {
                var s = 0.0
                for k in -radius...radius { s += taps[k + radius] * row[mirror(y + k, h) * w + x] }
                out[p + y * w + x] = Float(s)
            }
        }
    }
    return image.with(pixels: out)
}

/// Per channel: the median of the pixels outside `region`, and the noise standard
/// deviation `sqrt(9/8) * std(v - mean3x3(v))` over pixels whose whole 3 x 3
/// neighbourhood is outside `region` (the plain standard deviation of the background
/// when fewer than 16 such pixels exist).
func backgroundStatistics(_ image: Image, outside region: PixelMask) throws -> (level: [Double], noise: [Double]) {
    let w = image.width, h = image.height
    let backgroundCount = region.bits.count - region.count
    guard backgroundCount > 0 else {
        throw ImagingError.invalid("samples", "the dilated mask covers the whole image; no background to measure")
    }
    var levels: [Double] = [], noises: [Double] = []
    for c in 0..<image.channels {
        let plane = image.plane(c)
        let base = plane.startIndex
        var values = [Float]()
        values.reserveCapacity(backgroundCount)
        for i in 0..<(w * h) where !region.bits[i] { values.append(plane[base + i]) }
        values.sort()
        let mid = values.count / 2
        levels.append(values.count % 2 == 1 ? Double(values[mid]) : (Double(values[mid - 1]) + Double(values[mid])) / 2)

        var sum = 0.0, sumSq = 0.0, n = 0
        if w >= 3 && h >= 3 {
            for y in 1..<(h - 1) {
                for x in 1..<(w - 1) {
                    var mean = 0.0, clear = true
                    for dy in -1...1 {
                        for dx in -1...1 {
                            let j = (y + dy) * w + x + dx
                            if region.bits[j] { clear = false }
                            mean += Double(plane[base + j])
                        }
                    }
                    guard clear else { continue }
                    let r = Double(plane[base + y * w + x]) - mean / 9
                    sum += r; sumSq += r * r; n += 1
                }
            }
        }
        if n >= 16 {
            let m = sum / Double(n)
            noises.append((max(sumSq / Double(n) - m * m, 0) * 9 / 8).squareRoot())
        } else {
            let m = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
            let v = values.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(values.count)
            noises.append(v.squareRoot())
        }
    }
    return (levels, noises)
}

/// Inside `region`: `level + gain * (blurred - level) + noise * N(0, 1)`, rounded to
/// the image's levels and clamped to [0, 1]. Outside: the input values, unchanged.
/// Noise is drawn channel by channel, pixel by pixel in raster order.
func degrade(_ image: Image, inside region: PixelMask, level: [Double], noise: [Double],
             gain: Double, sigma: Double, rng: inout SplitMix64) -> Image {
    let blurred = gaussianBlur(image, sigma: sigma)
    let maxLevel: Double = image.bitDepth == 16 ? 65535 : 255
    let n = image.planeSize
    var out = image.pixels
    for c in 0..<image.channels {
        for i in 0..<n where region.bits[i] {
            let v = level[c] + gain * (Double(blurred.pixels[c * n + i]) - level[c]) + noise[c] * rng.nextNormal()
            out[c * n + i] = Float((min(max(v, 0), 1) * maxLevel).rounded()) / Float(maxLevel)
        }
    }
    return image.with(pixels: out)
}
