import XCTest
@testable import TerminalUI

/// Compares a canvas with a golden text frame (trailing blanks of each line ignored).
/// On a mismatch the message shows both frames, ready to paste.
func assertFrame(_ canvas: Canvas, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
    let actual = canvas.lines()
    var wanted = expected.split(separator: "\n", omittingEmptySubsequences: false).map {
        var s = String($0)
        while s.last == " " { s.removeLast() }
        return s
    }
    // A frame may leave out its blank last rows.
    while wanted.count < actual.count { wanted.append("") }
    if actual != wanted {
        let diff = zip(actual.indices, zip(actual, wanted)).compactMap { i, pair in
            pair.0 == pair.1 ? nil : "row \(i):\n  got  |\(pair.0)|\n  want |\(pair.1)|"
        }
        XCTFail("frame differs (\(actual.count) rows, \(wanted.count) expected)\n"
                + diff.joined(separator: "\n") + "\n--- got:\n" + actual.joined(separator: "\n"),
                file: file, line: line)
    }
}

/// A canvas of `width` x `height` with `draw` applied over all of it.
func render(_ width: Int, _ height: Int, _ draw: (inout Canvas, Rect) -> Void) -> Canvas {
    var canvas = Canvas(width: width, height: height)
    draw(&canvas, canvas.bounds)
    return canvas
}

let testTheme = Theme.default
