import Basics
import AGGAN
import ArgumentParser
import Foundation
import Imaging
import Tensor
import TerminalKit
import TrainingEngine

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train AGGAN (or the CycleGAN baseline) on two unpaired image folders.",
        discussion: """
            Opens the dashboard when standard output is a terminal; prints progress lines \
            otherwise or with --headless. A run folder holds config.json, metrics.jsonl, \
            loss_log.txt, checkpoints/, previews/ and tb/ (TensorBoard event files; \
            `tensorboard --logdir runs`). Ctrl-C or SIGTERM saves a checkpoint \
            and exits; --resume RUN_DIR continues exactly where the last checkpoint left off.
            """)

    @Option(help: "Dataset folder in the CycleGAN layout (trainA, trainB, optional testA, testB).") var data: String?
    @Option(help: "Domain A (source) folder, instead of --data.") var domainA: String?
    @Option(help: "Domain B (target) folder, instead of --data.") var domainB: String?
    @Option(help: "Image channels (1 or 3); default: 3 if the first domain-A image has colour, else 1.") var channels: Int?
    @Option(help: "Epochs (an epoch is max(|A|, |B|) iterations).") var epochs: Int?
    @OptionGroup var model: ModelOptions
    @Option(help: "Random seed.") var seed: UInt64?
    @Flag(help: "Train the CycleGAN baseline (attention fixed to 1).") var baseline = false
    @Flag(help: "Only the spec's augmentation (no vertical flips or 90-degree rotations).") var noMicroscopyAugmentation = false
    @Option(help: "Run folder (default runs/<timestamp>).") var runDir: String?
    @Option(help: "Continue the run in this folder from its newest checkpoint.") var resume: String?
    @Option(help: "Stop after this step.") var maxSteps: Int?
    @Option(help: "Checkpoint every this many steps.") var checkpointEvery: Int = 500
    @Option(help: "Recompute previews every this many steps.") var previewEvery: Int = 20
    @Option(help: "Write a preview PNG strip every this many steps.") var previewPNGEvery: Int = 500
    @Flag(help: "Write no TensorBoard event files (tb/ in the run folder).") var noTensorboard = false
    @Option(help: "Histograms of the networks' weights in the TensorBoard events every this many steps (0: none).")
    var histogramEvery: Int = 500
    @OptionGroup var tiff: TIFFOptions
    @OptionGroup var threads: ThreadOptions
    @Flag(help: "No dashboard: progress lines only.") var headless = false
    @Option(help: "Dashboard theme: a name in themes/ or a theme file.") var theme: String = "default"
    @Option(help: "Colours (default: detected).") var color: ColorDepth?
    @Option(help: "Preview images: auto (detected; half-blocks inside tmux), kitty, sixel or blocks.")
    var graphics: GraphicsMode = .auto

    func run() throws {
        let interactive = !headless && isatty(STDOUT_FILENO) == 1 && isatty(STDIN_FILENO) == 1
        // The dashboard pauses on a NaN so that the user can look; headless runs fail.
        let (engine, dir) = try makeEngine(pauseOnFault: interactive)
        // A write that fails is reported once, as the run's message (dashboard and progress lines).
        let report: @Sendable (String) -> Void = { [weak engine] in engine?.send(.report($0)) }
        let recorder = MetricsRecorder(dir, after: engine.trainer.step, onFailure: report)
        engine.observers.add(recorder)
        engine.observers.add(PreviewRecorder(dir, every: previewPNGEvery, onFailure: report))
        var tensorBoard: TensorBoardRecorder?
        if !noTensorboard {
            let tb = TensorBoardRecorder(dir, after: engine.trainer.step, imageEvery: previewPNGEvery)
            engine.observers.add(tb)
            tensorBoard = tb
        }
        if engine.data.convertedToGray { warn("colour images were converted to gray for a 1-channel model") }
        let ok: Bool
        if interactive {
            ok = try runDashboard(engine: engine, theme: theme, color: color, graphics: graphics)
        } else {
            ok = runHeadless(engine)
        }
        if let e = recorder.error { warn(e) }
        if let e = tensorBoard?.error { warn(e) }
        if !ok { throw ExitCode.failure }
    }

    func makeEngine(pauseOnFault: Bool = false) throws -> (Engine, RunDirectory) {
        var options = EngineOptions()
        options.pauseOnFault = pauseOnFault
        options.checkpointEvery = checkpointEvery
        options.previewEvery = previewEvery
        options.maxSteps = maxSteps
        options.threads = threads.count
        options.adaptiveThreads = threads.adaptive
        options.weightHistogramEvery = noTensorboard ? 0 : max(0, histogramEvery)
        if let resume {
            let dir = RunDirectory(resume)
            let info = try dir.readRunInfo()
            guard let newest = dir.checkpoints().last else { throw ValidationError("'\(resume)' has no checkpoint to resume from") }
            let (_, config, _) = try Checkpoint.loadModel(newest.path)
            guard let config else { throw ValidationError("'\(newest.path)' holds weights only") }
            options.runDirectory = dir
            options.runName = dir.name
            let data = try loadData(info, channels: config.channels, size: config.imageSize, seed: config.seed,
                                    scale: config.scale, normalize: config.normalize)
            return (try Engine(resuming: data, options: options), dir)
        }
        guard (data != nil) != (domainA != nil || domainB != nil), data != nil || (domainA != nil && domainB != nil) else {
            throw ValidationError("give either --data DIR or both --domain-a and --domain-b (or --resume RUN_DIR)")
        }
        let info = RunInfo(data: data.map(absolute), domainA: domainA.map(absolute), domainB: domainB.map(absolute),
                           microscopyAugmentation: !noMicroscopyAugmentation, axes: tiff.axes, channel: tiff.channel)
        var config = model.config
        config.normalize = try tiff.normalization().description
        let folders = try folders(info)
        config.channels = try channels ?? firstImageChannels(folders.trainA, read: tiff.read())
        config.epochs = epochs ?? config.epochs
        config.seed = seed ?? config.seed
        config.baseline = baseline
        try config.validate()
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let dir = RunDirectory(runDir ?? "runs/\(stamp)")
        if !dir.checkpoints().isEmpty {
            throw ValidationError("'\(dir.path)' already holds a run: continue it with --resume \(dir.path), or choose another --run-dir")
        }
        options.runDirectory = dir
        options.runName = dir.name
        let data = try loadData(info, channels: config.channels, size: config.imageSize, seed: config.seed,
                                scale: model.fixedScale, normalize: config.normalize)
        config.scale = data.scale
        let engine = try Engine(config: config, data: data, options: options)
        try dir.writeRunInfo(info)
        return (engine, dir)
    }

    func folders(_ info: RunInfo) throws -> DatasetFolders {
        if let d = info.data { return try DatasetFolders(cycleGANRoot: d) }
        return try DatasetFolders(domainA: info.domainA ?? "", domainB: info.domainB ?? "")
    }

    /// The run's data at `scale`, or at the scale measured from its cells when nil; read as
    /// the run says (its axes, channel and normalisation).
    func loadData(_ info: RunInfo, channels: Int, size: Int, seed: UInt64, scale: Double?, normalize: String) throws -> TrainingData {
        let read = ReadOptions(axes: info.axes, channel: info.channel,
                               normalization: try IntensityNormalization(parsing: normalize))
        return try TrainingData.load(folders: folders(info), channels: channels, cropSize: size, seed: seed,
                                     microscopy: info.microscopyAugmentation, scale: scale, read: read)
    }

}

