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
}
