import Foundation
import XCTest
@testable import Tensor

/// Compute.parallelFor really runs on the OpenMP team: with two threads, the two chunks
/// run on two different threads (a parallel region that silently ran on one thread would
/// still give right results, only slowly).
final class ComputeTests: XCTestCase {
    func testParallelForUsesTwoThreads() {
        let saved = Compute.threads
        Compute.setThreads(2)
        defer { Compute.setThreads(saved) }
        XCTAssertEqual(Compute.threads, 2)
        var chunks = [Range<Int>](repeating: 0..<0, count: 2)
        var threads = [pthread_t?](repeating: nil, count: 2)
        chunks.withUnsafeMutableBufferPointer { cp in
            threads.withUnsafeMutableBufferPointer { tp in
                Compute.parallelFor(10, minimumChunk: 5) { range in
                    let k = range.lowerBound / 5
                    cp[k] = range
                    tp[k] = pthread_self()
                }
            }
        }
        XCTAssertEqual(chunks, [0..<5, 5..<10])
        guard let a = threads[0], let b = threads[1] else { return XCTFail("a chunk did not run") }
        XCTAssertEqual(pthread_equal(a, b), 0, "both chunks ran on one thread")
    }

    func testSmallWorkRunsInline() {
        var calls: [Range<Int>] = []
        Compute.parallelFor(9, minimumChunk: 5) { calls.append($0) }
        XCTAssertEqual(calls, [0..<9])
        Compute.parallelFor(0, minimumChunk: 1) { calls.append($0) }
        XCTAssertEqual(calls.count, 1)
    }
}
