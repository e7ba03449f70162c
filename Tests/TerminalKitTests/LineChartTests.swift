import Basics
import TestSupport
import Foundation
import XCTest
@testable import TerminalKit

final class LineChartTests: XCTestCase {
    func chart(_ width: Int, _ height: Int, _ series: [ChartSeries], markers: [ChartMarker] = [],
               options: LineChartOptions = LineChartOptions()) -> Canvas {
        render(width, height) {
            LineChart.draw(series, markers: markers, options: options, theme: testTheme, into: &$0, in: $1)
        }
    }

    /// A falling generator loss with wiggles and a flat discriminator loss, 101 steps.
    var trainingLike: [ChartSeries] {
        let xs = (0...100).map { Double($0) }
        let g = xs.map { 0.5 + 2.5 * exp(-$0 / 25) + 0.15 * sin($0 * 1.7) }
        let d = xs.map { 0.3 + 0.05 * cos($0 * 0.9) }
        return [ChartSeries(name: "g_total", points: zip(xs, g).map { ChartPoint(x: $0, y: $1) }),
                ChartSeries(name: "d_s", points: zip(xs, d).map { ChartPoint(x: $0, y: $1) })]
    }

    func testNormalChartWithSmoothingAndMarkers() {
        let markers = [ChartMarker(x: 50, label: "switch", kind: .stage),
                       ChartMarker(x: 80, label: "ckpt", kind: .checkpoint)]
        let c = chart(48, 10, trainingLike, markers: markers, options: LineChartOptions(smoothing: 0.6))
        assertFrame(c, """
             3.05┤⠊⡆                   ┆switch     ┊ckpt
                 │ ⠈⠑⣄                 ┆           ┊
                 │  ⠈⠙⠣⢄               ┆           ┊
                 │     ⠈⠉⠢⢄            ┆           ┊
             1.47┤       ⠈⠈⠉⠢⢄⢀⡀       ┆           ┊
                 │          ⠈⠈⠁⠘⠑⠤⢆⠤⣀⡀⢀┆           ┊
                 │                ⠈ ⠈⠈⠉⠓⠑⠒⠤⠲⠔⢄⢄⡠⢄⢄⣀⡄⣀⢀⡀⣀⢀⡀⢀⢀
            0.251┤⠤⣄⡠⠤⣀⡠⠤⣀⡠⠤⣀⡤⠤⣀⠤⠤⣀⠤⢤⣀⠤⢄⣀⠤⢄⣠⠤⢄⡠⠤⢄⡠⠤⣌⡠⠭⣈⡠⠥⣈⡡⠭
                  0                    50                100
            ━ g_total 0.598  ━ d_s 0.278
            """)
        // The smoothed curve is drawn in the series colour; raw-only cells are faint and dim;
        // markers take their theme colours.
        let faint = c[22, 6]
        XCTAssertEqual(faint.character, "⠈")
        XCTAssertTrue(faint.attributes.contains(.dim))
        XCTAssertEqual(faint.fg, testTheme[.graph1].mixed(with: testTheme[.mainBg], 0.35))
        XCTAssertEqual(c[6, 0].fg, testTheme[.graph1])
        XCTAssertFalse(c[6, 0].attributes.contains(.dim))
        XCTAssertEqual(c[6, 7].fg, testTheme[.graph2])
        XCTAssertEqual(c[27, 1].fg, testTheme[.markerStage])
        XCTAssertEqual(c[39, 1].fg, testTheme[.markerCheckpoint])
        XCTAssertEqual(c[0, 9].fg, testTheme[.graph1])
    }

    func testWithoutSmoothingThereIsOneCurve() {
        let c = chart(48, 10, trainingLike)
        for cell in c.cells { XCTAssertFalse(cell.attributes.contains(.dim)) }
    }

    func testFlatSeries() {
        let c = chart(30, 6, [ChartSeries(name: "flat", values: Array(repeating: 0.5, count: 10))])
        assertFrame(c, """
            0.55┤
                │
                │⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉
            0.45┤
                 0            5       step
            ━ flat 0.5
            """)
    }

    func testEmptySeriesAndNoSeries() {
        let expected = """
            │
            │           no data
            │
            │
            
            ━ g -
            """
        assertFrame(chart(30, 6, [ChartSeries(name: "g", points: [])]), expected)
        // No series: no legend, so the plot takes five rows.
        assertFrame(chart(30, 6, []), """
            │
            │
            │           no data
            │
            │
            """)
        // Only values that are not finite: no data, and the legend says nan.
        assertFrame(chart(30, 6, [ChartSeries(name: "g", values: [.nan, .infinity])], options: .init(smoothing: 0.9)), """
            │
            │           no data
            │
            │
            
            ━ g inf
            """)
    }

    func testNaNAndInfinitiesAreSkippedAndBreakTheLine() {
        let c = chart(30, 6, [ChartSeries(name: "g", values: [1, 2, .nan, 3, .infinity, 2, .nan])])
        assertFrame(c, """
            3.00┤              ⠈
                │
                │  ⢀⡠⠒⠁                  ⠈
            1.00┤⡠⠔⠁
                 0                       5
            ━ g nan
            """)
    }

