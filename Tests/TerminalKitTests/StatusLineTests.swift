import TestSupport
import XCTest
@testable import TerminalKit

final class StatusLineTests: XCTestCase {
    let fields = StatusFields(runName: "nuclei", stage: 1, epoch: 12, epochs: 100, step: 1284,
                              iterationsPerSecond: 31.2, etaSeconds: 291, learningRate: 1e-4, tau: 0.1,
                              thresholdMode: "soft", isPaused: false, lastCheckpointStep: 1200)

    func testWideAndNarrow() {
        XCTAssertEqual(StatusLine.text(fields, width: 200),
                       "nuclei · stage 1 · epoch 12/100 · step 1284 · 31.2 it/s · ETA 4:51 · lr 1e-4 · "
                       + "tau 0.10 · soft · ckpt 1200 · RUNNING")
        XCTAssertEqual(StatusLine.text(fields, width: 80),
                       "stage 1 · epoch 12/100 · step 1284 · 31.2 it/s · tau 0.10 · soft · RUNNING")
        XCTAssertEqual(StatusLine.text(fields, width: 40), "stage 1 · step 1284 · RUNNING")
        XCTAssertEqual(StatusLine.text(fields, width: 5), "RUNN…")
        XCTAssertEqual(StatusLine.text(fields, width: 0), "")
        for w in 0...130 {
            XCTAssertLessThanOrEqual(columnWidth(StatusLine.text(fields, width: w)), w)
        }
    }

    func testDrawnFrames() {
        var paused = fields
        paused.isPaused = true
        paused.etaSeconds = nil
        paused.iterationsPerSecond = 0.42
        let c = render(60, 2) { c, r in
            StatusLine.draw(fields, theme: testTheme, into: &c, in: r)
            StatusLine.draw(paused, theme: testTheme, into: &c, in: Rect(x: 0, y: 1, width: 60, height: 1),
                            alignRight: true)
        }
        assertFrame(c, """
            stage 1 · epoch 12/100 · step 1284 · tau 0.10 · RUNNING
                  stage 1 · epoch 12/100 · step 1284 · tau 0.10 · PAUSED
            """)
        XCTAssertEqual(c[50, 0].fg, testTheme[.statusRunning])
        XCTAssertTrue(c[50, 0].attributes.contains(.bold))
        XCTAssertEqual(c[55, 1].fg, testTheme[.statusPaused])
        var slow = paused
        slow.thresholdMode = "binary"
        XCTAssertEqual(StatusLine.text(slow, width: 200),
                       "nuclei · stage 1 · epoch 12/100 · step 1284 · 0.42 it/s · ETA -- · lr 1e-4 · "
                       + "tau 0.10 · binary · ckpt 1200 · PAUSED")
    }

    func testMissingFieldsAreLeftOut() {
        XCTAssertEqual(StatusLine.text(StatusFields(step: 3, tau: 0.5), width: 80), "step 3 · tau 0.50")
        XCTAssertEqual(StatusLine.text(StatusFields(), width: 80), "")
    }
}
