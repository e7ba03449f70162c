import AGGAN
import ArgumentParser
import Foundation
import Imaging
import Lab
import TrainingEngine

/// `--tau` as translate and eval take it.
func checkTau(_ tau: Float?) throws {
    if let tau, !(tau >= 0 && tau <= 1) { throw ValidationError("--tau must be in [0, 1], got \(tau)") }
}

struct Translate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Translate PNG or TIFF images of any size with a checkpoint.",
        discussion: """
            Writes each result under the input's file name into the output folder, at the \
            input's bit depth unless --bit-depth says otherwise. A TIFF gives a TIFF of the \
            same sample type, value range, planes (each T or Z plane translated) and \
            metadata, unless --format png; TIFF intensities are normalised as the \
            checkpoint's run was (or --normalize) and mapped back on output. Never overwrites an input. \
            Images larger than --max-pixels are translated in overlapping tiles (instance \
            normalisation makes tiled results differ slightly from whole-image ones).

            Batches: with --recursive, subfolders are walked and their layout kept under \
            --output. Beside each output a hidden record (.NAME.aggan.json) holds the \
            checkpoint's digest and the settings; a rerun skips outputs made by the same \
            checkpoint and settings, so a killed batch continues where it stopped, and \
            refuses to replace other existing files unless --force (which redoes everything). \
            A file that cannot be read, translated or written is reported in one line and \
            the batch goes on; the exit status is 1 when any file failed. --shard K/N takes \
            every N-th file of the sorted inputs, from the K-th (K from 0), for job arrays.
            """)

    @OptionGroup var checkpoint: CheckpointOption
    @Argument(help: "PNG or TIFF files, or folders of them.") var inputs: [String]
    @Option(help: "Output folder (created if missing).") var output: String
    @Option(help: "a2b (S -> T) or b2a (T -> S).") var direction: Direction = .st
    @Option(help: "Threshold mode: soft (A), zero (A * 1[A > tau]) or binary (1[A > tau]).") var mode: ThresholdMode = .soft
    @Option(help: "Threshold of the zero and binary modes (default: the checkpoint's, else 0.1).") var tau: Float?
    @Flag(help: "Also write each attention map as NAME_attention.png (.tif for TIFF outputs: float32).") var attention = false
    @Option(help: "Output format: png or tiff (default: the input's).") var format: ImageFileKind?
    @OptionGroup var tiff: TIFFOptions
    @Flag(help: "Translate every file again and replace existing outputs.") var force = false
    @Option(help: "Output bit depth, 8 or 16 (default: the input's).") var bitDepth: Int?
    @Option(help: "Translate images with more pixels than this in tiles.") var maxPixels: Int = 1024 * 1024
    @Option(help: "Tile side in pixels (a multiple of 4).") var tile: Int = 256
    @Option(help: "Tile overlap in pixels.") var overlap: Int = 32
    @OptionGroup var threads: ThreadOptions
    @OptionGroup var batch: BatchOptions

    func validate() throws {
        try checkTau(tau)
        if let bitDepth, bitDepth != 8 && bitDepth != 16 {
            throw ValidationError("--bit-depth must be 8 or 16, got \(bitDepth)")
        }
        do {
            try TilingOptions(maxPixels: maxPixels, tileSize: tile, overlap: overlap).validate()
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() throws {
        threads.apply()
        let plan = try BatchPlan(inputs: inputs, outputDirectory: output, recursive: batch.recursive,
                                 attentionMaps: attention, format: format, shard: batch.shard.value)
        let (model, config, file) = try checkpoint.load()
        let read = try tiff.read(stored: config?.normalize)
        let translator = ImageTranslator(
            model: model, direction: direction, mode: mode,
            tau: tau ?? config?.tau ?? 0.1,
            tiling: TilingOptions(maxPixels: maxPixels, tileSize: tile, overlap: overlap),
            scale: Checkpoint.scale(config: config, file: file))
        let settings = BatchSettings(checkpoint: try fileDigest(checkpoint.checkpoint), translator: translator,
                                     format: format, bitDepth: bitDepth, attentionMaps: attention, read: read)
        try batch.run(translator, plan, settings: settings, force: force, bitDepth: bitDepth, read: read)
    }
}
