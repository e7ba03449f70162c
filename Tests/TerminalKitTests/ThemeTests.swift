import Foundation
import XCTest
@testable import TerminalKit

/// The repository's themes/ folder, found from this file's place in the tree.
let themesDirectory: String = {
    URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("themes").path
}()

final class ThemeTests: XCTestCase {
    func testParsesBtopGrammarCommentsAndUnknownKeys() {
        let text = """
            # a comment
               # an indented comment

            theme[main_bg]="#102030"
            theme[main_fg] = "#AABBCC"   # trailing comment
            title="#ff0000"
            hi_fg=#00ff00
            theme[cpu_box]="#123456"
            theme[graph_1]="#ab"
            theme[graph_2]="10 20 30"
            theme[heat_start]=""
            """
        let result = Theme.parse(text, name: "t")
        XCTAssertEqual(result.warnings, [])
        XCTAssertEqual(result.ignoredKeys, ["cpu_box"])
        let t = result.theme
        XCTAssertEqual(t.name, "t")
        XCTAssertEqual(t[.mainBg], .rgb(0x10, 0x20, 0x30))
        XCTAssertEqual(t[.mainFg], .rgb(0xaa, 0xbb, 0xcc))
        XCTAssertEqual(t[.title], .rgb(255, 0, 0))
        XCTAssertEqual(t[.hiFg], .rgb(0, 255, 0))
        XCTAssertEqual(t[.graph1], .grey(0xab))
        XCTAssertEqual(t[.graph2], .rgb(10, 20, 30))
        XCTAssertEqual(t[.heatStart], .default)
    }

    func testMissingKeysTakeTheDefault() {
        let t = Theme.parse("theme[main_bg]=\"#000000\"\n", name: "partial").theme
        XCTAssertEqual(t[.mainBg], .rgb(0, 0, 0))
        XCTAssertEqual(t[.graph3], Theme.default[.graph3])
        XCTAssertEqual(t[.graph3], .rgb(0x98, 0xc3, 0x79))
        for key in ThemeKey.allCases where key != .mainBg {
            XCTAssertEqual(t[key], Theme.default[key], key.rawValue)
        }
    }

    func testMalformedLinesAreWarnedWithLineNumbers() {
        let text = """
            theme[main_bg]="#000000"
            just some words
            theme[main_fg="#ffffff"
            theme[title]="#12345"
            theme[hi_fg]="#ffffff
            theme[div_line]="#ffffff" extra
            theme[bad key]="#ffffff"
            theme[inactive_fg]="300 0 0"
            theme[graph_text]="#333333"
            """
        let result = Theme.parse(text, name: "bad")
        XCTAssertEqual(result.warnings.map(\.description), [
            "line 2: expected theme[key]=\"value\", found \"just some words\"",
            "line 3: missing ']' after theme[main_fg",
            "line 4: title: cannot read colour \"#12345\" (want \"#RRGGBB\", \"#GG\", \"R G B\" or \"\")",
            "line 5: hi_fg: missing closing quote",
            "line 6: div_line: unexpected text after the value: \"extra\"",
            "line 7: malformed key \"bad key\"",
            "line 8: inactive_fg: cannot read colour \"300 0 0\" (want \"#RRGGBB\", \"#GG\", \"R G B\" or \"\")",
        ])
        // Good lines still count; bad ones keep the default.
        XCTAssertEqual(result.theme[.mainBg], .rgb(0, 0, 0))
        XCTAssertEqual(result.theme[.graphText], .grey(0x33))
        XCTAssertEqual(result.theme[.title], Theme.default[.title])
    }

    func testColourValues() {
        XCTAssertEqual(Theme.parseColor("#FFfF00"), .rgb(255, 255, 0))
        XCTAssertEqual(Theme.parseColor("#0a"), .grey(10))
        XCTAssertEqual(Theme.parseColor(""), .default)
        XCTAssertEqual(Theme.parseColor("0 128 255"), .rgb(0, 128, 255))
        XCTAssertNil(Theme.parseColor("#gg0000"))
        XCTAssertNil(Theme.parseColor("red"))
        XCTAssertNil(Theme.parseColor("#1234"))
    }

