// The bridge between pixels and the model: images in [0, 1] <-> tensors in [-1, 1].
// The one place that knows the model's value range; Imaging stays free of tensors.
import Imaging
import Tensor

extension Image {
    /// A tensor [1, channels, height, width] with values `2 x - 1` in [-1, 1].
    ///
    /// A gray image is replicated into 3 channels; a colour image is converted to gray by
    /// luminance when `channels` is 1: ask `conversion(toChannels:)` to learn which.
    ///
    /// Consuming: an image handed over (`(consume image).toTensor(...)`, or one no one
    /// else holds) whose channels match becomes the tensor in place, so a large band is
    /// not held twice, as pixels and as tensor.
    public consuming func toTensor(channels: Int) throws -> Tensor {
        let width = self.width, height = self.height
        var data = try (consume self).converted(toChannels: channels).takePixels()
        data.withUnsafeMutableBufferPointer { d in
            for i in 0..<d.count { d[i] = d[i] * 2 - 1 }
        }
        return try Tensor(shape: [1, channels, height, width], data: data)
    }

    /// The image of sample `sample` of a tensor [N, C, H, W] (C 1 or 3) with values in
    /// [-1, 1]: `(v + 1) / 2` clamped to [0, 1] (NaN becomes 0).
    public init(tensor: Tensor, sample: Int = 0, bitDepth: Int = 8) throws {
        let s = tensor.shape
        guard s.count == 4 else {
            throw ImagingError.invalid("Image(tensor:)", "needs a tensor [N, C, H, W], got shape \(s)")
        }
        guard sample >= 0, sample < s[0] else {
            throw ImagingError.invalid("Image(tensor:)", "sample \(sample) is outside 0..<\(s[0])")
        }
        let count = s[1] * s[2] * s[3]
        let start = sample * count
        var out = [Float](repeating: 0, count: count)
        tensor.data.withUnsafeBufferPointer { t in
            for i in 0..<count {
                let v = (t[start + i] + 1) * 0.5
                out[i] = v.isNaN ? 0 : min(max(v, 0), 1)
            }
        }
        try self.init(width: s[3], height: s[2], channels: s[1], pixels: out, bitDepth: bitDepth)
    }
}
