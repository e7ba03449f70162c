import AGGAN
import Foundation
import NeuralNet
import Tensor

/// A network input: a safetensors file with a tensor `input` [1, C, H, W] in [-1, 1].
func loadInput(_ path: String, channels: Int) throws -> Tensor {
    let file = try Safetensors.read(path)
    guard let e = file.tensors["input"], e.shape.count == 4, let v = e.floats else {
        throw Safetensors.Failure(path: path, reason: "no F32 tensor 'input' [1, C, H, W]")
    }
    guard e.shape[1] == channels else {
        throw Safetensors.Failure(path: path, reason: "'input' has \(e.shape[1]) channel(s), the model \(channels)")
    }
    return try Tensor(shape: e.shape, data: v)
}
