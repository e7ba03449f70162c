// Folders of image files (PNG and TIFF), the CycleGAN layout, and the unpaired sampler.

import Basics
import Dispatch
import Foundation

/// The image files of one directory: names ending in `.png`, `.tif` or `.tiff` (any
/// case), not hidden, sorted by name (byte order), so the same folder always gives the
/// same order. PNG and TIFF files may be mixed.
public struct ImageFolder: Sendable, Equatable {
    /// The directory as given.
    public let directory: String
    /// Full paths (`directory/name`) of the image files, sorted by name.
    public let files: [String]

    /// Lists `directory`.
    ///
    /// - Throws: `ImagingError` when the directory is missing, is not a directory, or
    ///   holds no image file.
    public init(directory: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw ImagingError.read(directory, .fileMissing, "no such folder")
        }
        guard isDirectory.boolValue else {
            throw ImagingError.read(directory, .invalidArgument, "not a folder")
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw ImagingError.read(directory, .readFailed, "cannot list the folder")
        }
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        let pngs = names
            .filter { !$0.hasPrefix(".") && ImageFileKind(path: $0) != nil }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            .map { base + $0 }
            .filter { path in
                var dir: ObjCBool = false
                return FileManager.default.fileExists(atPath: path, isDirectory: &dir) && !dir.boolValue
            }
        guard !pngs.isEmpty else {
            throw ImagingError.read(directory, .noImages, "no .png, .tif or .tiff files in the folder")
        }
        self.directory = directory
        self.files = pngs
    }

    /// File names without the folder, in order.
    public var names: [String] { files.map { String($0.split(separator: "/").last ?? Substring($0)) } }

    /// Reads every file (see `loadImageFiles`): one image per file and per T/Z plane of
    /// a TIFF stack, named `file` or `file[t03]`.
    public func loadAll(options: ReadOptions = ReadOptions()) throws -> [NamedImage] {
        zip(names, try loadImageFiles(files, options: options)).flatMap { name, loaded in
            zip(loaded.names(name), loaded.planes).map { NamedImage(name: $0, image: $1) }
        }
    }
}

/// Reads image files (PNG or TIFF, see `LoadedImage`) in parallel (one task per file, as
/// many threads as cores), keeping their order.
///
/// - Throws: the error of the first file (in the given order) that cannot be read; its
///   text names the file.
public func loadImageFiles(_ paths: [String], options: ReadOptions = ReadOptions()) throws -> [LoadedImage] {
    var results = [Result<LoadedImage, ImagingError>?](repeating: nil, count: paths.count)
    results.withUnsafeMutableBufferPointer { buffer in
        let out = DisjointSlots(buffer: buffer)
        DispatchQueue.concurrentPerform(iterations: paths.count) { i in
            do {
                out[i] = .success(try LoadedImage(path: paths[i], options: options))
            } catch let error as ImagingError {
                out[i] = .failure(error)
            } catch {
                out[i] = .failure(ImagingError.read(paths[i], .readFailed, "\(error)"))
            }
        }
    }
    return try results.map { result in
        switch result {
        case .success(let image): return image
        case .failure(let error): throw error
        case nil: throw ImagingError(.readFailed, "internal error: an image was not loaded")
        }
    }
}

/// A buffer that parallel iterations write into, each iteration to its own index only,
/// so no two threads ever touch the same element.
private struct DisjointSlots<Element>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Element>
    subscript(i: Int) -> Element {
        get { buffer[i] }
        nonmutating set { buffer[i] = newValue }
    }
}

/// Lists and reads all image files of a folder: what `aggan bench-load` times.
public func loadImageFolder(_ directory: String, options: ReadOptions = ReadOptions()) throws -> [Image] {
    try ImageFolder(directory: directory).loadAll(options: options).map(\.image)
}

