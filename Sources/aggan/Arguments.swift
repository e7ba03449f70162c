// The enums the command line takes by name: ArgumentParser checks the value and lists
// the choices in --help.
import AGGAN
import Foundation
import ArgumentParser
import Imaging
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

extension GraphicsMode: ExpressibleByArgument {}

/// `--threads`, the one place a command takes its compute thread count from. The math
/// runs on the OpenMP team oneDNN uses; `apply()` sizes it for commands that compute on
/// the calling thread (the engine sizes it on its own queue from `EngineOptions`).
struct ThreadOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Compute threads: a number, or auto (the default).",
                               discussion: "auto: train and bench time their steps at every count from all the cores halving down to 1, keep the fastest, and time them again every 100 steps or when steps slow down (another process on a core makes 2 threads slower than 1); the other commands use all the cores (translate: that many files at once, one thread each)."))
    var threads: ThreadCount = .auto

    /// The fixed count, or all the cores for auto.
    var count: Int {
        if case .fixed(let n) = threads { return n }
        return ProcessInfo.processInfo.activeProcessorCount
    }

    /// Whether the count is chosen by timing steps.
    var adaptive: Bool { threads == .auto }

    func validate() throws {
        if case .fixed(let n) = threads, n < 1 { throw ValidationError("--threads must be at least 1 or auto, got \(n)") }
    }

    func apply() { Compute.setThreads(count) }
}

/// `--threads`: `auto` or a count.
enum ThreadCount: ExpressibleByArgument, Equatable {
    case auto, fixed(Int)
    init?(argument: String) {
        if argument == "auto" { self = .auto; return }
        guard let n = Int(argument) else { return nil }
        self = .fixed(n)
    }
    var defaultValueDescription: String { "auto" }
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

/// `--axes`, `--channel`, `--normalize`: how commands that read images read TIFF files.
struct TIFFOptions: ParsableArguments {
    @Option(help: "Axes of multi-page TIFF files whose metadata does not state them, slowest first: CYX, TYX, ZYX, or two with the size of the first, e.g. C2ZYX (never guessed).")
    var axes: String?
    @Option(help: "Channel of multi-channel TIFF files: an index from 0 or a channel name.")
    var channel: String?
    @Option(help: ArgumentHelp("TIFF intensities to [0, 1]: pLOW,pHIGH (per-image percentiles), fixed:LOW,HIGH (stored values) or none (divide by 255 or 65535).",
                               valueName: "p0.1,p99.9"))
    var normalize: String?

    func validate() throws {
        if let normalize { _ = try parse(normalize) }
        if let axes { _ = try parseAxes(axes) }
    }

    /// The normalisation: `--normalize`, else `stored` (a run's), else p0.1,p99.9.
    func normalization(stored: String? = nil) throws -> IntensityNormalization {
        try parse(normalize ?? stored ?? IntensityNormalization.standard.description)
    }

    /// The read options, with `stored` as the normalisation when `--normalize` is absent.
    func read(stored: String? = nil) throws -> ReadOptions {
        ReadOptions(axes: axes, channel: channel, normalization: try normalization(stored: stored))
    }

    private func parse(_ text: String) throws -> IntensityNormalization {
        do { return try IntensityNormalization(parsing: text) } catch { throw ValidationError("\(error)") }
    }

    private func parseAxes(_ text: String) throws -> StackAxes {
        // The page count is the file's; 2 only checks the form here.
        do { return try StackAxes.parse(text, pageCount: text.count > 2 && !text.uppercased().hasPrefix("YX") ? 2 : 1) } catch { throw ValidationError("\(error)") }
    }
}

extension ImageFileKind: ExpressibleByArgument {}
