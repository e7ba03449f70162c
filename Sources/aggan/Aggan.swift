import ArgumentParser
import Tensor

/// aggan: attention-guided unpaired image-to-image translation on a CPU.
@main
struct Aggan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggan",
        abstract: "Train and apply attention-guided unpaired image-to-image translation (AGGAN, NeurIPS 2018) on a CPU.",
        subcommands: [Train.self, View.self, Bench.self, BenchOps.self, BenchEngine.self, BenchUI.self, BenchLoad.self, Forward.self, Export.self, ExportTensorBoard.self, Samples.self, Translate.self, Eval.self, Experiment.self])

    static func main() {
        Compute.keepFreedMemory()
        main(nil)
    }
}
