import Basics
import AGGAN
import Foundation
import Imaging
import Tensor

/// The two unpaired domains, loaded once, and the seeded stream of augmented training
/// pairs drawn from them. Its whole random state goes into checkpoints.
public final class TrainingData {
    public let imagesA: [Image], imagesB: [Image]
    public let namesA: [String], namesB: [String]
    /// Preview samples: fixed centre crops (held-out images when the dataset has them).
    public let previewA: [(name: String, image: Image)], previewB: [(name: String, image: Image)]
    public let augmentation: Augmentation
    public let channels: Int
    public private(set) var sampler: UnpairedSampler
    public private(set) var rng: SplitMix64
    /// Set when colour images were converted to gray for a 1-channel model.
    public let convertedToGray: Bool
    /// Where the cells probably are in each domain (measured on its training images when
    /// first asked for: only a guided run pays for it), for the attention guide.
    public private(set) lazy var priorA: CellPrior = Self.measure(imagesA)
    public private(set) lazy var priorB: CellPrior = Self.measure(imagesB)

    /// The factor every image was resized by when loaded (`Config.scale`).
    public let scale: Double
    /// What `load(scale: nil)` measured and chose, for the run's first line.
    public private(set) var scaleNote: String?

    /// Loads `folders` for a model of `channels` channels and crops of `cropSize`, each
    /// image resized by `scale`; TIFF files by `read` (axes, channel, normalisation), each
    /// T or Z plane one image. `microscopy` adds vertical flips, 90-degree rotations and
    /// native-resolution windows to the spec's augmentation.
    public init(folders: DatasetFolders, channels: Int, cropSize: Int, seed: UInt64, microscopy: Bool = true,
                previewCount: Int = 4, scale: Double = 1, read: ReadOptions = ReadOptions()) throws {
        self.channels = channels
        self.scale = scale
        var converted = false
        func load(_ folder: ImageFolder) throws -> [NamedImage] {
            try folder.loadAll(options: read).map { item in
                if try item.image.conversion(toChannels: channels) == .luminance { converted = true }
                return NamedImage(name: item.name, image: try rescaled(item.image.converted(toChannels: channels), by: scale))
            }
        }
        let a = try load(folders.trainA), b = try load(folders.trainB)
        imagesA = a.map(\.image)
        imagesB = b.map(\.image)
        namesA = a.map(\.name)
        namesB = b.map(\.name)
        convertedToGray = converted
        augmentation = microscopy ? try Augmentation.microscopy(cropSize: cropSize) : try Augmentation(cropSize: cropSize)
        sampler = try UnpairedSampler(countA: imagesA.count, countB: imagesB.count, seed: seed)
        rng = SplitMix64(seed: seed &+ 0xA11)
        func previews(_ held: ImageFolder?, _ train: [Image], _ names: [String]) throws -> [(name: String, image: Image)] {
            let pool: [(String, Image)] = try held.map { f in try load(f).map { ($0.name, $0.image) } } ?? Array(zip(names, train))
            return try pool.prefix(previewCount).map { name, image in (name, try centreCrop(image, cropSize)) }
        }
        previewA = try previews(folders.testA, imagesA, namesA)
        previewB = try previews(folders.testB, imagesB, namesB)
    }

    /// Iterations per epoch: the larger domain's image count.
    public var iterationsPerEpoch: Int { sampler.stepsPerEpoch }

    /// The next augmented pair as [1, C, S, S] tensors in [-1, 1]; `withGuide` adds each
    /// crop's cell prior mask [1, 1, S, S] in 0/1 (from the same pixels: no random draw,
    /// so the stream is the same either way).
    public func next(withGuide: Bool = false) throws -> TrainingPair {
        let (a, b) = sampler.next()
        let s = try augmentation.apply(to: imagesA[a], rng: &rng)
        let t = try augmentation.apply(to: imagesB[b], rng: &rng)
        func guide(_ im: Image, _ prior: CellPrior) throws -> Tensor {
            try Tensor(shape: [1, 1, im.height, im.width], data: prior.mask(im))
        }
        return TrainingPair(s: try s.toTensor(channels: channels), t: try t.toTensor(channels: channels),
                            guide: withGuide ? AttentionGuide(s: try guide(s, priorA), t: try guide(t, priorB),
                                                              cellFractionS: priorA.cellFraction, cellFractionT: priorB.cellFraction) : nil)
    }

