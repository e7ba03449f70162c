import ArgumentParser
import Foundation
import Imaging

struct Samples: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a two-domain dataset from one image and its cell mask.",
        discussion: """
            Cuts the image into blocks and gives disjoint blocks to domain A (cells degraded \
            inside the dilated mask), domain B (as they are) and a held-out set saved as \
            testA (degraded), testB_truth (original) and testMasks. Deterministic by seed.
            """)

    @Option(help: "The image (PNG or TIFF).") var image: String
    @Option(help: "Its cell mask (PNG or TIFF, 0 = background, non-zero = cell; a TIFF label image works).") var mask: String
    @OptionGroup var tiff: TIFFOptions
    @Option(help: "Output folder (created if missing).") var out: String
    @Option(help: "Seed of the block assignment and the noise.") var seed: UInt64 = 0
    @Option(help: "Side of the square blocks in pixels.") var block: Int = 64
    @Option(help: ArgumentHelp("Resize the image and mask by this factor first, or 'auto': measured from the mask's cells so they are 1/16 to 1/2 of a block across (resized to 3/8 when not).", valueName: "auto|factor"))
    var scale: ScaleChoice = .auto
    @Flag(help: "Replace the dataset entries already in the output folder.") var force = false

    func validate() throws {
        guard block >= 8 else { throw ValidationError("--block must be at least 8, got \(block)") }
    }

    func run() throws {
        let base = out.hasSuffix("/") ? out : out + "/"
        let existing = DomainDataset.entries.filter { FileManager.default.fileExists(atPath: base + $0) }
        if !force && !existing.isEmpty {
            throw SamplesError("'\(out)' already holds \(existing.joined(separator: ", ")); use --force to replace them or choose another folder")
        }
        var options = DomainBuildOptions()
        options.seed = seed
        options.blockSize = block
        let read = try tiff.read()
        let source = try LoadedImage(path: image, options: read).single()
        let sourceMask = try LoadedImage(path: mask, options: ReadOptions(axes: read.axes, normalization: ReadOptions.mask.normalization)).single()
        let diameter = CellPrior.medianDiameter(of: PixelMask(sourceMask))
        switch scale {
        case .auto: options.scale = CellScale.factor(cellDiameter: diameter, crop: block)
        case .factor(let f): options.scale = f
        }
        let dataset = try DomainDataset(image: source, mask: sourceMask, options: options,
                                        imageName: Self.fileName(image), maskName: Self.fileName(mask))
        try dataset.write(to: out, overwrite: force)
        let info = dataset.info
        let size = diameter.map { String(format: "cells ~%.0f px across", $0) } ?? "no cells in the mask"
        let resized = options.scale == 1 ? "" : String(format: ", resized by %.3g to ~%.0f px", options.scale, (diameter ?? 0) * options.scale)
        print("\(size)\(resized) (scale \(scale == .auto ? "auto" : "given"))")
        print("wrote \(out): \(info.trainA.count) blocks in trainA, \(info.trainB.count) in trainB, \(info.test.count) held out (testA, testB_truth, testMasks), \(block) px, seed \(seed)")
    }
}

extension Samples {
    /// A path's last component: only file names (not folders) go into dataset.json.
    static func fileName(_ path: String) -> String { String(path.split(separator: "/").last ?? Substring(path)) }
}

/// A failure of `aggan samples` that is about files, not about the arguments.
struct SamplesError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