    func testHugeValues() {
        let c = chart(30, 6, [ChartSeries(name: "g", values: [1, 1e30, 5e29, 0])])
        assertFrame(c, """
            1e30┤      ⢀⠔⠉⠒⠤⣀
                │    ⣀⠔⠁     ⠉⠒⠤⣀
                │  ⡠⠊            ⠉⠑⠢⢄⡀
               0┤⡠⠊                  ⠈⠉⠒⠤⣀
                 0               2    step
            ━ g 0
            """)
        // Near the largest Double the range must not overflow.
        let extreme = chart(30, 6, [ChartSeries(name: "g", values: [-1.7e308, 1.7e308])])
        assertFrame(extreme, """
             1.7e308┤                ⣀⡠⠔⠒⠉
                    │          ⢀⣀⠤⠒⠊⠉
                    │     ⣀⡠⠤⠒⠉⠁
            -1.7e308┤⣀⠤⠔⠊⠉
                     0                   1
            ━ g 1.7e308
            """)
    }

    func testLogScaleWithZerosAndNegatives() {
        let c = chart(30, 8, [ChartSeries(name: "g", values: [1, 0.1, 0, 0.01, -1, 0.001])],
                      options: LineChartOptions(logScale: true))
        assertFrame(c, """
              1.00┤⠑⢄
                  │  ⠉⠢⡀
                  │    ⠈⢆
            0.0173┤     ⠈⢢      ⢀
                  │       ⠣⡀  ⣀⠔⠁⠑⢄⡀
             0.001┤        ⠱⡠⠊     ⠈⠢⣀⣀⣀⣀⣀
                   0                     5
            ━ g 0.001
            """)
        // Nothing positive at all: a flat line at the floor, no crash.
        let zeros = chart(30, 6, [ChartSeries(name: "z", values: [0, 0, -2])], options: LineChartOptions(logScale: true))
        XCTAssertTrue(zeros.lines()[2].contains("⠉⠉⠉"), zeros.text())
    }

    func testOnePoint() {
        assertFrame(chart(30, 6, [ChartSeries(name: "g", values: [2])]), """
            2.20┤
                │
                │            ⠈
            1.80┤
                             0        step
            ━ g 2.00
            """)
    }

    func testLegendOverflowAndTinySizes() {
        let many = (0..<6).map { ChartSeries(name: "loss_\($0)", values: [1, 2]) }
        let c = chart(30, 6, many, options: LineChartOptions(maxLegendRows: 1))
        XCTAssertEqual(c.lines().last, "━ loss_0 2.00               +5")
        // Any size, also 1x1 and 0x0, draws without trapping.
        for (w, h) in [(1, 1), (2, 2), (5, 3), (0, 0), (3, 10)] {
            _ = chart(w, h, trainingLike, markers: [ChartMarker(x: 10, label: "m", kind: .stage)],
                      options: LineChartOptions(smoothing: 0.9, logScale: true))
        }
    }

    func testDebiasedEMA() {
        let s = LineChart.smooth([1, 2, 3], weight: 0.5)
        XCTAssertEqual(s[0], 1, accuracy: 1e-12)
        XCTAssertEqual(s[1], 1.25 / 0.75, accuracy: 1e-12)
        XCTAssertEqual(s[2], 2.125 / 0.875, accuracy: 1e-12)
        // A value that is not finite passes through and is not counted.
        let n = LineChart.smooth([1, .nan, 3], weight: 0.5)
        XCTAssertEqual(n[0], 1)
        XCTAssertTrue(n[1].isNaN)
        XCTAssertEqual(n[2], 1.75 / 0.75, accuracy: 1e-12)
        // Debiasing keeps a constant series constant from the first value on.
        for v in LineChart.smooth(Array(repeating: 4.0, count: 50), weight: 0.99) {
            XCTAssertEqual(v, 4, accuracy: 1e-9)
        }
        XCTAssertEqual(LineChart.smooth([5, 7], weight: 0), [5, 7])
        XCTAssertEqual(LineChart.smooth([10, 0], weight: 3)[1], 0.99 * 0.01 * 10 / (1 - 0.99 * 0.99), accuracy: 1e-9,
                       "weights above 0.99 are clamped")
        XCTAssertEqual(LineChart.smooth([], weight: 0.6), [])
    }

    func testNiceTicksAndFormats() {
        XCTAssertEqual(LineChart.niceTicks(from: 0, to: 100, maxCount: 4), [0, 50, 100])
        XCTAssertEqual(LineChart.niceTicks(from: 3, to: 1284, maxCount: 6), [500, 1000])
        XCTAssertEqual(LineChart.niceTicks(from: 0.1, to: 0.5, maxCount: 4), [0.1, 0.2, 0.3, 0.4, 0.5].map { $0 })
        XCTAssertEqual(LineChart.niceTicks(from: 2, to: 2, maxCount: 4), [2])
        XCTAssertEqual(LineChart.niceTicks(from: .nan, to: 2, maxCount: 4), [])
        XCTAssertEqual(Format.value(3.21), "3.21")
        XCTAssertEqual(Format.value(0.1234), "0.123")
        XCTAssertEqual(Format.value(12.34), "12.3")
        XCTAssertEqual(Format.value(1234), "1234")
        XCTAssertEqual(Format.value(1e30), "1e30")
        XCTAssertEqual(Format.value(-1.23e-7), "-1.2e-7")
        XCTAssertEqual(Format.value(.nan), "nan")
        XCTAssertEqual(Format.value(-.infinity), "-inf")
        XCTAssertEqual(Format.tick(20000), "20k")
        XCTAssertEqual(Format.tick(1500), "1500")
        XCTAssertEqual(Format.duration(291), "4:51")
        XCTAssertEqual(Format.duration(3723), "1:02:03")
        XCTAssertEqual(Format.duration(200_000), "2d07h")
        XCTAssertEqual(Format.duration(.infinity), "--")
    }
}
