import Foundation
import XCTest
@testable import TerminalKit
import Dashboard
import TestSupport

/// The ncurses backend drawing into a file as an xterm-256color of 100x30.
final class NCursesTerminalTests: XCTestCase {
    func testBlitWritesOnlyWhatChanged() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("aggan-ncurses-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let terminal = try NCursesTerminal(depth: .ansi256, environment: ["TERM": "xterm-256color"],
                                           benchmarkOutput: path, benchmarkSize: Size(width: 100, height: 30))
        XCTAssertEqual(terminal.size, Size(width: 100, height: 30))
        XCTAssertEqual(terminal.depth, .ansi256)
        let snapshot = SyntheticSnapshot.make(step: 1284)
        let frame = Dashboard.render(snapshot, view: ViewState(), size: terminal.size, theme: .default)
        terminal.blit(frame)
        let afterFirst = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        terminal.blit(frame)
        let afterSame = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        var changed = frame
        changed.put("X", x: 50, y: 15, style: Style(fg: .rgb(255, 0, 0)))
        terminal.blit(changed)
        let afterOne = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        terminal.restore()
        terminal.restore()  // twice is fine

        XCTAssertGreaterThan(afterFirst, 3000, "the first frame draws everything")
        XCTAssertEqual(afterSame, afterFirst, "the same frame again sends nothing")
        XCTAssertGreaterThan(afterOne, afterSame)
        XCTAssertLessThan(afterOne - afterSame, 64, "one changed cell sends a few bytes")
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        XCTAssertTrue(text.contains("RUNNING"))
        XCTAssertTrue(text.contains("⠀") || text.contains("⣀") || text.contains("⠉"), "braille reaches the terminal")
        XCTAssertTrue(text.contains("\u{1B}[38;5;"), "256-colour foregrounds")
    }

    /// When the colour pair table fills up in the middle of a frame, the frame starts over
    /// from its first row: every row ends up holding its own cells (an earlier version
    /// restarted the column loop with the row index of the row it was on, drawing that
    /// row's cells onto the first one).
    func testFullPairTableRedrawsEveryRowInPlace() throws {
        // An 8-colour terminal (63 pairs; bright colours fold onto the basic 8), and a
        // 16-colour one whose pair table is cut to 40.
        for (term, limit) in [("xterm", nil), ("xterm-256color", Int32(40))] as [(String, Int32?)] {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("aggan-pairs-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            let terminal = try NCursesTerminal(depth: .ansi16, environment: ["TERM": term], benchmarkOutput: path,
                                               benchmarkSize: Size(width: 40, height: 12), pairLimit: limit)
            defer { terminal.restore() }
            XCTAssertEqual(terminal.depth, .ansi16, term)
            let levels: [UInt8] = [0, 128, 255]
            let colours = levels.flatMap { r in levels.flatMap { g in levels.map { b in Color.rgb(r, g, b) } } }
            var canvas = Canvas(width: 40, height: 12)
            for y in 0..<12 {
                let letter = Character(Unicode.Scalar(UInt8(65 + y)))
                for x in 0..<40 {
                    // Row 0 in the default colours (no pair); the others cycle through many pairs.
                    let style = y == 0 ? Style()
                        : Style(fg: colours[(x + 7 * y) % colours.count], bg: colours[(3 * x + y) % colours.count])
                    canvas.set(letter, x: x, y: y, style: style)
                }
            }
            for round in 0..<2 {
                terminal.blit(canvas)
                for y in 0..<12 {
                    let row = String((0..<40).map { terminal.character(x: $0, y: y) })
                    XCTAssertEqual(row, String(repeating: String(Character(Unicode.Scalar(UInt8(65 + y)))), count: 40),
                                   "\(term) round \(round) row \(y)")
                }
                terminal.invalidate()
            }
        }
    }

    /// ncurses' KEY_ codes (from its header, as the terminal reports them) map to keys.
    func testFunctionKeys() {
        let codes: [(Int32, Key)] = [(0o404, .left), (0o405, .right), (0o403, .up), (0o402, .down),
                                     (0o406, .home), (0o550, .end), (0o523, .pageUp), (0o522, .pageDown),
                                     (0o527, .enter), (0o407, .backspace)]
        for (code, key) in codes { XCTAssertEqual(NCursesTerminal.functionKey(code), key, "KEY code \(code)") }
        XCTAssertNil(NCursesTerminal.functionKey(-12345))
        XCTAssertNil(NCursesTerminal.functionKey(0o410), "F0 has no meaning here")
    }
}
