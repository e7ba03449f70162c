import TerminalKit
import TestSupport
import XCTest

/// Fails when `canvas` differs from the golden text frame `expected`.
func assertFrame(_ canvas: Canvas, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
    if let d = frameDifference(canvas, expected) { XCTFail(d, file: file, line: line) }
}
