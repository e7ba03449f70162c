import AGGAN
import ArgumentParser
import Foundation
import NeuralNet
import Tensor

struct Forward: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Translate one image both ways and write every output as float32 safetensors.",
        discussion: "Writes st.attention, st.generated, st.composite, st.composite_tau, the same for ts., and input: the names the PyTorch reference's `forward` writes, so the two can be compared number by number.")

    @OptionGroup var checkpoint: CheckpointOption
    @Option(help: "Input PNG (or a safetensors file with a tensor `input` [1, C, H, W]).") var input: String
    @Option(help: "Output safetensors file.") var output: String
    @Option(help: "Threshold for composite_tau.") var tau: Float = 0.1

    func run() throws {
        let (model, _, _) = try checkpoint.load()
        let x = try loadInput(input, channels: model.channels)
        var file = Safetensors.File(metadata: ["tau": String(tau)])
        try Tensor.withoutGrad {
            for d in Direction.allCases {
                let prefix = d == .st ? "st" : "ts"
                let r = try model.translate(x, d)
                let tauComposite = try model.translate(x, d, mode: .zeroBelow, tau: tau).composite
                for (name, t) in [("attention", r.attention), ("generated", r.generated), ("composite", r.composite), ("composite_tau", tauComposite)] {
                    file.tensors["\(prefix).\(name)"] = .init(t.data, shape: t.shape)
                }
            }
        }
        file.tensors["input"] = .init(x.data, shape: x.shape)
        try Safetensors.write(file, to: output)
        print("wrote \(output)")
    }
}
