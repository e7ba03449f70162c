// The enums the command line takes by name: ArgumentParser checks the value and lists
// the choices in --help.
import AGGAN
import Foundation
import ArgumentParser
import Lab
import NeuralNet
import Tensor
import TerminalKit

extension Preset: ExpressibleByArgument {}
extension ThresholdMode: ExpressibleByArgument {}
extension Direction: ExpressibleByArgument {}
extension ExperimentVariant: ExpressibleByArgument {}

extension ColorDepth: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { ["truecolor", "256", "16", "none"] }
}

/// `--threads`, the one place a command takes its compute thread count from. The math
/// runs on the OpenMP team oneDNN uses; `apply()` sizes it for commands that compute on
/// the calling thread (the engine sizes it on its own queue from `EngineOptions`).
struct ThreadOptions: ParsableArguments {
    @Option(help: "Compute threads (default: the cores available).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func apply() { Compute.setThreads(threads) }
}

/// `--checkpoint`, as every command that applies a trained model takes it.
struct CheckpointOption: ParsableArguments {
    @Option(help: "Checkpoint (aggan's, or a weights-only safetensors file of the paper's model).")
    var checkpoint: String

    /// The model, its config (nil for weights-only files) and the file.
    func load() throws -> (model: AGGANModel, config: Config?, file: Safetensors.File) {
        try Checkpoint.loadModel(checkpoint)
    }
}

/// `--scale`: `auto` or a positive factor.
enum ScaleChoice: ExpressibleByArgument, Equatable {
    case auto, factor(Double)
    init?(argument: String) {
        if argument == "auto" { self = .auto; return }
        guard let f = Double(argument), f > 0, f <= 16 else { return nil }
        self = .factor(f)
    }
}
