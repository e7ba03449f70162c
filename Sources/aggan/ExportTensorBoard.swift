import ArgumentParser
import Foundation
import TrainingEngine

/// TensorBoard event files for runs made before `train` wrote them.
struct ExportTensorBoard: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-tensorboard",
        abstract: "Write TensorBoard event files (tb/) for a run folder made without them.",
        discussion: """
            Reads the run's metrics.jsonl (every loss term, the learning rate, the attention \
            statistics and the discriminators' outputs) and previews/step-*.png, and writes \
            tb/events.out.tfevents.<time>.<host>. A run whose tb/ already holds events is \
            refused. Then: tensorboard --logdir RUN_DIR/tb
            """)

    @Argument(help: "A run folder (as made by `aggan train`).") var runDir: String

    func run() throws {
        let export: TensorBoardRecorder.Export
        do { export = try TensorBoardRecorder.export(RunDirectory(runDir)) } catch {
            throw ValidationError("\(error)")
        }
        for p in export.problems { warn(p) }
        print("wrote \(export.path): \(export.steps) steps of scalars, \(export.images) preview image(s)")
    }
}