/// 1 or 3: the channels of the first image of `folder` as `read` reads it.
func firstImageChannels(_ folder: ImageFolder, read: ReadOptions) throws -> Int {
    guard let first = folder.files.first else { throw ValidationError("'\(folder.directory)' holds no image files") }
    return try LoadedImage(path: first, options: read).planes[0].channels == 1 ? 1 : 3
}

func absolute(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.path
}

func warn(_ message: String) {
    FileHandle.standardError.write(Data("aggan: warning: \(message)\n".utf8))
}

/// Progress lines: a bar redrawn in place on a terminal, plain lines otherwise.
final class HeadlessProgress: TrainingObserver, @unchecked Sendable {
    private let terminal = isatty(STDERR_FILENO) == 1
    private var lastLine = Date.distantPast
    private var lastMessage: String?

    func didPublish(_ s: TrainingSnapshot) {
        if let m = s.message, m != lastMessage {
            lastMessage = m
            emit((terminal ? "\r\u{1B}[K" : "") + m + "\n")
        }
        let final = s.state != .running && s.state != .idle && s.state != .paused
        guard final || Date().timeIntervalSince(lastLine) >= (terminal ? 0.2 : 10) else { return }
        lastLine = Date()
        let pct = Double(s.step) / Double(max(1, s.totalSteps))
        let eta = Format.duration(s.eta)
        let losses = s.losses.map { l in
            "g \(String(format: "%.3f", l.gTotal)) cyc \(String(format: "%.3f/%.3f", l.cycS, l.cycT)) d \(String(format: "%.3f/%.3f", l.dS, l.dT))"
        } ?? ""
        let head = "step \(s.step)/\(s.totalSteps) epoch \(s.epoch + 1)/\(s.config.epochs) stage \(s.stage) "
            + String(format: "%.2f it/s", s.iterationsPerSecond) + " ETA \(eta) " + losses
        if terminal {
            let width = 24, filled = Int(pct * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            emit("\r\u{1B}[K\(bar) \(String(format: "%3.0f%%", pct * 100)) \(head)" + (final ? "\n" : ""))
        } else {
            emit(head + "\n")
        }
    }

    private func emit(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}


/// Ends a run that paused on a non-finite step: nobody is there to look at it.
final class StopOnFault: TrainingObserver, @unchecked Sendable {
    private weak var engine: Engine?
    init(_ engine: Engine) { self.engine = engine }
    func didPublish(_ s: TrainingSnapshot) {
        if s.fault != nil && s.state == .paused { engine?.send(.stop(save: false)) }
    }
}

/// Runs the engine to the end with progress lines. Returns false when training failed.
func runHeadless(_ engine: Engine) -> Bool {
    let signals = StopSignals { _ in engine.send(.stop(save: true)) }
    engine.observers.add(HeadlessProgress())
    engine.observers.add(StopOnFault(engine))
    engine.start()
    engine.waitUntilFinished()
    withExtendedLifetime(signals) {}
    let last = engine.latestSnapshot
    if last?.state == .failed {
        FileHandle.standardError.write(Data("aggan: \(last?.message ?? "training failed")\n".utf8))
        return false
    }
    return true
}
