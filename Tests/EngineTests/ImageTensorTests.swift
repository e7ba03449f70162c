import Imaging
import Tensor
import TrainingEngine
import XCTest

/// Images in [0, 1] <-> tensors in [-1, 1].
final class ImageTensorTests: XCTestCase {
    func testTensorRoundTrip() throws {
        let gray = try Image(width: 2, height: 1, channels: 1, pixels: [0, 0.75])
        let t3 = try gray.toTensor(channels: 3)
        XCTAssertEqual(t3.shape, [1, 3, 1, 2])
        XCTAssertEqual(t3.data, [-1, 0.5, -1, 0.5, -1, 0.5])
        let t1 = try gray.toTensor(channels: 1)
        XCTAssertEqual(t1.data, [-1, 0.5])
        XCTAssertEqual(try Image(tensor: t1), gray)

        // From a batch: sample 1, values clamped, NaN to 0.
        let batch = try Tensor(shape: [2, 1, 1, 3], data: [0, 0, 0, -3, 0.5, .nan])
        let second = try Image(tensor: batch, sample: 1, bitDepth: 16)
        XCTAssertEqual(second.pixels, [0, 0.75, 0])
        XCTAssertEqual(second.bitDepth, 16)
        XCTAssertThrowsError(try Image(tensor: batch, sample: 2)) { XCTAssertTrue("\($0)".contains("sample 2 is outside 0..<2")) }
        XCTAssertThrowsError(try Image(tensor: try Tensor(shape: [3], data: [0, 0, 0]))) {
            XCTAssertTrue("\($0)".contains("needs a tensor [N, C, H, W]"))
        }
    }

    /// `toTensor` of an image handed over takes its pixels without a copy (a streamed
    /// band is not held twice); an image kept by the caller is left as it was; the
    /// conversions give `2 p - 1` of the converted pixels.
    func testToTensorTakesOverAnImageHandedOver() throws {
        let (w, h) = (64, 32)
        let values = (0..<(w * h)).map { Float($0 % 97) / 96 }
        // Pixels of its own (not shared with `values`).
        let image = try Image(width: w, height: h, channels: 1, pixels: values.map { $0 }, bitDepth: 16)
        let address = image.pixels.withUnsafeBufferPointer { $0.baseAddress }
        let taken = try (consume image).toTensor(channels: 1)
        XCTAssertEqual(taken.shape, [1, 1, h, w])
        XCTAssertEqual(taken.data, values.map { $0 * 2 - 1 })
        XCTAssertEqual(taken.data.withUnsafeBufferPointer { $0.baseAddress }, address, "the pixels were copied")

        // Kept: the image still holds its own pixels.
        let kept = try Image(width: w, height: h, channels: 1, pixels: values)
        let copy = try kept.toTensor(channels: 1)
        XCTAssertEqual(kept.pixels, values)
        XCTAssertEqual(copy.data, taken.data)
        XCTAssertNotEqual(copy.data.withUnsafeBufferPointer { $0.baseAddress },
                          kept.pixels.withUnsafeBufferPointer { $0.baseAddress })

        // Converted: gray replicated, colour to luminance.
        let rgb = try Image(width: 2, height: 1, channels: 3, pixels: [1, 0, 0, 1, 0, 0.5])
        let luminance: [Float] = [0.299, 0.587 + 0.114 * 0.5]
        XCTAssertEqual(try rgb.toTensor(channels: 1).data, luminance.map { $0 * 2 - 1 })
        XCTAssertEqual(try rgb.toTensor(channels: 3).data, [1, -1, -1, 1, -1, 0])
        let gray = try Image(width: 2, height: 1, channels: 1, pixels: [0.25, 1])
        XCTAssertEqual(try (consume gray).toTensor(channels: 3).data, [-0.5, 1, -0.5, 1, -0.5, 1])
    }
}
