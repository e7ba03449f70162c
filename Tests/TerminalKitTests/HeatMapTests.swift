import TestSupport
import Foundation
import XCTest
@testable import TerminalKit

final class HeatMapTests: XCTestCase {
    /// Two blobs on a 32x32 map: a large one peaking at 1, a small one peaking at 0.8.
    let blobs: FloatMap = {
        var m: [Float] = []
        for y in 0..<32 {
            for x in 0..<32 {
                let dx = Float(x) - 10, dy = Float(y) - 12, dx2 = Float(x) - 24, dy2 = Float(y) - 22
                m.append(max(exp(-(dx * dx + dy * dy) / 30), 0.8 * exp(-(dx2 * dx2 + dy2 * dy2) / 18)))
            }
        }
        return FloatMap(width: 32, height: 32, values: m)
    }()

    func heat(_ rendering: MapRendering, _ view: AttentionView = .soft, _ w: Int = 34, _ h: Int = 12) -> Canvas {
        render(w, h) { HeatMap.draw(blobs, rendering: rendering, view: view, theme: testTheme, into: &$0, in: $1) }
    }

    func testASCIIRamp() {
        let c = heat(.ascii)
        assertFrame(c, """
            
            
                    ..::--::.
                   .:-+*#**=-..
                   .-=*%@@%*=:.
                   .:=+#%%#+=:.
                    .:-===--:.   .....
                      ......   .:-++=-:.
                               .-+##*+:.
                               .:-===-.
                                 .....
            """)
        // The square map is fitted 24 columns by 12 rows (cells are twice as tall as wide)
        // and centred; each character takes the gradient colour of its value.
        XCTAssertEqual(c[13, 4].character, "@")
        XCTAssertEqual(c[13, 4].fg, testTheme.heat(Double(Raster.resample(
            blobs.values, width: 32, height: 32, toWidth: 24, toHeight: 12)[4 * 24 + 8])))
    }

    func testThresholdedViews() {
        assertFrame(heat(.ascii, .binary(tau: 0.5)), """
            
            
            
                      #####
                     #######
                      ######
            
                                  ###
                                 ####
            """)
        assertFrame(heat(.ascii, .zeroBelow(tau: 0.5)), """
            
            
            
                      -*#*+:
                     :*%@@%*.
                     .+#%%#=
                       .::.
                                 .--:
                                 -##*.
                                  :::
            """)
        XCTAssertEqual(HeatMap.fractionAbove(blobs, tau: 0.5), 94.0 / 1024.0)
        XCTAssertEqual(HeatMap.fractionAbove(blobs, tau: 1), 0)
        XCTAssertEqual(HeatMap.fractionAbove(FloatMap(width: 2, height: 1, values: [.nan, 0.7]), tau: 0.5), 0.5)
        XCTAssertEqual(HeatMap.fractionAbove(FloatMap(width: 0, height: 0, values: []), tau: 0.5), 0)
    }

    func testHalfBlocksCarryTwoPixelsPerCell() {
        // 2x4 map into 2 columns: rows of pixels 0,1 in the first cell row, 2,3 in the second.
        let map = FloatMap(width: 2, height: 4, values: [0, 1, 0.5, 0.5, 1, 1, 0, 0])
        let t = Theme.builtin(named: "mono")!
        var c = Canvas(width: 2, height: 2)
        let area = HeatMap.draw(map, rendering: .halfBlock, theme: t, into: &c, in: c.bounds)
        XCTAssertEqual(area, Rect(x: 0, y: 0, width: 2, height: 2))
        XCTAssertEqual(c.text(), "▀▀\n▀▀")
        XCTAssertEqual(c.styledDump(), """
            fg=#101010 bg=#808080 "▀" | fg=#ffffff bg=#808080 "▀"
            fg=#ffffff bg=#101010 "▀▀"
            """)
        var b = Canvas(width: 2, height: 2)
        HeatMap.draw(map, rendering: .halfBlock, view: .binary(tau: 0.6), theme: t, into: &b, in: b.bounds)
        XCTAssertEqual(b.styledDump(), """
            fg=#101010 bg=#101010 "▀" | fg=#ffffff bg=#101010 "▀"
            fg=#ffffff bg=#101010 "▀▀"
            """)
    }

    func testRampAndResampling() {
        XCTAssertEqual(HeatMap.ramp, Array(" .:-=+*#%@"))
        XCTAssertEqual(HeatMap.rampCharacter(0), " ")
        XCTAssertEqual(HeatMap.rampCharacter(0.099), " ")
        XCTAssertEqual(HeatMap.rampCharacter(0.1), ".")
        XCTAssertEqual(HeatMap.rampCharacter(0.95), "@")
        XCTAssertEqual(HeatMap.rampCharacter(1), "@")
        XCTAssertEqual(HeatMap.rampCharacter(7), "@")
        XCTAssertEqual(HeatMap.rampCharacter(-1), " ")
        XCTAssertEqual(HeatMap.rampCharacter(.nan), " ")
        XCTAssertEqual(Raster.resample([0, 1, 0, 1], width: 4, height: 1, toWidth: 2, toHeight: 1), [0.5, 0.5])
        // Three pixels into two: partial coverage is weighted (1 + 0.5 and 0.5 + 1 pixels).
        XCTAssertEqual(Raster.resample([0, 0, 3], width: 3, height: 1, toWidth: 2, toHeight: 1), [0, 2])
        XCTAssertEqual(Raster.resample([1, 2], width: 2, height: 1, toWidth: 4, toHeight: 2),
                       [1, 1, 2, 2, 1, 1, 2, 2])
        XCTAssertEqual(Raster.fittedSize(imageWidth: 32, imageHeight: 32, maxColumns: 34, maxRows: 12),
                       Size(width: 24, height: 12))
        XCTAssertEqual(Raster.fittedSize(imageWidth: 64, imageHeight: 32, maxColumns: 20, maxRows: 12),
                       Size(width: 20, height: 5))
        XCTAssertEqual(Raster.fittedSize(imageWidth: 0, imageHeight: 32, maxColumns: 20, maxRows: 12),
                       Size(width: 0, height: 0))
    }

    func testInvalidMapSaysSo() {
        let c = render(12, 3) {
            HeatMap.draw(FloatMap(width: 3, height: 3, values: [1]), rendering: .ascii, theme: testTheme,
                         into: &$0, in: $1)
        }
        assertFrame(c, """
            
               no map
            """)
    }
}
