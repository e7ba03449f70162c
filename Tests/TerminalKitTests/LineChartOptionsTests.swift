import TestSupport
import XCTest
@testable import TerminalKit

/// The chart options the dashboard uses to stack two charts: no x axis on the upper one,
/// a common label width and x range, a cursor marker, a smoothed curve given by the caller.
final class LineChartOptionsTests: XCTestCase {
    let rising = [ChartSeries(name: "a", values: (0...20).map { Double($0) })]

    func chart(_ w: Int, _ h: Int, _ series: [ChartSeries], markers: [ChartMarker] = [],
               _ options: LineChartOptions) -> Canvas {
        render(w, h) { LineChart.draw(series, markers: markers, options: options, theme: testTheme, into: &$0, in: $1) }
    }

    func testWithoutXAxisThePlotTakesTheRow() {
        let with = chart(30, 5, rising, LineChartOptions(maxLegendRows: 1))
        let without = chart(30, 5, rising, LineChartOptions(maxLegendRows: 1, showXAxis: false))
        XCTAssertTrue(with.lines()[3].contains("20"), "tick labels on the row above the legend")
        XCTAssertTrue(without.lines()[3].contains("┤"), "the plot reaches the legend: \(without.text())")
        XCTAssertFalse(without.text().contains("step"))
    }

    func testMinimumLabelWidthAndXRangeLineChartsUp() {
        let narrow = chart(30, 5, rising, LineChartOptions(maxLegendRows: 1, minLabelWidth: 6))
        XCTAssertEqual(narrow.lines()[0].firstIndex(of: "┤").map { narrow.lines()[0].distance(from: narrow.lines()[0].startIndex, to: $0) }, 6)
        // With x from 0 to 40 the data (0...20) fills the left half only.
        let ranged = chart(30, 5, rising, LineChartOptions(maxLegendRows: 1, showXAxis: false, xRange: 0...40))
        let plotRows = ranged.lines().prefix(4)
        let rightHalfEmpty = plotRows.allSatisfy { line in
            let chars = Array(line)
            return chars.count <= 19 || chars[19...].allSatisfy { $0 == " " }
        }
        XCTAssertTrue(rightHalfEmpty, ranged.text())
    }

    func testCursorMarkerInHighlight() {
        let c = chart(30, 6, [ChartSeries(name: "flat", values: Array(repeating: 1, count: 21))],
                      markers: [ChartMarker(x: 10, label: "◆", kind: .cursor)], LineChartOptions(maxLegendRows: 1))
        let cells = c.cells.filter { $0.character == "│" && $0.fg == testTheme[.hiFg] }
        XCTAssertFalse(cells.isEmpty, c.text())
        XCTAssertTrue(c.text().contains("◆"))
    }

    func testGivenSmoothedValuesAreUsed() {
        let noisy = (0...40).map { $0 % 2 == 0 ? 0.0 : 10.0 }
        let flat = Array(repeating: 5.0, count: noisy.count)
        let given = ChartSeries(name: "n", points: noisy.enumerated().map { ChartPoint(x: Double($0.offset), y: $0.element) },
                                smoothedValues: flat)
        let c = chart(30, 8, [given], LineChartOptions(smoothing: 0.9, showRaw: false, maxLegendRows: 1))
        // Only the given flat line: one row holds all the dots.
        let rowsWithDots = c.lines().prefix(6).filter { $0.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) } }
        XCTAssertEqual(rowsWithDots.count, 1, c.text())
    }

    func testHueKeepingSixteenColours() {
        // The default theme's series colours keep their hue instead of going grey.
        XCTAssertEqual(ColorConversion.ansi16Index(0xe0, 0x6c, 0x75), 8)
        XCTAssertEqual(ColorConversion.ansi16HueIndex(0xe0, 0x6c, 0x75), 9, "pastel red: bright red")
        XCTAssertEqual(ColorConversion.ansi16HueIndex(0x98, 0xc3, 0x79), 10, "green")
        XCTAssertEqual(ColorConversion.ansi16HueIndex(0x61, 0xaf, 0xef), 14, "sky blue: bright cyan")
        XCTAssertEqual(ColorConversion.ansi16HueIndex(0xc6, 0x78, 0xdd), 13, "purple: bright magenta")
        XCTAssertEqual(ColorConversion.ansi16HueIndex(0x0d, 0x08, 0x87), 4, "dark blue")
        XCTAssertEqual(ColorConversion.ansi16HueIndex(200, 0, 0), 1)
        // Greys are left to the nearest colour.
        XCTAssertEqual(ColorConversion.ansi16HueIndex(0x5c, 0x63, 0x70), ColorConversion.ansi16Index(0x5c, 0x63, 0x70))
        XCTAssertEqual(ColorConversion.ansi16HueIndex(250, 250, 250), 15)
        XCTAssertEqual(ColorConversion.ansi16HueIndex(0, 0, 0), 0)
    }
}
