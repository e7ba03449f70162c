import Foundation
import NeuralNet
import Tensor

/// For agreement tests only: when the environment variable `AGGAN_TEST_DUMP_BATCHES`
/// names a folder, the engine writes every training step's inputs there before the step
/// (`batch-NNNNNNN.safetensors`, the 1-based step it feeds): `s`, `t` and, when the
/// attention guide is on, `guide.s`, `guide.t`, with the guide's cell fractions in the
/// metadata. With the checkpoints before and after the step, a re-implementation
/// (python/aggan_torch) can run the same step and compare (scripts/torch-continue.sh).
/// Unset, nothing is written.
public enum BatchDump {
    public static let folder: String? = {
        guard let text = getenv("AGGAN_TEST_DUMP_BATCHES") else { return nil }
        let path = String(cString: text)
        return path.isEmpty ? nil : path
    }()

    /// Writes the inputs of step `step` (1-based) into `folder`, when it is set.
    public static func write(step: Int, s: Tensor, t: Tensor, guide: AttentionGuide?) throws {
        guard let folder else { return }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var file = Safetensors.File(metadata: ["step": String(step)])
        file.tensors["s"] = .init(s.data, shape: s.shape)
        file.tensors["t"] = .init(t.data, shape: t.shape)
        if let guide {
            file.tensors["guide.s"] = .init(guide.s.data, shape: guide.s.shape)
            file.tensors["guide.t"] = .init(guide.t.data, shape: guide.t.shape)
            file.metadata["cell_fraction_s"] = String(guide.cellFractionS)
            file.metadata["cell_fraction_t"] = String(guide.cellFractionT)
        }
        try Safetensors.write(file, to: folder + "/" + String(format: "batch-%07d.safetensors", step))
    }
}