/// Where the images of the two domains are: the CycleGAN layout or explicit folders.
public struct DatasetFolders: Sendable, Equatable {
    /// Training images of domain A (source).
    public let trainA: ImageFolder
    /// Training images of domain B (target).
    public let trainB: ImageFolder
    /// Test images of domain A, when present.
    public let testA: ImageFolder?
    /// Test images of domain B, when present.
    public let testB: ImageFolder?

    /// The CycleGAN layout: `root/trainA`, `root/trainB` (required), `root/testA`,
    /// `root/testB` (optional).
    public init(cycleGANRoot root: String) throws {
        let base = root.hasSuffix("/") ? root : root + "/"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ImagingError.read(root, .fileMissing, "no such dataset folder")
        }
        for needed in ["trainA", "trainB"] where !FileManager.default.fileExists(atPath: base + needed) {
            throw ImagingError.read(root, .fileMissing, "a CycleGAN dataset needs the folders trainA and trainB; '\(needed)' is missing")
        }
        trainA = try ImageFolder(directory: base + "trainA")
        trainB = try ImageFolder(directory: base + "trainB")
        testA = FileManager.default.fileExists(atPath: base + "testA") ? try ImageFolder(directory: base + "testA") : nil
        testB = FileManager.default.fileExists(atPath: base + "testB") ? try ImageFolder(directory: base + "testB") : nil
    }

    /// Explicit domain folders (`--domain-a DIR --domain-b DIR`), without test folders.
    public init(domainA: String, domainB: String) throws {
        trainA = try ImageFolder(directory: domainA)
        trainB = try ImageFolder(directory: domainB)
        testA = nil
        testB = nil
    }
}

/// A held-out test sample made by `DomainBuilder`: the degraded block, its original and
/// its cell mask.
public struct HeldOutSample: Sendable, Equatable {
    /// File name, for example `blk_r03_c05.png`.
    public let name: String
    /// From `testA/`: the degraded block (the model's input).
    public let degraded: Image
    /// From `testB_truth/`: the original block.
    public let truth: Image
    /// From `testMasks/`: the cells.
    public let mask: PixelMask

    /// Reads the held-out set of a dataset built by `DomainBuilder`: the files of
    /// `root/testA`, matched by name in `root/testB_truth` and `root/testMasks`, one
    /// plane each (masks: any non-zero value is a cell).
    public static func loadAll(root: String, options: ReadOptions = ReadOptions()) throws -> [HeldOutSample] {
        try load(root: root, names: names(root: root), options: options)
    }

    /// The file names of `root/testA`, sorted (byte order).
    public static func names(root: String) throws -> [String] {
        try ImageFolder(directory: (root.hasSuffix("/") ? root : root + "/") + "testA").names
    }

    /// Reads the samples `names` (file names of `root/testA`) as `loadAll` does.
    public static func load(root: String, names: [String], options: ReadOptions = ReadOptions()) throws -> [HeldOutSample] {
        let base = root.hasSuffix("/") ? root : root + "/"
        let degraded = try loadImageFiles(names.map { base + "testA/" + $0 }, options: options).map { try $0.single() }
        let truths = try loadImageFiles(names.map { base + "testB_truth/" + $0 }, options: options).map { try $0.single() }
        let masks = try loadImageFiles(names.map { base + "testMasks/" + $0 }, options: .mask).map { try $0.single() }
        return try names.indices.map { i in
            guard degraded[i].width == truths[i].width, degraded[i].height == truths[i].height,
                  degraded[i].channels == truths[i].channels,
                  masks[i].width == truths[i].width, masks[i].height == truths[i].height else {
                throw ImagingError.read(base + "testB_truth/" + names[i], .invalidArgument,
                                        "size does not match testA/\(names[i]) or testMasks/\(names[i])")
            }
            return HeldOutSample(name: names[i], degraded: degraded[i], truth: truths[i], mask: PixelMask(masks[i]))
        }
    }
}

// MARK: - Sampling