    /// The random state for a checkpoint's metadata.
    public func state() throws -> [String: String] {
        let json = JSONEncoder()
        json.outputFormatting = .sortedKeys  // the same state, the same checkpoint bytes
        return ["data.sampler": String(decoding: try json.encode(sampler), as: UTF8.self), "data.rng": String(rng.state)]
    }

    /// Restores what `state()` saved.
    public func restore(_ meta: [String: String]) throws {
        guard let json = meta["data.sampler"], let r = meta["data.rng"].flatMap(UInt64.init),
              let s = try? JSONDecoder().decode(UnpairedSampler.self, from: Data(json.utf8)) else {
            throw EngineError("the checkpoint has no data sampler state (data.sampler, data.rng)")
        }
        guard s.countA == imagesA.count, s.countB == imagesB.count else {
            throw EngineError("the checkpoint was trained on \(s.countA) + \(s.countB) images, the data has \(imagesA.count) + \(imagesB.count)")
        }
        sampler = s
        rng = SplitMix64(seed: r)
    }
}

extension TrainingData {
    /// The median diameter of the cells in the two domains' priors (the mean of the two,
    /// or the one measured), in pixels of the loaded images; nil when neither has cells.
    public var cellDiameter: Double? {
        let d = [priorA.medianDiameter, priorB.medianDiameter].compactMap { $0 }
        return d.isEmpty ? nil : d.reduce(0, +) / Double(d.count)
    }

    /// The scale `--scale auto` takes for these images (loaded at scale 1): the factor
    /// `CellScale` gives for the cells' size, or 1 when that would leave the smallest image
    /// under `cropSize` (resizing small blocks loses detail and gains nothing: the crop is
    /// then a resized whole block anyway). `note` says what was measured and chosen.
    public func automaticScale(cropSize: Int) -> (factor: Double, note: String) {
        guard let d = cellDiameter else { return (1, "no cells found by the prior: scale 1") }
        let f = CellScale.factor(cellDiameter: d, crop: cropSize)
        let size = "cells ~\(Int(d.rounded())) px across"
        if f == 1 { return (1, "\(size): scale 1") }
        let smallest = (imagesA + imagesB).map { min($0.width, $0.height) }.min() ?? 0
        if Double(smallest) * f < Double(cropSize) {
            return (1, "\(size), too \(f < 1 ? "large" : "small") for the \(cropSize) px crop, but images of \(smallest) px cannot be resized by \(Format.value(f)) (build larger images, or blocks with aggan samples, which resizes them): scale 1")
        }
        return (f, "\(size): images resized by \(Format.value(f)) to ~\(Int((d * f).rounded())) px")
    }

    /// Loads the data resized by `scale`, or, when nil, by the factor `automaticScale`
    /// chooses (loading twice when it is not 1); `scaleNote` then says what was chosen.
    public static func load(folders: DatasetFolders, channels: Int, cropSize: Int, seed: UInt64, microscopy: Bool = true,
                            scale: Double?, read: ReadOptions = ReadOptions()) throws -> TrainingData {
        let first = try TrainingData(folders: folders, channels: channels, cropSize: cropSize, seed: seed,
                                     microscopy: microscopy, scale: scale ?? 1, read: read)
        guard scale == nil else { return first }
        let (factor, note) = first.automaticScale(cropSize: cropSize)
        let data = factor == 1 ? first : try TrainingData(folders: folders, channels: channels, cropSize: cropSize, seed: seed,
                                                          microscopy: microscopy, scale: factor, read: read)
        data.scaleNote = note
        return data
    }

    /// The prior of a domain's images (never empty: the loader refuses an empty domain;
    /// an empty one would get a prior that marks nothing).
    static func measure(_ images: [Image]) -> CellPrior {
        (try? CellPrior(measuring: images)) ?? CellPrior(feature: .gray, threshold: 1, cellsAbove: true, cellFraction: 0)
    }
}

/// One training pair and the cell prior masks of its two crops.
public struct TrainingPair {
    public let s: Tensor, t: Tensor
    public let guide: AttentionGuide?
}

/// The centre `size` x `size` crop (the image is first resized up if it is smaller).
func centreCrop(_ image: Image, _ size: Int) throws -> Image {
    var im = image
    if im.width < size || im.height < size {
        let scale = Double(size) / Double(min(im.width, im.height))
        im = try im.resized(width: max(size, Int((Double(im.width) * scale).rounded(.up))),
                            height: max(size, Int((Double(im.height) * scale).rounded(.up))))
    }
    return try im.cropped(x: (im.width - size) / 2, y: (im.height - size) / 2, width: size, height: size)
}

/// An engine error with words.
public struct EngineError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ message: String) { description = message }
}
