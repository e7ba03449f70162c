import Foundation
import XCTest
@testable import TerminalKit

/// The kitty and sixel encoders against encodings derived by hand from the protocols,
/// and the layer that keeps a terminal's images in step with the frames.
final class GraphicsTests: XCTestCase {
    private let esc = "\u{1B}"

    private func string(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// A 2x1 image, red then blue: RGB bytes ff 00 00 00 00 ff, base64 `/wAAAAD/`
    /// (ff0000 -> 111111 110000 000000 000000 -> `/wAA`; 0000ff -> `AAD/`).
    func testKittyPlacementOfASmallImageByteForByte() {
        let image = CanvasImage(rect: Rect(x: 3, y: 4, width: 2, height: 1), width: 2, height: 1,
                                rgb: [255, 0, 0, 0, 0, 255])
        XCTAssertEqual(string(KittyGraphics.place(image, id: 4701)),
                       esc + "_Ga=T,f=24,s=2,v=1,i=4701,c=2,r=1,C=1,q=2;/wAAAAD/" + esc + "\\")
        XCTAssertEqual(string(KittyGraphics.delete(id: 4702)), esc + "_Ga=d,d=I,i=4702,q=2" + esc + "\\")
    }

    func testBase64MatchesFoundationsForEveryPadding() {
        for n in 0..<8 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 * 97 + 13) }
            XCTAssertEqual(string(KittyGraphics.base64(bytes)), Data(bytes).base64EncodedString(), "\(n) bytes")
        }
    }

    /// 1366 pixels are 4098 bytes, 5464 base64 characters: a first chunk of 4096 with the
    /// keys and m=1, a last one of 1368 with m=0.
    func testKittyChunksLongPayloads() {
        let rgb = (0..<(1366 * 3)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let image = CanvasImage(rect: Rect(x: 0, y: 0, width: 40, height: 2), width: 1366, height: 1, rgb: rgb)
        let text = string(KittyGraphics.place(image, id: 4701))
        let b64 = Data(rgb).base64EncodedString()
        XCTAssertEqual(b64.count, 5464)
        let expected = esc + "_Ga=T,f=24,s=1366,v=1,i=4701,c=40,r=2,C=1,q=2,m=1;" + String(b64.prefix(4096)) + esc + "\\"
            + esc + "_Gm=0,q=2;" + String(b64.dropFirst(4096)) + esc + "\\"
        XCTAssertEqual(text, expected)
    }

    /// A 5x7 image: rows 0-1 `R R R R B`, rows 2-5 black, row 6 white. Registers by first
    /// appearance: 0 red, 1 blue, 2 black, 3 white (percent levels). Band 0: red in
    /// rows 0-1 of columns 0-3 is bits 000011 = 3 -> `B` four times -> `!4B`, the last
    /// column `?` dropped; blue in column 4 -> `!4?B`; black in rows 2-5 = 111100 = 60
    /// -> `{` -> `!5{`. Band 1 (row 6 only): white, bit 0 -> `@` -> `!5@`.
    func testSixelOfASmallImageByteForByte() {
        let R: [UInt8] = [255, 0, 0], B: [UInt8] = [0, 0, 255], K: [UInt8] = [0, 0, 0], W: [UInt8] = [255, 255, 255]
        var rgb: [UInt8] = []
        for _ in 0..<2 { rgb += R + R + R + R + B }
        for _ in 0..<4 { rgb += K + K + K + K + K }
        rgb += W + W + W + W + W
        let expected = esc + "P0;1q\"1;1;5;7"
            + "#0;2;100;0;0#1;2;0;0;100#2;2;0;0;0#3;2;100;100;100"
            + "#0!4B$#1!4?B$#2!5{"
            + "-#3!5@"
            + esc + "\\"
        XCTAssertEqual(string(Sixel.encode(rgb: rgb, width: 5, height: 7)), expected)
    }

    /// Short runs stay literal (`!n` only from 4 on) and a lone colour in the middle of
    /// a band keeps its leading `?`s.
    func testSixelRunsAndGreyLevels() {
        // 6x1: grey 128 (50 %) at columns 0-2, then 3 black.
        let g: [UInt8] = [128, 128, 128], k: [UInt8] = [0, 0, 0]
        let rgb = g + g + g + k + k + k
        XCTAssertEqual(string(Sixel.encode(rgb: rgb, width: 6, height: 1)),
                       esc + "P0;1q\"1;1;6;1#0;2;50;50;50#1;2;0;0;0#0@@@$#1???@@@" + esc + "\\")
    }

    /// More than 256 colours: the pixels go through the xterm palette; decoding the
    /// sequence paints every pixel exactly once, in a colour near its own.
    func testSixelWithManyColoursPaintsEveryPixelOnce() throws {
        let w = 23, h = 20
        var rgb: [UInt8] = []
        for y in 0..<h { for x in 0..<w { rgb += [UInt8(x * 11), UInt8(y * 13), UInt8((x * y) % 256)] } }
        let decoded = try decodeSixel(string(Sixel.encode(rgb: rgb, width: w, height: h)))
        XCTAssertEqual(decoded.width, w)
        XCTAssertEqual(decoded.height, h)
        XCTAssertLessThanOrEqual(decoded.palette.count, 256)
        for i in 0..<(w * h) {
            XCTAssertEqual(decoded.paints[i].count, 1, "pixel \(i) painted once")
            guard let r = decoded.paints[i].first, let c = decoded.palette[r] else { continue }
            for ch in 0..<3 {
                let want = Int(rgb[3 * i + ch]) * 100 / 255
                XCTAssertLessThanOrEqual(abs(c[ch] - want), 20, "pixel \(i) channel \(ch)")
            }
        }
    }

    /// A small sixel reader for the test: registers defined with `#n;2;r;g;b`, the
    /// registers painted per pixel.
    private func decodeSixel(_ s: String) throws -> (width: Int, height: Int, palette: [Int: [Int]], paints: [[Int]]) {
        var chars = Array(s.unicodeScalars)
        XCTAssertTrue(s.hasPrefix(esc + "P0;1q\""))
        XCTAssertTrue(s.hasSuffix(esc + "\\"))
        chars = Array(chars[6..<(chars.count - 2)])
        var i = 0
        func number() -> Int {
            var v = 0
            while i < chars.count, let d = Int(String(chars[i])) { v = v * 10 + d; i += 1 }
            return v
        }
        i = 1  // after the '"'
        _ = number(); i += 1; _ = number(); i += 1  // the aspect 1;1
        let width = number(); i += 1
        let height = number()
        var palette: [Int: [Int]] = [:]
        var paints = [[Int]](repeating: [], count: width * height)
        var x = 0, band = 0, colour = 0
        func paint(_ bits: Int) {
            for k in 0..<6 where bits & (1 << k) != 0 {
                let y = band * 6 + k
                if y < height, x < width { paints[y * width + x].append(colour) }
            }
            x += 1
        }
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "#":
                i += 1
                colour = number()
                if i < chars.count, chars[i] == ";" {
                    i += 1; _ = number(); i += 1
                    let r = number(); i += 1
                    let g = number(); i += 1
                    palette[colour] = [r, g, number()]
                }
            case "$": x = 0; i += 1
            case "-": x = 0; band += 1; i += 1
            case "!":
                i += 1
                let n = number()
                let bits = Int(chars[i].value) - 63
                for _ in 0..<n { paint(bits) }
                i += 1
            default:
                paint(Int(c.value) - 63)
                i += 1
            }
        }
        return (width, height, palette, paints)
    }

    func testAutoModeFromTheEnvironment() {
        func mode(_ env: [String: String]) -> GraphicsMode { GraphicsMode.auto.resolved(environment: env) }
        XCTAssertEqual(mode(["TERM": "xterm-kitty"]), .kitty)
        XCTAssertEqual(mode(["TERM": "xterm-256color", "KITTY_WINDOW_ID": "1"]), .kitty)
        XCTAssertEqual(mode(["TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"]), .kitty)
        XCTAssertEqual(mode(["TERM": "foot"]), .sixel)
        XCTAssertEqual(mode(["TERM": "xterm-256color"]), .blocks)
        XCTAssertEqual(mode(["TERM": "tmux-256color", "TMUX": "default,1,0"]), .blocks)
        XCTAssertEqual(mode(["TERM": "xterm-kitty", "TMUX": "x,1,0"]), .blocks, "half-blocks inside tmux")
        XCTAssertEqual(mode(["TERM": "screen-256color"]), .blocks)
        XCTAssertEqual(mode(["TERM": "xterm-kitty", "NO_COLOR": "1"]), .blocks)
        XCTAssertEqual(GraphicsMode.sixel.resolved(environment: ["TMUX": "x"]), .sixel, "asked for is kept")
    }

    private func image(_ x: Int, level: UInt8 = 200) -> CanvasImage {
        CanvasImage(rect: Rect(x: x, y: 10, width: 4, height: 2), width: 2, height: 2,
                    rgb: [UInt8](repeating: level, count: 12))
    }

    func testKittyLayerSendsOnlyChangesAndDeletesWhatItShowed() {
        let layer = GraphicsLayer(mode: .kitty)
        let a = image(2), b = image(20)
        let first = string(layer.frame([a, b]))
        let save = esc + "7", restore = esc + "8"
        XCTAssertEqual(first, save + esc + "[11;3H" + string(KittyGraphics.place(a, id: 4701))
                       + esc + "[11;21H" + string(KittyGraphics.place(b, id: 4702)) + restore)
        XCTAssertEqual(layer.frame([a, b]), [], "the same images again send nothing")
        let b2 = image(20, level: 90)
        XCTAssertEqual(string(layer.frame([a, b2])), save + string(KittyGraphics.delete(id: 4702))
                       + esc + "[11;21H" + string(KittyGraphics.place(b2, id: 4702)) + restore)
        XCTAssertEqual(string(layer.frame([a])), save + string(KittyGraphics.delete(id: 4702)) + restore,
                       "an image gone is deleted")
        let again = string(layer.frame([a], cleared: true))
        XCTAssertEqual(again, save + string(KittyGraphics.delete(id: 4701)) + esc + "[11;3H"
                       + string(KittyGraphics.place(a, id: 4701)) + restore, "a cleared screen gets its images again")
        XCTAssertEqual(string(layer.clear()), string(KittyGraphics.delete(id: 4701)))
        XCTAssertEqual(layer.clear(), [], "nothing left to delete")
        XCTAssertEqual(GraphicsLayer(mode: .blocks).frame([a]), [])
    }

    func testSixelLayerRedrawsImagesUnderRepaintedCells() {
        let layer = GraphicsLayer(mode: .sixel, cellPixels: Size(width: 1, height: 1))
        let a = image(2)
        // 4x2 cells of 1x1 pixels: the 2x2 image fits at 2x2.
        let sixel = string(Sixel.encode(rgb: a.rgb, width: 2, height: 2))
        XCTAssertEqual(string(layer.frame([a])), esc + "7" + esc + "[11;3H" + sixel + esc + "8")
        XCTAssertEqual(layer.frame([a]), [])
        XCTAssertEqual(string(layer.frame([a], repainted: { $0 == a.rect })), esc + "7" + esc + "[11;3H" + sixel + esc + "8")
        XCTAssertEqual(layer.vacated(by: [a]), [])
        XCTAssertEqual(layer.vacated(by: [image(30)]), [a.rect], "a moved image leaves its cells to be drawn again")
        XCTAssertEqual(layer.vacated(by: []), [a.rect])
        XCTAssertEqual(layer.clear(), [], "sixels go with the screen")
    }

    func testSixelLayerScalesToTheCellsPixels() {
        let layer = GraphicsLayer(mode: .sixel, cellPixels: Size(width: 3, height: 6))
        let a = image(0)  // 4x2 cells = 12x12 pixels
        let text = string(layer.frame([a]))
        XCTAssertTrue(text.contains("\"1;1;12;12#0;2;78;78;78"), text)
    }

    func testFillOverAnImageRemovesIt() {
        var canvas = Canvas(width: 40, height: 20)
        canvas.images = [image(2), image(20)]
        canvas.fill(Rect(x: 21, y: 11, width: 3, height: 3))
        XCTAssertEqual(canvas.images, [image(2)])
    }

    func testAnImageStripImageIsKeptAtItsOwnPixels() {
        var canvas = Canvas(width: 40, height: 20)
        let strip = StripImage(label: "g", width: 2, height: 2, channels: 1, pixels: [0, 1, 0.5, 0.25])
        let drawn = ImageStrip.drawImage(strip, rendering: .halfBlock, into: &canvas, in: Rect(x: 1, y: 1, width: 10, height: 10))
        XCTAssertEqual(canvas.images, [CanvasImage(rect: drawn, width: 2, height: 2,
                                                   rgb: [0, 0, 0, 255, 255, 255, 128, 128, 128, 64, 64, 64])])
        XCTAssertEqual(drawn, Rect(x: 1, y: 1, width: 10, height: 5))
    }
}
