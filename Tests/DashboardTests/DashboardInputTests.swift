import AGGAN
import XCTest
import TrainingEngine
@testable import Dashboard
import TerminalKit
import TestSupport

/// Key handling as a pure function: (key, view, snapshot) -> (view, commands, quit).
final class DashboardInputTests: XCTestCase {
    let running = SyntheticSnapshot.make(step: 1284, state: .running, sequence: 100)
    let paused = SyntheticSnapshot.make(step: 1284, state: .paused, sequence: 100)

    func press(_ key: Key, _ view: ViewState = ViewState(), _ snapshot: TrainingSnapshot? = nil,
               history: [TrainingSnapshot] = [], themes: Int = 3) -> KeyOutcome {
        DashboardInput.handle(key, view: view, snapshot: snapshot ?? running, history: history, themeCount: themes)
    }

    func c(_ ch: Character) -> Key { .character(ch) }

    func testSpacePausesAndResumes() {
        XCTAssertEqual(press(c(" "), ViewState(), running).commands, [.pause])
        XCTAssertEqual(press(c(" "), ViewState(), paused).commands, [.resume])
        let finished = SyntheticSnapshot.make(step: 2000, state: .finished)
        XCTAssertEqual(press(c(" "), ViewState(), finished).commands, [], "nothing to pause after the end")
    }

    func testNStepsOnceAndPausesFirstWhenRunning() {
        XCTAssertEqual(press(c("n"), ViewState(), paused).commands, [.step(1)])
        XCTAssertEqual(press(c("n"), ViewState(), running).commands, [.pause, .step(1)])
    }

    func testPlusAndMinusSendTheNewTau() {
        let up = press(c("+"), ViewState(), paused)
        XCTAssertEqual(up.commands, [.setTau(0.15)])
        XCTAssertEqual(up.view.requestedTau, 0.15)
        // A second press before the engine answers builds on the first, not on the stale snapshot.
        XCTAssertEqual(press(c("+"), up.view, paused).commands, [.setTau(0.2)])
        XCTAssertEqual(press(c("="), ViewState(), paused).commands, [.setTau(0.15)], "= is + without Shift")
        XCTAssertEqual(press(c("-"), ViewState(), paused).commands, [.setTau(0.05)])
        let zero = SyntheticSnapshot.make(tau: 0)
        XCTAssertEqual(press(c("-"), ViewState(), zero).commands, [], "tau stays at 0")
        let top = SyntheticSnapshot.make(tau: 0.95)
        XCTAssertEqual(press(c("+"), ViewState(), top).commands, [], "tau stays at 0.95")
        // Once a snapshot shows the new tau the request is done.
        let caughtUp = SyntheticSnapshot.make(tau: 0.15)
        XCTAssertNil(up.view.reconciled(with: caughtUp).requestedTau)
        XCTAssertEqual(up.view.reconciled(with: paused).requestedTau, 0.15)
    }

    func testTCyclesTheThresholdMode() {
        let first = press(c("t"), ViewState(), paused)
        XCTAssertEqual(first.commands, [.setMode(.zeroBelow)])
        let second = press(c("t"), first.view, paused)
        XCTAssertEqual(second.commands, [.setMode(.binary)])
        XCTAssertEqual(press(c("t"), second.view, paused).commands, [.setMode(.soft)])
    }

    func testBracketsChangeTheSampleAndWrap() {
        var v = press(c("]")).view
        XCTAssertEqual(v.sampleIndex, 1)
        v = press(c("["), v).view
        XCTAssertEqual(v.sampleIndex, 0)
        v = press(c("["), v).view
        XCTAssertEqual(v.sampleIndex, 3, "4 samples: before the first is the last")
        XCTAssertEqual(press(c("]"), v).view.sampleIndex, 0)
        XCTAssertEqual(press(c("]")).commands, [], "the engine computes every sample; no command")
    }

    func testDSwapsTheDirection() {
        let v = press(c("d")).view
        XCTAssertEqual(v.direction, .ts)
        XCTAssertEqual(press(c("d"), v).view.direction, .st)
    }

    func testLeftAndRightScrubTheHistoryAndEndReturnsToLive() {
        let history = (0..<5).map { SyntheticSnapshot.make(step: 800 + 100 * $0, sequence: 95 + $0) }
        let live = SyntheticSnapshot.make(step: 1284, sequence: 100)
        let ring = history + [live]  // the engine's ring ends with the live snapshot
        var v = press(.left, ViewState(), live, history: ring).view
        XCTAssertEqual(v.scrubbedSequence, 99)
        XCTAssertEqual(v.scrubOffset(in: history), 1)
        v = press(.left, v, live, history: ring).view
        XCTAssertEqual(v.scrubbedSequence, 98)
        for _ in 0..<10 { v = press(.left, v, live, history: ring).view }
        XCTAssertEqual(v.scrubbedSequence, 95, "stops at the oldest")
        v = press(.right, v, live, history: ring).view
        XCTAssertEqual(v.scrubbedSequence, 96)
        XCTAssertNil(press(.end, v, live, history: ring).view.scrubbedSequence)
        XCTAssertNil(press(c("G"), v, live, history: ring).view.scrubbedSequence)
        v = press(.left, ViewState(), live, history: ring).view
        v = press(.right, v, live, history: ring).view
        XCTAssertNil(v.scrubbedSequence, "right past the newest is live again")
        XCTAssertEqual(press(.right, ViewState(), live, history: ring).view, ViewState(), "right while live: nothing")
        XCTAssertEqual(press(.left, ViewState(), live, history: []).view, ViewState(), "no history: nothing")
    }

