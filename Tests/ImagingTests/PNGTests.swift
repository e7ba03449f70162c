import Foundation
import XCTest
import Imaging

/// PNG reading and writing: every colour type and depth, exact values, and bad files.
final class PNGReadTests: XCTestCase {
    func testGray8AllValuesExact() throws {
        let samples = Array(0..<256)
        let image = try Image(pngData: HandPNG.encode(width: 16, height: 16, bitDepth: 8, colorType: HandPNG.gray, samples: samples))
        XCTAssertEqual([image.width, image.height, image.channels, image.bitDepth], [16, 16, 1, 8])
        XCTAssertEqual(image.pixels.map { Int(($0 * 255).rounded()) }, samples)
        XCTAssertEqual(image.pixels[200], Float(200) / 255)
        // Written back at 8 bits and read again: the same values.
        XCTAssertEqual(try Image(pngData: image.pngData()), image)
    }

    func testGray16ValuesExactAndRoundTrip() throws {
        let samples = [0, 1, 2, 255, 256, 257, 1000, 12345, 32767, 32768, 40000, 50001, 65533, 65534, 65535, 7]
        let image = try Image(pngData: HandPNG.encode(width: 4, height: 4, bitDepth: 16, colorType: HandPNG.gray, samples: samples))
        XCTAssertEqual(image.bitDepth, 16)
        XCTAssertEqual(image.pixels.map { Int(($0 * 65535).rounded()) }, samples)
        let written = try image.pngData(bitDepth: 16)
        XCTAssertEqual(written[24], 16, "IHDR bit depth")
        XCTAssertEqual(written[25], 0, "IHDR colour type gray")
        XCTAssertFalse(HandPNG.chunkTypes(written).contains("gAMA"), "16-bit output carries no gamma tag")
        XCTAssertEqual(try Image(pngData: written), image)
    }

    func testGammaTagsDoNotChangeStoredValues() throws {
        // gAMA 1/2.2 on a 16-bit file and gAMA 1.0 on an 8-bit file would make libpng
        // convert; the reader ignores colour-space tags and keeps the stored values.
        let samples16 = [0, 1000, 30000, 65535]
        let tagged16 = HandPNG.encode(width: 2, height: 2, bitDepth: 16, colorType: HandPNG.gray, samples: samples16,
                                      extra: [("gAMA", HandPNG.be32(45455)), ("sRGB", [0])])
        XCTAssertEqual(try Image(pngData: tagged16).pixels.map { Int(($0 * 65535).rounded()) }, samples16)
        let samples8 = [0, 10, 128, 255]
        let tagged8 = HandPNG.encode(width: 2, height: 2, bitDepth: 8, colorType: HandPNG.gray, samples: samples8,
                                     extra: [("gAMA", HandPNG.be32(100000))])
        XCTAssertEqual(try Image(pngData: tagged8).pixels.map { Int(($0 * 255).rounded()) }, samples8)
    }

    func testGrayAlphaDropsAlpha() throws {
        let gray = [0, 50, 100, 255], alpha = [255, 0, 128, 10]
        let png8 = HandPNG.encode(width: 2, height: 2, bitDepth: 8, colorType: HandPNG.grayAlpha,
                                  samples: zip(gray, alpha).flatMap { [$0, $1] })
        let image8 = try Image(pngData: png8)
        XCTAssertEqual(image8.channels, 1)
        XCTAssertEqual(image8.pixels.map { Int(($0 * 255).rounded()) }, gray)

        // 16-bit: libpng premultiplies; opaque pixels are exact, others within a level.
        let gray16 = [0, 40000, 65535, 12345], alpha16 = [65535, 65535, 50000, 40000]
        let png16 = HandPNG.encode(width: 2, height: 2, bitDepth: 16, colorType: HandPNG.grayAlpha,
                                   samples: zip(gray16, alpha16).flatMap { [$0, $1] })
        let image16 = try Image(pngData: png16)
        XCTAssertEqual(image16.bitDepth, 16)
        let levels = image16.pixels.map { Int(($0 * 65535).rounded()) }
        XCTAssertEqual(Array(levels[0..<2]), [0, 40000])
        for (got, want) in zip(levels, gray16) { XCTAssertLessThanOrEqual(abs(got - want), 1) }
    }

    func testRGB8And16() throws {
        let rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 200, 100, 50, 1, 2, 3]
        let image8 = try Image(pngData: HandPNG.encode(width: 3, height: 2, bitDepth: 8, colorType: HandPNG.rgb, samples: rgb))
        XCTAssertEqual([image8.channels, image8.bitDepth], [3, 8])
        // Planar: channel 1 (green) at row 1, column 0 is the 4th pixel's green = 20.
        XCTAssertEqual(image8[1, 1, 0], Float(20) / 255)
        XCTAssertEqual(try Image(pngData: image8.pngData()), image8)

