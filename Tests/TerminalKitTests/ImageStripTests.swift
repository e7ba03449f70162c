import TestSupport
import XCTest
@testable import TerminalKit

final class ImageStripTests: XCTestCase {
    /// A horizontal grey ramp, 8x4.
    let ramp = StripImage(label: "input", width: 8, height: 4, channels: 1,
                            pixels: (0..<32).map { Float($0 % 8) / 7 })
    /// A red square on black, RGB 4x4.
    let square: StripImage = {
        var p = [Float](repeating: 0, count: 48)
        for y in 1..<3 { for x in 1..<3 { p[y * 4 + x] = 1 } }
        return StripImage(label: "generated", width: 4, height: 4, channels: 3, pixels: p)
    }()

    func testASCIIStrip() {
        let bad = StripImage(label: "composite", width: 4, height: 4, channels: 2, pixels: [])
        let c = render(40, 4) {
            ImageStrip.draw([ramp, square, bad], rendering: .ascii, theme: testTheme, into: &$0, in: $1)
        }
        assertFrame(c, """
            input         generated     composite
              .:-=+*#%@@                no image
              .:-=+*#%@@   .::.
              .:-=+*#%@@
            """)
    }

    func testHalfBlockStripColours() {
        let c = render(20, 3) { ImageStrip.draw([square], theme: testTheme, into: &$0, in: $1) }
        // The 4x4 square fits 4 columns x 2 rows of cells, each cell two pixels tall.
        XCTAssertEqual(c.text(), "generated\n▀▀▀▀\n▀▀▀▀")
        XCTAssertEqual(c[0, 1].fg, .rgb(0, 0, 0))
        XCTAssertEqual(c[1, 1].fg, .rgb(0, 0, 0))
        XCTAssertEqual(c[1, 1].bg, .rgb(255, 0, 0))
        XCTAssertEqual(c[2, 2].fg, .rgb(255, 0, 0))
        XCTAssertEqual(c[2, 2].bg, .rgb(0, 0, 0))
        XCTAssertEqual(c[3, 2].fg, .rgb(0, 0, 0))
        // A grey image repeats its plane in all three channels.
        // 8x4 pixels in a 10x2 slot: 8 columns by 2 rows.
        let g = render(10, 3) { ImageStrip.draw([ramp], theme: testTheme, into: &$0, in: $1) }
        XCTAssertEqual(g.text(), "input\n▀▀▀▀▀▀▀▀\n▀▀▀▀▀▀▀▀")
        XCTAssertEqual(g[7, 1].fg, .rgb(255, 255, 255))
        XCTAssertEqual(g[0, 1].bg, .rgb(0, 0, 0))
    }

    func testLabelsAreCutToTheirSlot() {
        var a = ramp
        a.label = "a very long label"
        let c = render(20, 2) { ImageStrip.draw([a, a], rendering: .ascii, theme: testTheme, into: &$0, in: $1) }
        XCTAssertEqual(c.lines()[0], "a very l…  a very l…")
    }
}
