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

    /// Loads `folders` for a model of `channels` channels and crops of `cropSize`.
    /// `microscopy` adds vertical flips and 90-degree rotations to the spec's augmentation.
    public init(folders: DatasetFolders, channels: Int, cropSize: Int, seed: UInt64, microscopy: Bool = true,
                previewCount: Int = 4) throws {
        self.channels = channels
        var converted = false
        func load(_ folder: PNGFolder) throws -> [Image] {
            try folder.loadAll().map { image in
                if try image.conversion(toChannels: channels) == .luminance { converted = true }
                return try image.converted(toChannels: channels)
            }
        }
        imagesA = try load(folders.trainA)
        imagesB = try load(folders.trainB)
        namesA = folders.trainA.names
        namesB = folders.trainB.names
        convertedToGray = converted
        augmentation = microscopy ? try Augmentation.microscopy(cropSize: cropSize) : try Augmentation(cropSize: cropSize)
        sampler = try UnpairedSampler(countA: imagesA.count, countB: imagesB.count, seed: seed)
        rng = SplitMix64(seed: seed &+ 0xA11)
        func previews(_ held: PNGFolder?, _ train: [Image], _ names: [String]) throws -> [(name: String, image: Image)] {
            let pool: [(String, Image)] = try held.map { f in zip(f.names, try load(f)).map { ($0, $1) } } ?? Array(zip(names, train))
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
                            guide: withGuide ? (try guide(s, priorA), try guide(t, priorB)) : nil)
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
    /// The prior of a domain's images (never empty: the loader refuses an empty domain;
    /// an empty one would get a prior that marks nothing).
    static func measure(_ images: [Image]) -> CellPrior {
        (try? CellPrior(measuring: images)) ?? CellPrior(feature: .gray, threshold: 1, cellsAbove: true, cellFraction: 0)
    }
}

/// One training pair and the cell prior masks of its two crops.
public struct TrainingPair {
    public let s: Tensor, t: Tensor
    public let guide: (s: Tensor, t: Tensor)?
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