        let rgb16 = rgb.map { $0 * 256 + 3 }
        let image16 = try Image(pngData: HandPNG.encode(width: 3, height: 2, bitDepth: 16, colorType: HandPNG.rgb, samples: rgb16))
        XCTAssertEqual([image16.channels, image16.bitDepth], [3, 16])
        XCTAssertEqual(Int((image16[2, 0, 2] * 65535).rounded()), 255 * 256 + 3)
        let written = try image16.pngData(bitDepth: 16)
        XCTAssertEqual([written[24], written[25]], [16, 2])
        XCTAssertEqual(try Image(pngData: written), image16)
    }

    func testRGBA8And16DropAlpha() throws {
        let rgba = [10, 20, 30, 0, 40, 50, 60, 128, 70, 80, 90, 255, 255, 254, 253, 1]
        let image8 = try Image(pngData: HandPNG.encode(width: 2, height: 2, bitDepth: 8, colorType: HandPNG.rgba, samples: rgba))
        XCTAssertEqual(image8.channels, 3)
        let expected = stride(from: 0, to: 16, by: 4).map { Array(rgba[$0..<($0 + 3)]) }
        for i in 0..<4 {
            XCTAssertEqual((0..<3).map { Int((image8.pixels[$0 * 4 + i] * 255).rounded()) }, expected[i])
        }
        let opaque16 = [1, 2, 3, 65535, 65535, 0, 30000, 65535]
        let image16 = try Image(pngData: HandPNG.encode(width: 2, height: 1, bitDepth: 16, colorType: HandPNG.rgba, samples: opaque16))
        XCTAssertEqual(image16.pixels.map { Int(($0 * 65535).rounded()) }, [1, 65535, 2, 0, 3, 30000])
    }

    func testPaletteWithTransparency() throws {
        let palette: [UInt8] = [0, 0, 0, 255, 0, 0, 0, 128, 255, 7, 8, 9]
        let indices = [0, 1, 2, 3, 3, 2, 1, 0]
        let png = HandPNG.encode(width: 4, height: 2, bitDepth: 8, colorType: HandPNG.palette, samples: indices,
                                 palette: palette, transparency: [255, 0, 100])
        let image = try Image(pngData: png)
        XCTAssertEqual([image.channels, image.bitDepth], [3, 8])
        for (i, index) in indices.enumerated() {
            let rgb = (0..<3).map { Int((image.pixels[$0 * 8 + i] * 255).rounded()) }
            XCTAssertEqual(rgb, palette[(index * 3)..<(index * 3 + 3)].map(Int.init), "pixel \(i)")
        }
        // A 2-bit palette unpacks the same way.
        let packed = HandPNG.encode(width: 4, height: 2, bitDepth: 2, colorType: HandPNG.palette, samples: indices, palette: palette)
        XCTAssertEqual(try Image(pngData: packed), image)
    }

    func testLowBitDepthGrayScalesTo8Bit() throws {
        let image = try Image(pngData: HandPNG.encode(width: 5, height: 1, bitDepth: 1, colorType: HandPNG.gray, samples: [0, 1, 1, 0, 1]))
        XCTAssertEqual(image.pixels, [0, 1, 1, 0, 1])
        XCTAssertEqual(image.bitDepth, 8)
    }

    func testWriteRoundTripThroughFiles() throws {
        let dir = try makeTempDirectory(self)
        let gray = try makeImage(width: 7, height: 5, channels: 1) { _, y, x in Float((x * 37 + y * 11) % 256) / 255 }
        let rgb = try makeImage(width: 6, height: 4, channels: 3, bitDepth: 16) { c, y, x in Float((c * 20011 + y * 3001 + x * 977) % 65536) / 65535 }
        try gray.writePNG(to: dir + "/g.png")
        try rgb.writePNG(to: dir + "/c16.png", bitDepth: 16)
        try rgb.writePNG(to: dir + "/c8.png")
        XCTAssertEqual(try Image(pngFile: dir + "/g.png"), gray)
        XCTAssertEqual(try Image(pngFile: dir + "/c16.png"), rgb)
        let c8 = try Image(pngFile: dir + "/c8.png")
        XCTAssertEqual(c8.bitDepth, 8)
        for (a, b) in zip(c8.pixels, rgb.pixels) { XCTAssertEqual(a, b, accuracy: 0.5 / 255 + 1e-6) }
        // Writing replaces an existing file and leaves no temporary file behind.
        try gray.writePNG(to: dir + "/c8.png")
        XCTAssertEqual(try Image(pngFile: dir + "/c8.png"), gray)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["c16.png", "c8.png", "g.png"])
    }

    func testWriteClampsAndRounds() throws {
        let image = try Image(width: 4, height: 1, channels: 1, pixels: [-0.5, 0.5, 1.5, .nan])
        XCTAssertEqual(try Image(pngData: image.pngData()).pixels, [0, Float(128) / 255, 1, 0])
    }
}