    func testQuitWithUnsavedStepsAsksFirst() {
        XCTAssertTrue(running.hasUnsavedSteps)  // checkpoint 1200, step 1284
        let asked = press(c("q"), ViewState(), running)
        XCTAssertTrue(asked.view.quitPrompt)
        XCTAssertEqual(asked.commands, [])
        XCTAssertFalse(asked.quit)

        let yes = press(c("y"), asked.view, running)
        XCTAssertEqual(yes.commands, [.stop(save: true)])
        XCTAssertTrue(yes.quit)
        XCTAssertTrue(yes.view.stopping)
        XCTAssertFalse(yes.view.quitPrompt)

        let no = press(c("n"), asked.view, running)
        XCTAssertEqual(no.commands, [.stop(save: false)])
        XCTAssertTrue(no.quit)

        let cancel = press(c("c"), asked.view, running)
        XCTAssertEqual(cancel.commands, [])
        XCTAssertFalse(cancel.quit)
        XCTAssertFalse(cancel.view.quitPrompt)
        XCTAssertFalse(press(.escape, asked.view, running).view.quitPrompt)

        let other = press(c(" "), asked.view, running)
        XCTAssertEqual(other.commands, [], "other keys wait for an answer")
        XCTAssertTrue(other.view.quitPrompt)
    }

    func testQuitWhenSavedOrEndedDoesNotAsk() {
        let saved = SyntheticSnapshot.make(step: 1200, extraCheckpoint: 1200)
        XCTAssertFalse(saved.hasUnsavedSteps)
        let q = press(c("q"), ViewState(), saved)
        XCTAssertEqual(q.commands, [.stop(save: false)])
        XCTAssertTrue(q.quit)
        let ended = SyntheticSnapshot.make(step: 1284, state: .stopped)
        let e = press(c("q"), ViewState(), ended)
        XCTAssertEqual(e.commands, [])
        XCTAssertTrue(e.quit)
    }

    func testHelpOpensAndAnyKeyClosesIt() {
        let open = press(c("?"))
        XCTAssertTrue(open.view.helpShown)
        let closed = press(c(" "), open.view, running)
        XCTAssertFalse(closed.view.helpShown)
        XCTAssertEqual(closed.commands, [], "the key that closes the help does nothing else")
        XCTAssertFalse(press(c("?"), open.view).view.helpShown)
    }

    func testViewToggles() {
        XCTAssertEqual(press(c("a")).view.attentionRendering, .halfBlock)
        XCTAssertFalse(press(c("l")).view.logScale, "log is the default; l turns it off")
        XCTAssertEqual(press(c("x")).view.xAxis, .epoch)
        XCTAssertEqual(press(c(">")).view.smoothing, 0.8)
        XCTAssertEqual(press(c("<")).view.smoothing, 0.3)
        var v = ViewState()
        for _ in 0..<10 { v = press(c("<"), v).view }
        XCTAssertEqual(v.smoothing, 0, "raw curves at the bottom")
        XCTAssertEqual(press(c("T"), ViewState(), themes: 3).view.themeIndex, 1)
        var t = ViewState()
        t.themeIndex = 2
        XCTAssertEqual(press(c("T"), t, themes: 3).view.themeIndex, 0)
        XCTAssertEqual(press(c("s")).commands, [.save])
        XCTAssertEqual(press(c("u")).view, ViewState(), "unbound keys do nothing")
        // a: ASCII map -> colour map -> health -> ASCII map.
        var a = press(c("a")).view
        a = press(c("a"), a).view
        XCTAssertTrue(a.health)
        a = press(c("a"), a).view
        XCTAssertEqual(a, ViewState())
        // z: input -> attention -> generated -> composite -> the strips.
        var z = ViewState()
        var seen: [ZoomTarget?] = []
        for _ in 0..<5 { z = press(c("z"), z).view; seen.append(z.zoom) }
        XCTAssertEqual(seen, [.input, .attention, .generated, .composite, nil])
        // c: the stretch is on by default and display-only (no command).
        XCTAssertTrue(ViewState().stretch)
        XCTAssertFalse(press(c("c")).view.stretch)
        XCTAssertEqual(press(c("c")).commands, [])
    }

    func testCommandsStopOnceStopping() {
        var v = ViewState()
        v.stopping = true
        XCTAssertEqual(press(c(" "), v).commands, [])
        XCTAssertEqual(press(c("n"), v).commands, [])
        XCTAssertFalse(press(c("q"), v).quit)
    }
}
