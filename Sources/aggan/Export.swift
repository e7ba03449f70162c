import AGGAN
import ArgumentParser
import NeuralNet

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a checkpoint's weights alone (the six networks, spec names, float32).",
        discussion: "The result loads strictly into any PyTorch model of the spec, e.g. with `load_state_dict(load_file(path), strict=True)`.")

    @OptionGroup var checkpoint: CheckpointOption
    @Option(help: "Weights-only safetensors file to write.") var output: String

    func run() throws {
        let (model, config, _) = try checkpoint.load()
        try Safetensors.write(Checkpoint.weightsFile(model, metadata: Checkpoint.weightsMetadata(model, config: config)),
                              to: output)
        print("wrote \(output) (\(model.parameterCount) parameters)")
    }
}