final class PNGErrorTests: XCTestCase {
    private func validPNG() -> [UInt8] {
        HandPNG.encode(width: 8, height: 8, bitDepth: 8, colorType: HandPNG.gray, samples: (0..<64).map { $0 * 3 })
    }

    func testMissingFile() throws {
        let dir = try makeTempDirectory(self)
        assertImagingError(.fileMissing, containing: "cannot read '\(dir)/nope.png'") { try Image(pngFile: dir + "/nope.png") }
    }

    func testDirectory() throws {
        let dir = try makeTempDirectory(self)
        try FileManager.default.createDirectory(atPath: dir + "/folder.png", withIntermediateDirectories: false)
        assertImagingError(.isDirectory, containing: "folder.png': is a directory") { try Image(pngFile: dir + "/folder.png") }
    }

    func testEmptyFile() throws {
        let dir = try makeTempDirectory(self)
        try writeBytes([], dir + "/empty.png")
        assertImagingError(.emptyFile, containing: "empty.png': empty file (0 bytes)") { try Image(pngFile: dir + "/empty.png") }
    }

    func testNotPNG() throws {
        let dir = try makeTempDirectory(self)
        try writeBytes(Array("<?xml version=\"1.0\"?>".utf8), dir + "/x.png")
        assertImagingError(.notPNG, containing: "x.png': not a PNG file (starts with 0x3c3f786d)") { try Image(pngFile: dir + "/x.png") }
        try writeBytes([0xFF, 0xD8], dir + "/short.png")
        assertImagingError(.notPNG, containing: "short.png': not a PNG file (starts with 0xffd8)") { try Image(pngFile: dir + "/short.png") }
    }

    func testTruncated() throws {
        let dir = try makeTempDirectory(self)
        let png = validPNG()
        for cut in [20, 40, png.count - 20] {
            try writeBytes(Array(png.prefix(cut)), dir + "/cut.png")
            assertImagingError(.corruptPNG, containing: "cannot read '\(dir)/cut.png': truncated PNG (libpng: read beyond end of data)") { try Image(pngFile: dir + "/cut.png") }
        }
    }

    func testBadCRC() throws {
        let dir = try makeTempDirectory(self)
        var png = validPNG()
        png[png.count - 13] ^= 0xFF // last byte of the IDAT CRC (IEND takes the last 12 bytes)
        try writeBytes(png, dir + "/crc.png")
        assertImagingError(.corruptPNG, containing: "crc.png': bad PNG: IDAT: CRC error") { try Image(pngFile: dir + "/crc.png") }
        var header = validPNG()
        header[29] ^= 0x01 // inside the IHDR CRC
        try writeBytes(header, dir + "/ihdr.png")
        assertImagingError(.corruptPNG, containing: "ihdr.png': bad PNG") { try Image(pngFile: dir + "/ihdr.png") }
    }

    func testAbsurdDimensionsRefusedFromHeader() throws {
        let dir = try makeTempDirectory(self)
        var png: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]
        png += HandPNG.chunk("IHDR", HandPNG.be32(100_000) + HandPNG.be32(100_000) + [8, 0, 0, 0, 0])
        png += HandPNG.chunk("IDAT", HandPNG.zlibStored([0, 0, 0]))
        png += HandPNG.chunk("IEND", [])
        try writeBytes(png, dir + "/huge.png")
        assertImagingError(.tooLarge, containing: "huge.png': image is 100000 x 100000 pixels") { try Image(pngFile: dir + "/huge.png") }
    }

    func testWriteIntoMissingFolderLeavesNothing() throws {
        let dir = try makeTempDirectory(self)
        let image = try Image(width: 4, height: 4, channels: 1, value: 0.5)
        assertImagingError(.writeFailed, containing: "cannot write '\(dir)/missing/out.png': folder '\(dir)/missing' does not exist") {
            try image.writePNG(to: dir + "/missing/out.png")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }

    func testWriteOntoDirectoryLeavesNoTemporaryFile() throws {
        let dir = try makeTempDirectory(self)
        try FileManager.default.createDirectory(atPath: dir + "/taken.png", withIntermediateDirectories: false)
        let image = try Image(width: 4, height: 4, channels: 3, value: 0.25)
        assertImagingError(.writeFailed, containing: "cannot write '\(dir)/taken.png'") {
            try image.writePNG(to: dir + "/taken.png", bitDepth: 16)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["taken.png"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/taken.png"), [])
    }

    func testInvalidBitDepthOnWrite() throws {
        let dir = try makeTempDirectory(self)
        let image = try Image(width: 2, height: 2, channels: 1)
        assertImagingError(.writeFailed, containing: "bit depth must be 8 or 16, got 12") { try image.writePNG(to: dir + "/x.png", bitDepth: 12) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }
}
