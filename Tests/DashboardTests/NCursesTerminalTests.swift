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
