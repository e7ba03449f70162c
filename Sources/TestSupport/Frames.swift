// Golden text frames for the terminal tests (no XCTest here: the benchmark links this too).
import TerminalKit

/// Compares a canvas with a golden text frame (trailing blanks of each line ignored):
/// nil when they agree, else a message that shows both frames, ready to paste.
public func frameDifference(_ canvas: Canvas, _ expected: String) -> String? {
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
        return "frame differs (\(actual.count) rows, \(wanted.count) expected)\n"
            + diff.joined(separator: "\n") + "\n--- got:\n" + actual.joined(separator: "\n")
    }
    return nil
}

/// A canvas of `width` x `height` with `draw` applied over all of it.
public func render(_ width: Int, _ height: Int, _ draw: (inout Canvas, Rect) -> Void) -> Canvas {
    var canvas = Canvas(width: width, height: height)
    draw(&canvas, canvas.bounds)
    return canvas
}

public let testTheme = Theme.default