    func testBuiltinThemesMatchTheFilesAndSetEveryKey() throws {
        for name in Theme.builtinNames {
            let path = (themesDirectory as NSString).appendingPathComponent(name + ".theme")
            let file = try String(contentsOfFile: path, encoding: .utf8)
            let builtin = try XCTUnwrap(BuiltinThemes.sources[name])
            XCTAssertEqual(file, builtin + "\n", "themes/\(name).theme and BuiltinThemes differ")
            let result = Theme.parse(file, name: name, base: Theme(name: "", colors: [:]))
            XCTAssertEqual(result.warnings, [], name)
            XCTAssertEqual(result.ignoredKeys, [], name)
            XCTAssertEqual(Set(result.theme.colors.keys), Set(ThemeKey.allCases), "\(name) sets every key")
        }
        XCTAssertEqual(Theme.builtin(named: "mono")?[.mainBg], .default)
        XCTAssertEqual(Theme.builtin(named: "light")?[.mainBg], .rgb(0xfa, 0xfa, 0xfa))
        XCTAssertNil(Theme.builtin(named: "nope"))
    }

    func testLoadByNameAndPath() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aggan-theme-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "theme[main_bg]=\"#010101\"\n".write(to: dir.appendingPathComponent("mine.theme"), atomically: true,
                                                  encoding: .utf8)
        try "theme[main_bg]=\"#020202\"\n".write(to: dir.appendingPathComponent("light.theme"), atomically: true,
                                                  encoding: .utf8)

        let byName = try Theme.load("mine", searchDirectories: [dir.path])
        XCTAssertEqual(byName.theme.name, "mine")
        XCTAssertEqual(byName.theme[.mainBg], .grey(1))
        let byPath = try Theme.load(dir.appendingPathComponent("mine.theme").path, searchDirectories: [])
        XCTAssertEqual(byPath.theme[.mainBg], .grey(1))
        XCTAssertEqual(try Theme.load("light", searchDirectories: [dir.path]).theme[.mainBg], .grey(2),
                       "a file wins over the built-in theme")
        XCTAssertEqual(try Theme.load("light", searchDirectories: []).theme[.mainBg], .rgb(0xfa, 0xfa, 0xfa))
        XCTAssertEqual(try Theme.load("default", searchDirectories: [themesDirectory]).theme, Theme.default)
        XCTAssertEqual(Theme.availableNames(searchDirectories: [dir.path, themesDirectory]),
                       ["default", "light", "mono", "mine"])

        XCTAssertThrowsError(try Theme.load("missing", searchDirectories: [dir.path])) { error in
            XCTAssertEqual("\(error)", "no theme named 'missing' (looked in '\(dir.path)' or among the built-in "
                           + "themes; available: default, light, mono, mine)")
        }
        XCTAssertThrowsError(try Theme.load("nowhere/x.theme", searchDirectories: [])) { error in
            XCTAssertEqual("\(error)", "cannot read theme 'nowhere/x.theme': no such file")
        }
    }

    func testHeatGradientAndSeriesColours() {
        let t = Theme.default
        XCTAssertEqual(t.heat(0), t[.heatStart])
        XCTAssertEqual(t.heat(0.5), t[.heatMid])
        XCTAssertEqual(t.heat(1), t[.heatEnd])
        XCTAssertEqual(t.heat(2), t[.heatEnd])
        XCTAssertEqual(t.heat(.nan), t[.heatStart])
        XCTAssertEqual(t.heat(0.25), .rgb(0x6d, 0x28, 0x80))
        XCTAssertEqual(t.seriesColor(0), t[.graph1])
        XCTAssertEqual(t.seriesColor(9), t[.graph2])
        XCTAssertEqual(t.seriesColor(-1), t[.graph8])
    }
}