/// Fisher-Yates shuffle driven by `rng` (the same permutation for the same state on
/// every platform and Swift version that keeps `SplitMix64.nextInt(below:)`).
func shuffled<T>(_ items: [T], using rng: inout SplitMix64) -> [T] {
    var out = items
    if out.count < 2 { return out }
    for i in stride(from: out.count - 1, to: 0, by: -1) {
        out.swapAt(i, rng.nextInt(below: i + 1))
    }
    return out
}

/// Draws an A index and an independent B index per step, each domain walking through
/// its own seeded permutation and reshuffling when it has been used up.
///
/// An epoch is `max(countA, countB)` steps (as in CycleGAN). The whole state is a value:
/// encode it into a checkpoint and a resumed run draws the same indices bit for bit.
public struct UnpairedSampler: Sendable, Equatable, Codable {
    /// Images in domain A.
    public let countA: Int
    /// Images in domain B.
    public let countB: Int
    /// Steps drawn so far.
    public private(set) var step: Int
    /// The generator behind the permutations.
    public private(set) var rng: SplitMix64
    private var orderA: [Int]
    private var orderB: [Int]
    private var cursorA: Int
    private var cursorB: Int

    /// A sampler for `countA` and `countB` images (both at least 1), seeded.
    public init(countA: Int, countB: Int, seed: UInt64) throws {
        guard countA > 0, countB > 0 else {
            throw ImagingError(.noImages, "an unpaired sampler needs images in both domains, got \(countA) in A and \(countB) in B")
        }
        self.countA = countA
        self.countB = countB
        step = 0
        rng = SplitMix64(seed: seed)
        orderA = []
        orderB = []
        cursorA = 0
        cursorB = 0
        orderA = shuffled(Array(0..<countA), using: &rng)
        orderB = shuffled(Array(0..<countB), using: &rng)
    }

    /// Steps in one epoch: `max(countA, countB)`.
    public var stepsPerEpoch: Int { max(countA, countB) }

    /// The epoch the next step belongs to (from 0).
    public var epoch: Int { step / stepsPerEpoch }

    /// The next pair of indices.
    public mutating func next() -> (a: Int, b: Int) {
        if cursorA == countA { orderA = shuffled(orderA, using: &rng); cursorA = 0 }
        if cursorB == countB { orderB = shuffled(orderB, using: &rng); cursorB = 0 }
        defer { cursorA += 1; cursorB += 1; step += 1 }
        return (orderA[cursorA], orderB[cursorB])
    }

    private enum CodingKeys: String, CodingKey {
        case countA, countB, step, rngState, orderA, orderB, cursorA, cursorB
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        countA = try c.decode(Int.self, forKey: .countA)
        countB = try c.decode(Int.self, forKey: .countB)
        step = try c.decode(Int.self, forKey: .step)
        rng = SplitMix64(seed: try c.decode(UInt64.self, forKey: .rngState))
        orderA = try c.decode([Int].self, forKey: .orderA)
        orderB = try c.decode([Int].self, forKey: .orderB)
        cursorA = try c.decode(Int.self, forKey: .cursorA)
        cursorB = try c.decode(Int.self, forKey: .cursorB)
        guard countA > 0, countB > 0, step >= 0,
              orderA.sorted() == Array(0..<countA), orderB.sorted() == Array(0..<countB),
              (0...countA).contains(cursorA), (0...countB).contains(cursorB) else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath,
                                                    debugDescription: "inconsistent unpaired sampler state"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(countA, forKey: .countA)
        try c.encode(countB, forKey: .countB)
        try c.encode(step, forKey: .step)
        try c.encode(rng.state, forKey: .rngState)
        try c.encode(orderA, forKey: .orderA)
        try c.encode(orderB, forKey: .orderB)
        try c.encode(cursorA, forKey: .cursorA)
        try c.encode(cursorB, forKey: .cursorB)
    }
}
