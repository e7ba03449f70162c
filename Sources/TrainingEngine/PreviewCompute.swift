// One direction of a preview, computed from a model: what the engine shows while it
// trains and what `aggan view` recomputes from a run's checkpoints.
import AGGAN
import Imaging
import Tensor

extension DirectionPreview {
    /// The model's translation of `image` in `direction` with `mode` and `tau`: input,
    /// soft attention, raw generator output, composite, the background drift outside the
    /// thresholded attention (where the user expects nothing to change) and the share of
    /// pixels above tau. Call inside `Tensor.withoutGrad`.
    public static func compute(model: AGGANModel, image: Image, direction: Direction, channels: Int,
                               mode: ThresholdMode, tau: Float) throws -> DirectionPreview {
        let x = try image.toTensor(channels: channels)
        let r = try model.translate(x, direction, mode: mode, tau: tau)
        let input = try Image(tensor: x), composite = try Image(tensor: r.composite)
        let attention = try PixelMask(attention: r.attention.data, width: image.width, height: image.height,
                                      threshold: tau)
        return DirectionPreview(input: PreviewImage(input), attention: PreviewImage(attention: r.attention),
                                generated: PreviewImage(try Image(tensor: r.generated)), composite: PreviewImage(composite),
                                backgroundDrift: try Imaging.backgroundDrift(output: composite, input: input, mask: attention) ?? 0,
                                fractionAboveTau: Double(attention.count) / Double(image.width * image.height))
    }
}
