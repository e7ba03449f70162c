import TestSupport
import XCTest
@testable import TerminalKit

final class StretchAndSparklineTests: XCTestCase {
    func testAutoRangeSaturatesTheTails() {
        // 1000 values 0.100 ... 0.300, plus two outliers: the 0.35 % tails are cut.
        var pixels = (0..<1000).map { 0.1 + 0.2 * Float($0) / 999 }
        pixels += [0, 1]
        let r = DisplayRange.auto(pixels)
        XCTAssertEqual(r.low, 0.1, accuracy: 0.002)
        XCTAssertEqual(r.high, 0.3, accuracy: 0.002)
        XCTAssertEqual(r.levels, "26–77")
        XCTAssertEqual(r.apply(0.1), 0, accuracy: 0.02)
        XCTAssertEqual(r.apply(0.3), 1, accuracy: 0.02)
        XCTAssertEqual(r.apply(0.2), 0.5, accuracy: 0.02)
        XCTAssertEqual(r.apply(1), 1, "clamped above")
        XCTAssertEqual(r.apply(0), 0, "clamped below")
        XCTAssertTrue(r.apply(.nan).isNaN)
    }

    func testFlatOrEmptyImagesKeepTheFullRange() {
        XCTAssertEqual(DisplayRange.auto([Float](repeating: 0.4, count: 100)), .full)
        XCTAssertEqual(DisplayRange.auto([]), .full)
        XCTAssertEqual(DisplayRange.auto([.nan, .nan]), .full)
        XCTAssertEqual(DisplayRange.full.apply([0.25, 0.5]), [0.25, 0.5], "the identity range changes nothing")
    }

    func testSparklineBucketsAndBlocks() {
        XCTAssertEqual(Sparkline.buckets([1, 2, 3], width: 5), [1, 2, 3], "short series are kept")
        XCTAssertEqual(Sparkline.buckets([1, 3, 5, 7], width: 2), [2, 6])
        let b = Sparkline.buckets([.nan, .nan, 4, 6], width: 2)
        XCTAssertTrue(b[0].isNaN)
        XCTAssertEqual(b[1], 5)
        XCTAssertEqual(Sparkline.block(0, range: 0...1), "▁")
        XCTAssertEqual(Sparkline.block(1, range: 0...1), "█")
        XCTAssertEqual(Sparkline.block(7, range: 0...1), "█", "clamped")
        XCTAssertEqual(Sparkline.block(.nan, range: 0...1), " ")
        let c = render(10, 1) {
            Sparkline.draw([0, 0.5, 1], range: 0...1, style: Style(fg: .rgb(1, 2, 3)), into: &$0, in: $1)
        }
        assertFrame(c, "       ▁▅█")
        XCTAssertEqual(c[9, 0].fg, .rgb(1, 2, 3))
    }

    func testStripNotesShowWhenTheyFit() {
        let image = StripImage(label: "input", width: 8, height: 8, channels: 1, pixels: [Float](repeating: 0.5, count: 64),
                               note: "3–79")
        let wide = render(12, 5) { ImageStrip.draw([image], theme: testTheme, into: &$0, in: $1) }
        XCTAssertEqual(wide.lines()[0], "input 3–79")
        XCTAssertEqual(wide[6, 0].fg, testTheme[.inactiveFg])
        let narrow = render(8, 5) { ImageStrip.draw([image], theme: testTheme, into: &$0, in: $1) }
        XCTAssertEqual(narrow.lines()[0], "input", "no room: the label alone")
    }
}
