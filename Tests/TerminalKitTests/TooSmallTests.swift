import TestSupport
import XCTest
@testable import TerminalKit

final class TooSmallTests: XCTestCase {
    func testMessage() {
        XCTAssertEqual(TooSmall.message(current: Size(width: 60, height: 18)),
                       "terminal 60x18 is too small: aggan needs at least 80x24")
    }

    func testCentredOnOneLine() {
        let c = render(60, 9) { c, _ in TooSmall.draw(theme: testTheme, into: &c) }
        assertFrame(c, """
            
            
            
               terminal 60x9 is too small: aggan needs at least 80x24
            
                                      q quits
            """)
        XCTAssertEqual(c[3, 3].fg, testTheme[.warningFg])
        XCTAssertEqual(c[0, 0].bg, testTheme[.mainBg])
    }

    func testSplitWhenNarrow() {
        let c = render(40, 10) { c, _ in TooSmall.draw(theme: testTheme, into: &c) }
        assertFrame(c, """
            
            
            
                  terminal 40x10 is too small:
                   aggan needs at least 80x24
            
                            q quits
            """)
        let tiny = render(12, 1) { c, _ in TooSmall.draw(theme: testTheme, into: &c) }
        assertFrame(tiny, "terminal 12…")
        _ = render(0, 0) { c, _ in TooSmall.draw(theme: testTheme, into: &c) }
    }
}
