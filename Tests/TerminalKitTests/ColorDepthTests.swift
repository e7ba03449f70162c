import XCTest
@testable import TerminalKit

final class ColorDepthTests: XCTestCase {
    func testDetection() {
        let cases: [([String: String], ColorDepth)] = [
            (["TERM": "xterm-256color", "COLORTERM": "truecolor"], .truecolor),
            (["TERM": "xterm-256color", "COLORTERM": "24bit"], .truecolor),
            (["TERM": "tmux-256color"], .ansi256),
            (["TERM": "xterm-direct"], .truecolor),
            (["TERM": "xterm"], .ansi16),
            (["TERM": "linux"], .ansi16),
            (["TERM": "dumb", "COLORTERM": "truecolor"], .none),
            ([:], .none),
            (["TERM": "xterm-256color", "COLORTERM": "truecolor", "NO_COLOR": "1"], .none),
            (["TERM": "xterm-256color", "NO_COLOR": ""], .ansi256),
        ]
        for (env, want) in cases {
            XCTAssertEqual(ColorDepth.detect(environment: env), want, "\(env)")
        }
    }

    func testNames() {
        XCTAssertEqual(ColorDepth(name: "24bit"), .truecolor)
        XCTAssertEqual(ColorDepth(name: "256"), .ansi256)
        XCTAssertEqual(ColorDepth(name: "16"), .ansi16)
        XCTAssertEqual(ColorDepth(name: "none"), ColorDepth.none)
        XCTAssertNil(ColorDepth(name: "lots"))
    }

    func testXterm256Nearest() {
        XCTAssertEqual(ColorConversion.xterm256Index(255, 0, 0), 196)
        XCTAssertEqual(ColorConversion.xterm256Index(0, 0, 0), 16)
        XCTAssertEqual(ColorConversion.xterm256Index(255, 255, 255), 231)
        XCTAssertEqual(ColorConversion.xterm256Index(95, 135, 175), 67)
        XCTAssertEqual(ColorConversion.xterm256Index(128, 128, 128), 244, "grey ramp 8 + 10 * 12")
        XCTAssertEqual(ColorConversion.xterm256Index(238, 238, 238), 255)
        XCTAssertEqual(ColorConversion.xterm256Index(100, 0, 0), 52, "near the cube level 95")
        XCTAssertEqual(ColorConversion.xterm256Index(0x11, 0x13, 0x18), 233, "the default background is a grey")
        XCTAssertEqual(ColorConversion.xterm256Index(0xf0, 0xb7, 0x5e), 215)
        // Every cube and grey-ramp colour maps back to its own index.
        for i in 16...255 {
            let c = ColorConversion.xterm256RGB(UInt8(i))
            XCTAssertEqual(Int(ColorConversion.xterm256Index(UInt8(c.r), UInt8(c.g), UInt8(c.b))), i)
        }
    }

    func testAnsi16Nearest() {
        XCTAssertEqual(ColorConversion.ansi16Index(255, 0, 0), 9)
        XCTAssertEqual(ColorConversion.ansi16Index(200, 0, 0), 1)
        XCTAssertEqual(ColorConversion.ansi16Index(0, 0, 200), 4)
        XCTAssertEqual(ColorConversion.ansi16Index(120, 120, 120), 8)
        XCTAssertEqual(ColorConversion.ansi16Index(250, 250, 250), 15)
        XCTAssertEqual(ColorConversion.ansi16Index(10, 10, 10), 0)
        XCTAssertEqual(ColorConversion.ansi16Index(0x98, 0xc3, 0x79), 8)
    }

    func testResolve() {
        let c = Color.rgb(255, 0, 0)
        XCTAssertEqual(ColorDepth.truecolor.resolve(c), .rgb(255, 0, 0))
        XCTAssertEqual(ColorDepth.ansi256.resolve(c), .indexed(196))
        XCTAssertEqual(ColorDepth.ansi16.resolve(c), .indexed(9))
        XCTAssertEqual(ColorDepth.none.resolve(c), .default)
        XCTAssertEqual(ColorDepth.truecolor.resolve(.default), .default)
    }
}
