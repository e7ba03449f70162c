import AGGAN
import ArgumentParser
import Foundation
import Imaging
import Lab
import TrainingEngine

struct Experiment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train AGGAN and the CycleGAN baseline with the same budget and compare them on held-out pairs.",
        discussion: """
            For each seed, trains each variant (one after another, never in parallel) on a \
            dataset built by `aggan samples`, with the same preset, overrides and budget: \
            --minutes of wall clock per run (the schedule's epochs are fitted to it from a \
            short timing, unless --epochs is given) or --steps iterations per run (the same \
            numbers whatever the machine's load). Then evaluates each run, and the identity, \
            on the held-out pairs (as `aggan eval`, soft attention, IoU at the config's tau) \
            and writes into --out: results.md (mean and spread over seeds, attention failures \
            counted, the checks of the background/cell/attention claims, one row per run), \
            results.json, figure.png (input | attention | AGGAN | CycleGAN | truth for a few \
            held-out crops) and runs/<variant>-seed<k>/ (config, losses, final checkpoint). \
            Overrides apply to both variants; the attention options do nothing to CycleGAN.
            """)

    @Option(help: "Dataset folder from `aggan samples` (trainA, trainB, testA, testB_truth, testMasks).") var data: String
    @Option(help: "Wall-clock minutes per run.") var minutes: Double?
    @Option(help: "Iterations per run, instead of --minutes.") var steps: Int?
    @Option(help: "Number of seeds (first-seed, first-seed + 1, ...).") var seeds: Int = 1
    @Option(help: "The first seed.") var firstSeed: UInt64 = 0
    @Option(help: "Comma-separated variants: aggan, cyclegan.",
            transform: { text in
                try text.split(separator: ",").map { name in
                    let n = name.trimmingCharacters(in: .whitespaces).lowercased()
                    guard let v = ExperimentVariant(rawValue: n) else {
                        throw ValidationError("unknown variant '\(n)' in --variants (choose aggan, cyclegan)")
                    }
                    return v
                }
            })
    var variants: [ExperimentVariant] = [.aggan, .cyclegan]
    @Option(help: "Output folder (default experiments/<timestamp>).") var out: String?
    @Option(help: "Schedule length in epochs (default: fitted to --minutes, or just covering --steps).") var epochs: Int?
    @OptionGroup var threads: ThreadOptions
    @Option(help: "Held-out crops in the figure.") var figureCrops: Int = 4
    @Option(help: "Image channels (1 or 3); default: 3 if the first trainA image has colour, else 1.") var channels: Int?
    @OptionGroup var model: ModelOptions
    @Flag(help: "Only the spec's augmentation (no vertical flips or 90-degree rotations).") var noMicroscopyAugmentation = false

    func validate() throws {
        guard (minutes == nil) != (steps == nil) else { throw ValidationError("give either --minutes or --steps") }
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1, got \(seeds)") }
    }

    func run() throws {
        var config = model.config
        let folders = try DatasetFolders(cycleGANRoot: data)
        if let channels {
            config.channels = channels
        } else {
            config.channels = try firstImageChannels(folders.trainA, read: ReadOptions())
        }
        try config.validate()

        var plan = ExperimentPlan(data: data, config: config, variants: variants,
                                  seeds: (0..<UInt64(seeds)).map { firstSeed &+ $0 },
                                  budget: minutes.map { .minutes($0) } ?? .steps(steps ?? 1))
        plan.epochs = epochs
        plan.threads = threads.count
        plan.figureCrops = figureCrops
        plan.microscopyAugmentation = !noMicroscopyAugmentation
        plan.scale = model.fixedScale
        try plan.validate()
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let folder = out ?? "experiments/\(stamp)"
        let command = (["aggan"] + CommandLine.arguments.dropFirst()).map(quoted).joined(separator: " ")
        let runner = ExperimentRunner(plan: plan, out: folder, command: command) { line in
            FileHandle.standardError.write(Data("\(line)\n".utf8))
        }
        let result = try runner.run()
        print(result.markdown())
        print("wrote \(runner.markdownFile), \(runner.jsonFile)" + (result.figure == nil ? "" : ", \(runner.figureFile)"))
    }
}

/// An argument as a shell would need it.
private func quoted(_ s: String) -> String {
    s.allSatisfy { $0.isLetter || $0.isNumber || "-_./=,:+".contains($0) } && !s.isEmpty ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
