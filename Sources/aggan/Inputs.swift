import AGGAN
import Foundation
import Imaging
import NeuralNet
import Tensor

/// A network input [1, C, H, W] in [-1, 1]: a PNG (8-bit values map to v / 127.5 - 1, as
/// in the PyTorch reference) or a safetensors file with a tensor `input`.
func loadInput(_ path: String, channels: Int) throws -> Tensor {
    if !path.lowercased().hasSuffix(".safetensors") {
        let image = try Image(pngFile: path)
        if try image.conversion(toChannels: channels) == .luminance {
            warn("'\(path)' is colour; converted to gray by luminance for a 1-channel model")
        }
        return try image.toTensor(channels: channels)
    }
    let file = try Safetensors.read(path)
    guard let e = file.tensors["input"], e.shape.count == 4, let v = e.floats else {
        throw Safetensors.Failure(path: path, reason: "no F32 tensor 'input' [1, C, H, W]")
    }
    guard e.shape[1] == channels else {
        throw Safetensors.Failure(path: path, reason: "'input' has \(e.shape[1]) channel(s), the model \(channels)")
    }
    return try Tensor(shape: e.shape, data: v)
}
