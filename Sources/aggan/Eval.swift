import AGGAN
import ArgumentParser
import Lab
import TrainingEngine

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a checkpoint on held-out pairs and masks.",
        discussion: """
            Reads DIR/testA, DIR/testB_truth and DIR/testMasks (as `aggan samples` writes \
            them), translates testA a2b and compares, with the truth, the model, the \
            identity (input unchanged) and the same checkpoint with attention forced to 1 \
            (CycleGAN-style full-image change): PSNR, SSIM, PSNR and MAE inside and outside \
            the mask, background drift, the mean level inside the mask, and the IoU and Dice \
            of the thresholded attention.

            Large sets: --shard K/N measures every N-th sample by file name, from the K-th \
            (K from 0); --results FILE appends one JSON line per sample as it is measured \
            and takes the samples already in it (same checkpoint and settings) from it, so \
            a killed evaluation continues where it stopped. The shards' files concatenated \
            into one, given as --results without --shard, give the whole set's report \
            without measuring anything again.
            """)

    @OptionGroup var checkpoint: CheckpointOption
    @Option(help: "Dataset folder with testA, testB_truth and testMasks.") var data: String
    @Option(help: "Threshold mode of the model: soft, zero or binary.") var mode: ThresholdMode = .soft
    @Option(help: "Threshold of the mode and of the attention IoU (default: the checkpoint's, else 0.1).") var tau: Float?
    @OptionGroup var tiff: TIFFOptions
    @OptionGroup var threads: ThreadOptions
    @OptionGroup var shard: ShardOption
    @Option(help: "JSON-lines file of per-sample results: samples in it are not measured again, new ones are appended.")
    var results: String?
    @Flag(help: "Print a JSON object (means and per-sample values) instead of the table.") var json = false

    func validate() throws {
        try checkTau(tau)
    }

    func run() throws {
        threads.apply()
        let report = try Evaluation.evaluate(checkpoint: checkpoint.checkpoint, data: data, mode: mode, tau: tau,
                                             axes: tiff.axes, channel: tiff.channel,
                                             normalization: tiff.normalize == nil ? nil : tiff.normalization(),
                                             shard: shard.value, results: results)
        print(json ? try report.json() : report.table())
    }
}
