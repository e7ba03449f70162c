import XCTest
@testable import TerminalKit

final class CanvasTests: XCTestCase {
    func testPutClipsToCanvasAndClipRect() {
        var c = Canvas(width: 10, height: 3)
        let end = c.put("hello world", x: 2, y: 0)
        XCTAssertEqual(end, 13)
        c.put("abcdef", x: -2, y: 1)
        c.put("xyz", x: 0, y: 2, clip: Rect(x: 1, y: 0, width: 1, height: 3))
        c.put("never", x: 0, y: 5)
        assertFrame(c, """
              hello wo
            cdef
             y
            """)
    }

    func testBoxWithTitles() {
        var c = Canvas(width: 24, height: 4)
        c.box(c.bounds, title: "Losses", rightTitle: "log", border: .light)
        c.put("inside", x: 1, y: 1, clip: c.bounds.inset(by: 1))
        c.horizontalDivider(y: 2, from: 0, to: 23, title: "Preview")
        assertFrame(c, """
            ┌ Losses ───────── log ┐
            │inside                │
            ├ Preview ─────────────┤
            └──────────────────────┘
            """)
    }

    func testRoundedBoxCutsLongTitle() {
        var c = Canvas(width: 12, height: 3)
        c.box(c.bounds, title: "a very long title")
        assertFrame(c, """
            ╭ a very … ╮
            │          │
            ╰──────────╯
            """)
    }

    func testVerticalDivider() {
        var c = Canvas(width: 7, height: 4)
        c.box(c.bounds, border: .light)
        c.verticalDivider(x: 3, from: 0, to: 3)
        assertFrame(c, """
            ┌──┬──┐
            │  │  │
            │  │  │
            └──┴──┘
            """)
    }

    func testWideCharactersTakeTwoColumns() {
        var c = Canvas(width: 6, height: 2)
        XCTAssertEqual(c.put("核a", x: 0, y: 0), 3)
        XCTAssertTrue(c[1, 0].isContinuation)
        // Half of a wide character does not fit at the right edge: a blank instead.
        c.put("ab核", x: 3, y: 1)
        // Overwriting the second half of a wide character blanks the first.
        c.put("x", x: 1, y: 0)
        assertFrame(c, """
             xa
               ab
            """)
        XCTAssertEqual(columnWidth("核a"), 3)
        XCTAssertEqual(truncated("abcdef", to: 4), "abc…")
        XCTAssertEqual(truncated("abc", to: 4), "abc")
    }

    func testControlCharactersAreShownAsQuestionMarks() {
        var c = Canvas(width: 5, height: 1)
        c.put("a\nb\u{7}", x: 0, y: 0)
        assertFrame(c, "a?b?")
    }

    func testStylesAndTransparentBackground() {
        var c = Canvas(width: 6, height: 1, background: .rgb(1, 2, 3))
        c.put("ab", x: 0, y: 0, style: Style(fg: .rgb(255, 0, 0), attributes: .bold))
        c.put("c", x: 2, y: 0, style: Style(fg: .default, bg: .rgb(0, 0, 255)))
        XCTAssertEqual(c[0, 0].bg, .rgb(1, 2, 3), "a nil background keeps the cell's")
        XCTAssertEqual(c.styledDump(), """
            fg=#ff0000 bg=#010203 +bold "ab" | fg=default bg=#0000ff "c" | fg=default bg=#010203 "   "
            """)
        XCTAssertEqual(c.text(trimTrailing: false), "abc   ")
    }

    func testFillAndCentred() {
        var c = Canvas(width: 5, height: 3)
        c.fill(c.bounds.centered(Size(width: 3, height: 1)), with: "#")
        assertFrame(c, """

             ###
            """)
        XCTAssertEqual(Rect(x: 0, y: 0, width: 5, height: 5).intersection(Rect(x: 3, y: 4, width: 9, height: 9)),
                       Rect(x: 3, y: 4, width: 2, height: 1))
    }

    func testColorMixing() {
        XCTAssertEqual(Color.rgb(0, 0, 0).mixed(with: .rgb(255, 100, 10), 0.5), .rgb(128, 50, 5))
        XCTAssertEqual(Color.rgb(0, 0, 0).mixed(with: .default, 0.4), .rgb(0, 0, 0))
        XCTAssertEqual(Color.rgb(0, 0, 0).mixed(with: .default, 0.6), .default)
        XCTAssertEqual(Color.grey(0xab).hex, "#ababab")
    }
}
