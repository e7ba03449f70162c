import Foundation
import Dashboard
import TerminalKit
import XCTest

/// The README's key list is generated from the one key table; this keeps them in step.
final class ReadmeKeysTests: XCTestCase {
    func testReadmeListsTheKeyTable() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let table = KeyTable.markdown()
        XCTAssertTrue(text.contains(table), "README.md's key list differs from KeyTable.markdown():\n\(table)")
    }
}
