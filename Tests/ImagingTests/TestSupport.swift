import Foundation
import XCTest
import Imaging

/// Writes PNG bytes by hand (stored deflate blocks, CRC-32, Adler-32), independent of
/// libpng, so the tests can make every colour type and bit depth and break files on
/// purpose.
enum HandPNG {
    /// PNG colour types.
    static let gray: UInt8 = 0, rgb: UInt8 = 2, palette: UInt8 = 3, grayAlpha: UInt8 = 4, rgba: UInt8 = 6

    /// A complete PNG. `samples` are interleaved per pixel (palette: indices), row-major,
    /// each in 0..<(1 << bitDepth). `extra` chunks go between IHDR and PLTE/IDAT.
    static func encode(width: Int, height: Int, bitDepth: Int, colorType: UInt8, samples: [Int],
                       palette: [UInt8]? = nil, transparency: [UInt8]? = nil,
                       extra: [(String, [UInt8])] = []) -> [UInt8] {
        let perPixel = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][Int(colorType)] ?? 1
        var raw: [UInt8] = []
        for y in 0..<height {
            raw.append(0) // filter: none
            let row = Array(samples[(y * width * perPixel)..<((y + 1) * width * perPixel)])
            raw += pack(row, bitDepth: bitDepth)
        }
        var out: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]
        out += chunk("IHDR", be32(width) + be32(height) + [UInt8(bitDepth), colorType, 0, 0, 0])
        for (type, data) in extra { out += chunk(type, data) }
        if let palette { out += chunk("PLTE", palette) }
        if let transparency { out += chunk("tRNS", transparency) }
        out += chunk("IDAT", zlibStored(raw))
        out += chunk("IEND", [])
        return out
    }

    static func pack(_ values: [Int], bitDepth: Int) -> [UInt8] {
        switch bitDepth {
        case 16: return values.flatMap { [UInt8($0 >> 8), UInt8($0 & 255)] }
        case 8: return values.map { UInt8($0) }
        default:
            var out: [UInt8] = [], acc = 0, bits = 0
            for v in values {
                acc = acc << bitDepth | v; bits += bitDepth
                if bits == 8 { out.append(UInt8(acc)); acc = 0; bits = 0 }
            }
            if bits > 0 { out.append(UInt8(acc << (8 - bits))) }
            return out
        }
    }

    static func be32(_ v: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8((v >> $0) & 255) } }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(data.count) + body + be32(Int(crc32(body)))
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return c ^ 0xFFFF_FFFF
    }

    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, data.count - offset)
            let final: UInt8 = offset + n == data.count ? 1 : 0
            out += [final, UInt8(n & 255), UInt8(n >> 8), UInt8(~n & 255), UInt8((~n >> 8) & 255)]
            out += data[offset..<(offset + n)]
            offset += n
        } while offset < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for x in data { a = (a + UInt32(x)) % 65521; b = (b + a) % 65521 }
        return out + be32(Int(b << 16 | a))
    }

    /// Chunk types in file order.
    static func chunkTypes(_ bytes: [UInt8]) -> [String] {
        var types: [String] = [], offset = 8
        while offset + 12 <= bytes.count {
            let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            types.append(String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self))
            offset += 12 + length
        }
        return types
    }
}

/// A fresh temporary folder, removed when the test ends.
func makeTempDirectory(_ test: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "imaging-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

func writeBytes(_ bytes: [UInt8], _ path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// An image whose samples follow `f(c, y, x)`.
func makeImage(width: Int, height: Int, channels: Int, bitDepth: Int = 8,
               _ f: (Int, Int, Int) -> Float) throws -> Image {
    var pixels: [Float] = []
    for c in 0..<channels { for y in 0..<height { for x in 0..<width { pixels.append(f(c, y, x)) } } }
    return try Image(width: width, height: height, channels: channels, pixels: pixels, bitDepth: bitDepth)
}

/// Asserts that `body` throws an `ImagingError` of `kind` whose text contains `text`.
func assertImagingError<T>(_ kind: ImagingError.Kind, containing text: String,
                           file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected an ImagingError .\(kind)", file: file, line: line)
    } catch let error as ImagingError {
        XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
        XCTAssertTrue(error.description.contains(text), "'\(error)' does not contain '\(text)'", file: file, line: line)
    } catch {
        XCTFail("expected an ImagingError, got \(error)", file: file, line: line)
    }
}
