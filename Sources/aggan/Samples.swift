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
        let dataset = try DomainDataset(imageFile: image, maskFile: mask, options: options, read: tiff.read())
        try dataset.write(to: out, overwrite: force)
        let info = dataset.info
        print("wrote \(out): \(info.trainA.count) blocks in trainA, \(info.trainB.count) in trainB, \(info.test.count) held out (testA, testB_truth, testMasks), \(block) px, seed \(seed)")
    }
}

/// A failure of `aggan samples` that is about files, not about the arguments.
struct SamplesError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
