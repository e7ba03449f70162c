// Training-time augmentation (docs/MODEL.md, "Departures from the paper": the paper's
// resize, crop and horizontal flip, plus the microscopy flips and rotations).

import Basics

/// Resize to `loadSize` (bilinear, aspect not kept), random `cropSize` crop, random
/// horizontal flip; optionally random vertical flip and random 90-degree rotation (valid
/// for microscopy, which has no up or down), and a random `loadSize` window at the
/// image's own resolution in place of the resize for images larger than that (a whole
/// field of view squashed to 72 px would shrink its cells to a few pixels).
///
/// Every random choice comes from the generator passed to `apply`, drawn in a fixed
/// order (crop x, crop y, then one draw per enabled flip, then the rotation), so a run
/// is reproducible from its seed.
public struct Augmentation: Sendable, Equatable, Codable {
    /// Side of the square output.
    public let cropSize: Int
    /// Side the image is resized to before cropping (at least `cropSize`).
    public let loadSize: Int
    /// Mirror left-right with probability 0.5.
    public var horizontalFlip: Bool
    /// Mirror top-bottom with probability 0.5.
    public var verticalFlip: Bool
    /// Rotate by 0, 90, 180 or 270 degrees, each with probability 0.25.
    public var rotate90: Bool
    /// An image wider and taller than `loadSize` gives a random `loadSize` x `loadSize`
    /// window at its own resolution instead of being resized whole (two more draws, first).
    public var nativeWindow: Bool

    /// - Parameters:
    ///   - cropSize: side of the output (positive).
    ///   - loadSize: side before cropping; default `cropSize * 286 / 256`, rounded (the
    ///     spec's ratio: 286 for 256, 72 for 64).
    public init(cropSize: Int, loadSize: Int? = nil, horizontalFlip: Bool = true,
                verticalFlip: Bool = false, rotate90: Bool = false, nativeWindow: Bool = false) throws {
        let load = loadSize ?? Int((Double(cropSize) * 286 / 256).rounded())
        guard cropSize > 0, load >= cropSize else {
            throw ImagingError.invalid("augmentation", "needs 0 < crop size <= load size, got crop \(cropSize), load \(load)")
        }
        self.cropSize = cropSize
        self.loadSize = load
        self.horizontalFlip = horizontalFlip
        self.verticalFlip = verticalFlip
        self.rotate90 = rotate90
        self.nativeWindow = nativeWindow
    }

    /// The augmentation of microscopy presets: every flip and rotation on, large images
    /// windowed at their own resolution.
    public static func microscopy(cropSize: Int) throws -> Augmentation {
        try Augmentation(cropSize: cropSize, verticalFlip: true, rotate90: true, nativeWindow: true)
    }

    /// A `cropSize` x `cropSize` augmented copy of `image` (channels and depth kept).
    public func apply(to image: Image, rng: inout SplitMix64) throws -> Image {
        var out = image
        if nativeWindow && image.width > loadSize && image.height > loadSize {
            let x = rng.nextInt(below: image.width - loadSize + 1)
            let y = rng.nextInt(below: image.height - loadSize + 1)
            out = try image.cropped(x: x, y: y, width: loadSize, height: loadSize)
        }
        out = try out.resized(width: loadSize, height: loadSize)
        let x = rng.nextInt(below: loadSize - cropSize + 1)
        let y = rng.nextInt(below: loadSize - cropSize + 1)
        out = try out.cropped(x: x, y: y, width: cropSize, height: cropSize)
        if horizontalFlip && rng.nextDouble() < 0.5 { out = out.flippedHorizontally() }
        if verticalFlip && rng.nextDouble() < 0.5 { out = out.flippedVertically() }
        if rotate90 { out = out.rotated90(rng.nextInt(below: 4)) }
        return out
    }
}
