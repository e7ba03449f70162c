import XCTest
@testable import Tensor

/// The automatic thread count: probes every candidate, keeps the fastest, probes again
/// when steps slow down or after `recheckEvery` steps.
final class ThreadTunerTests: XCTestCase {
    /// Drives a tuner with step times from `cost(threads, step)` and returns the counts used.
    func drive(_ tuner: inout ThreadTuner, steps: Range<Int>, _ cost: (Int, Int) -> Double) -> [Int] {
        steps.map { i in
            let n = tuner.current
            tuner.record(cost(n, i))
            return n
        }
    }

    func testCandidatesHalveDownToOne() {
        XCTAssertEqual(ThreadTuner(maximum: 2).candidates, [2, 1])
        XCTAssertEqual(ThreadTuner(maximum: 8).candidates, [8, 4, 2, 1])
        let single = ThreadTuner(maximum: 1)
        XCTAssertEqual(single.candidates, [1])
        XCTAssertEqual(single.chosen, 1)
    }

    func testKeepsTheFasterCountAndFollowsTheLoad() {
        var t = ThreadTuner(maximum: 2)
        // Idle: 2 threads 0.27 s, 1 thread 0.45 s.
        let idle = drive(&t, steps: 0..<20) { n, _ in n == 2 ? 0.27 : 0.45 }
        XCTAssertEqual(Array(idle.prefix(4)), [2, 2, 1, 1], "probes both counts")
        XCTAssertEqual(t.chosen, 2)
        XCTAssertTrue(idle.dropFirst(4).allSatisfy { $0 == 2 })
        // Another process takes a core: 2 threads now 1.1 s, 1 thread 0.43 s.
        let loaded = drive(&t, steps: 20..<40) { n, _ in n == 2 ? 1.1 : 0.43 }
        XCTAssertEqual(Array(loaded.prefix(3)), [2, 2, 2], "patience before probing again")
        XCTAssertEqual(t.chosen, 1)
        XCTAssertEqual(loaded.last, 1)
        // The load goes: the periodic recheck finds 2 threads again.
        t.recheckEvery = 10
        _ = drive(&t, steps: 40..<60) { n, _ in n == 2 ? 0.27 : 0.45 }
        XCTAssertEqual(t.chosen, 2)
        XCTAssertEqual(t.current, 2)
    }

    func testOneSlowStepDoesNotTriggerAProbe() {
        var t = ThreadTuner(maximum: 2)
        _ = drive(&t, steps: 0..<4) { n, _ in n == 2 ? 0.2 : 0.3 }
        let used = drive(&t, steps: 4..<30) { n, i in i % 7 == 0 ? 1.0 : (n == 2 ? 0.2 : 0.3) }
        XCTAssertTrue(used.allSatisfy { $0 == 2 }, "a checkpoint save or preview now and then is not load")
    }
}
