import XCTest
import Imaging

/// The Image value: construction, channels, tensors and geometry.
final class ImageTests: XCTestCase {
    func testInitValidates() {
        assertImagingError(.invalidArgument, containing: "channels must be 1 (gray) or 3 (RGB), got 2") {
            try Image(width: 2, height: 2, channels: 2)
        }
        assertImagingError(.invalidArgument, containing: "needs 4 values, got 3") {
            try Image(width: 2, height: 2, channels: 1, pixels: [0, 0, 0])
        }
        assertImagingError(.invalidArgument, containing: "bit depth must be 8 or 16") {
            try Image(width: 1, height: 1, channels: 1, value: 0, bitDepth: 12)
        }
    }

    func testSubscriptIsPlanar() throws {
        var image = try makeImage(width: 3, height: 2, channels: 3) { c, y, x in Float(c * 100 + y * 10 + x) }
        XCTAssertEqual(image[2, 1, 0], 210)
        XCTAssertEqual(image.pixels[(2 * 2 + 1) * 3 + 0], 210)
        XCTAssertEqual(Array(image.plane(1)), [100, 101, 102, 110, 111, 112])
        image[0, 0, 2] = 7
        XCTAssertEqual(image.pixels[2], 7)
    }

    func testGrayRGBConversions() throws {
        let rgb = try Image(width: 1, height: 2, channels: 3, pixels: [1, 0, 0, 1, 0, 0.5])
        let gray = rgbToGray(rgb)
        XCTAssertEqual(gray.channels, 1)
        XCTAssertEqual(gray.pixels[0], 0.299, accuracy: 1e-6)
        XCTAssertEqual(gray.pixels[1], 0.587 + 0.057, accuracy: 1e-6)
        let back = grayToRGB(gray)
        XCTAssertEqual(back.channels, 3)
        XCTAssertEqual(back.pixels, gray.pixels + gray.pixels + gray.pixels)
        XCTAssertEqual(try rgb.conversion(toChannels: 1), .luminance)
        XCTAssertEqual(try gray.conversion(toChannels: 3), .replicateGray)
        XCTAssertEqual(try gray.conversion(toChannels: 1), ChannelConversion.none)
        assertImagingError(.invalidArgument, containing: "got 4") { try gray.conversion(toChannels: 4) }
    }

    /// A 3 x 2 image with distinct values: 0 1 2 / 3 4 5.
    private func asymmetric() throws -> Image {
        try Image(width: 3, height: 2, channels: 1, pixels: [0, 1, 2, 3, 4, 5])
    }

    func testFlipsAndRotations() throws {
        let image = try asymmetric()
        XCTAssertEqual(image.flippedHorizontally().pixels, [2, 1, 0, 5, 4, 3])
        XCTAssertEqual(image.flippedVertically().pixels, [3, 4, 5, 0, 1, 2])
        // numpy.rot90([[0,1,2],[3,4,5]]) = [[2,5],[1,4],[0,3]]
        let r1 = image.rotated90(1)
        XCTAssertEqual([r1.width, r1.height], [2, 3])
        XCTAssertEqual(r1.pixels, [2, 5, 1, 4, 0, 3])
        XCTAssertEqual(image.rotated90(2).pixels, [5, 4, 3, 2, 1, 0])
        XCTAssertEqual(image.rotated90(3).pixels, [3, 0, 4, 1, 5, 2])
        XCTAssertEqual(image.rotated90(-1), image.rotated90(3))
        XCTAssertEqual(image.rotated90(4), image)
        XCTAssertEqual(image.rotated90(1).rotated90(1), image.rotated90(2))
    }

    func testCrop() throws {
        let image = try makeImage(width: 4, height: 3, channels: 3) { c, y, x in Float(c * 100 + y * 10 + x) }
        let crop = try image.cropped(x: 1, y: 1, width: 2, height: 2)
        XCTAssertEqual(crop.pixels, [11, 12, 21, 22, 111, 112, 121, 122, 211, 212, 221, 222])
        assertImagingError(.invalidArgument, containing: "is not inside the 4 x 3 image") {
            try image.cropped(x: 3, y: 0, width: 2, height: 1)
        }
    }

    func testBilinearResizeHalfPixelCentres() throws {
        // PyTorch: F.interpolate(torch.tensor([[[[0., 1.]]]]), size=(1, 4), mode="bilinear",
        // align_corners=False) -> [0, 0.25, 0.75, 1].
        let row = try Image(width: 2, height: 1, channels: 1, pixels: [0, 1])
        XCTAssertEqual(try row.resized(width: 4, height: 1).pixels, [0, 0.25, 0.75, 1])
        // Downscaling 4 -> 2 averages pairs (sample points at 0.5 and 2.5).
        let four = try Image(width: 4, height: 1, channels: 1, pixels: [0, 1, 2, 3])
        XCTAssertEqual(try four.resized(width: 2, height: 1).pixels, [0.5, 2.5])
        // 2 x 2 -> 3 x 3: the centre is the mean; corners keep their values.
        let square = try Image(width: 2, height: 2, channels: 1, pixels: [0, 1, 2, 3])
        let big = try square.resized(width: 3, height: 3)
        XCTAssertEqual(big[0, 1, 1], 1.5, accuracy: 1e-6)
        XCTAssertEqual(big[0, 0, 0], 0)
        XCTAssertEqual(big[0, 2, 2], 3)
        // Same size is the identity.
        XCTAssertEqual(try square.resized(width: 2, height: 2), square)
    }
}
