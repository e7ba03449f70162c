import Basics
import Foundation
import XCTest
@testable import Imaging

/// The fixtures written by tifffile (Fixtures/tiff/make_fixtures.py).
enum TIFFFixtures {
    static let width = 19, height = 9

    static func path(_ name: String) -> String {
        Bundle.module.url(forResource: "Fixtures/tiff/" + name, withExtension: nil)!.path
    }

    /// The value make_fixtures.py stores at page `p`, sample `s`, row `y`, column `x`.
    static func expected(_ type: TIFFSampleType, p: Int, s: Int, y: Int, x: Int) -> Float {
        switch type {
        case .uint8: return Float((x * 7 + y * 13 + s * 50 + p * 31) % 256)
        case .uint16: return Float((x * 2039 + y * 4093 + s * 10007 + p * 3001) % 65536)
        case .float32: return Float((x * 7 + y * 13 + s * 50 + p * 31) % 1000) / Float(7) - Float(40)
        }
    }

    /// A whole stack of expected values (pages, each planar).
    static func expected(_ type: TIFFSampleType, pages: Int, samples: Int) -> [Float] {
        var out: [Float] = []
        for p in 0..<pages { for s in 0..<samples { for y in 0..<height { for x in 0..<width {
            out.append(expected(type, p: p, s: s, y: y, x: x))
        } } } }
        return out
    }

    /// The type x samples x compression files, with their layout.
    static var kinds: [(name: String, type: TIFFSampleType, samples: Int, pages: Int, layout: TIFFLayout)] {
        var out: [(String, TIFFSampleType, Int, Int, TIFFLayout)] = []
        var i = 0
        for type in TIFFSampleType.allCases {
            for samples in [1, 3] {
                for compression in TIFFCompression.allCases {
                    let tiled = i % 2 == 1, big = (i / 2) % 2 == 1
                    let name = "\(type.rawValue)-\(samples)-\(compression.rawValue)-\(tiled ? "tiles" : "strips")-\(big ? "be" : "le").tif"
                    out.append((name, type, samples, compression == .none ? 1 : 2,
                                TIFFLayout(compression: compression, tileSize: tiled ? 16 : nil, bigEndian: big)))
                    i += 1
                }
            }
        }
        return out
    }
}

/// Bit patterns, so that float comparisons are exact (and NaN-safe).
func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

final class TIFFTests: XCTestCase {
    // MARK: Reading what another writer wrote

    func testEveryKindWrittenByTifffileReadsBitExact() throws {
        XCTAssertEqual(TIFFFixtures.kinds.count, 18)
        for kind in TIFFFixtures.kinds {
            let stack = try TIFFStack(file: TIFFFixtures.path(kind.name))
            XCTAssertEqual(stack.width, TIFFFixtures.width, kind.name)
            XCTAssertEqual(stack.height, TIFFFixtures.height, kind.name)
            XCTAssertEqual(stack.sampleType, kind.type, kind.name)
            XCTAssertEqual(stack.samplesPerPixel, kind.samples, kind.name)
            XCTAssertEqual(stack.pageCount, kind.pages, kind.name)
            XCTAssertEqual(stack.layout, kind.layout, kind.name)
            XCTAssertFalse(stack.bigTIFF)
            XCTAssertEqual(bits(stack.values), bits(TIFFFixtures.expected(kind.type, pages: kind.pages, samples: kind.samples)), kind.name)
        }
    }

    func testPlanarRGBAndBigTIFFRead() throws {
        let planar = try TIFFStack(file: TIFFFixtures.path("uint16-3-planar.tif"))
        XCTAssertEqual(planar.samplesPerPixel, 3)
        XCTAssertEqual(planar.values, TIFFFixtures.expected(.uint16, pages: 1, samples: 3))
        let big = try TIFFStack(file: TIFFFixtures.path("uint16-1-bigtiff.tif"))
        XCTAssertTrue(big.bigTIFF)
        XCTAssertEqual(big.pageCount, 2)
        XCTAssertEqual(big.values, TIFFFixtures.expected(.uint16, pages: 2, samples: 1))
    }

    // MARK: Writing

    /// Every type x samples x compression x layout x byte order, written by aggan and read
    /// back: the same values bit for bit and the same layout. With AGGAN_TIFF_EXPORT set
    /// to a folder, the files and their values (`kN.f32`, little-endian float32, planar
    /// pages) are kept there for scripts/tiff-crosscheck.py to read with tifffile.
    func testEveryKindRoundTripsBitExact() throws {
        let export = ProcessInfo.processInfo.environment["AGGAN_TIFF_EXPORT"]
        let dir = try export ?? makeTempDirectory(self)
        var rng = SplitMix64(seed: 15)
        var count = 0
        for type in TIFFSampleType.allCases {
            for samples in [1, 3] {
                let (w, h, pages) = (37, 21, 2)
                let values: [Float] = (0..<(w * h * samples * pages)).map { _ in
                    switch type {
                    case .uint8: return Float(rng.nextInt(below: 256))
                    case .uint16: return Float(rng.nextInt(below: 65536))
                    case .float32: return Float(rng.nextDouble() * 2e6 - 1e6) * (rng.nextInt(below: 2) == 0 ? 1e-9 : 1)
                    }
                }
                for compression in TIFFCompression.allCases {
                    for tile in [nil, 16, 32] as [Int?] {
                        for big in [false, true] {
                            let layout = TIFFLayout(compression: compression, tileSize: tile, bigEndian: big)
                            let stack = try TIFFStack(width: w, height: h, samplesPerPixel: samples, sampleType: type,
                                                      pageCount: pages, values: values, description: "kind \(count)", layout: layout)
                            let path = dir + "/k\(count).tif"
                            try stack.write(to: path)
                            if export != nil {
                                try values.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: dir + "/k\(count).f32")) }
                                try "\(type.rawValue) \(samples) \(pages) \(h) \(w) \(compression.rawValue) \(tile ?? 0) \(big ? "be" : "le")\n"
                                    .write(toFile: dir + "/k\(count).txt", atomically: true, encoding: .utf8)
                            }
                            let back = try TIFFStack(file: path)
                            XCTAssertEqual(back.layout, layout, "\(type) \(samples) \(layout)")
                            XCTAssertEqual(back.sampleType, type)
                            XCTAssertEqual(back.samplesPerPixel, samples)
                            XCTAssertEqual(back.pageCount, pages)
                            XCTAssertEqual(back.description, "kind \(count)")
                            XCTAssertEqual(bits(back.values), bits(values), "\(type) \(samples) \(layout)")
                            count += 1
                        }
                    }
                }
            }
        }
        XCTAssertEqual(count, 108)
    }

    /// Each fixture rewritten by aggan with its own layout gives the same file content as
    /// tifffile's (values, kind, layout).
    func testFixturesRewrittenKeepEverything() throws {
        let dir = try makeTempDirectory(self)
        for kind in TIFFFixtures.kinds {
            let stack = try TIFFStack(file: TIFFFixtures.path(kind.name))
            try stack.write(to: dir + "/" + kind.name)
            let back = try TIFFStack(file: dir + "/" + kind.name)
            XCTAssertEqual(bits(back.values), bits(stack.values), kind.name)
            XCTAssertEqual(back.layout, stack.layout, kind.name)
        }
    }

    func testAFailedWriteLeavesNothing() throws {
        let dir = try makeTempDirectory(self)
        let stack = try TIFFStack(width: 4, height: 4, samplesPerPixel: 1, sampleType: .uint16, pageCount: 1,
                                  values: [Float](repeating: 7, count: 16), layout: TIFFLayout(tileSize: 20))
        assertImagingError(.writeFailed, containing: "multiple of 16") { try stack.write(to: dir + "/x.tif") }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
        assertImagingError(.writeFailed, containing: "no/x.tif") {
            try TIFFStack(width: 4, height: 4, samplesPerPixel: 1, sampleType: .uint16, pageCount: 1,
                          values: [Float](repeating: 7, count: 16)).write(to: dir + "/no/x.tif")
        }
    }

    // MARK: Errors

    func testUnsupportedKindsNameTheFileAndTheReason() throws {
        for (name, what) in [("int16.tif", "16-bit signed"), ("float64.tif", "64-bit float"), ("complex64.tif", "complex")] {
            let path = TIFFFixtures.path(name)
            assertImagingError(.unsupported, containing: what) { try TIFFStack(file: path) }
            assertImagingError(.unsupported, containing: path) { try TIFFStack(file: path) }
        }
        let dir = try makeTempDirectory(self)
        try writeBytes([], dir + "/empty.tif")
        assertImagingError(.emptyFile, containing: "empty.tif") { try TIFFStack(file: dir + "/empty.tif") }
        try writeBytes(Array("<?xml version".utf8), dir + "/xml.tif")
        assertImagingError(.notTIFF, containing: "0x3c3f786d") { try TIFFStack(file: dir + "/xml.tif") }
        assertImagingError(.fileMissing, containing: "none.tif") { try TIFFStack(file: dir + "/none.tif") }
        assertImagingError(.isDirectory, containing: "directory") { try TIFFStack(file: dir) }
    }

    /// A hand-made header claiming 100,000 x 100,000 pixels is refused before any pixel
    /// memory is allocated.
    func testAbsurdDimensionsAreRefused() throws {
        let dir = try makeTempDirectory(self)
        try writeBytes(minimalTIFF(width: 100_000, height: 100_000), dir + "/huge.tif")
        assertImagingError(.tooLarge, containing: "100000 x 100000") { try TIFFStack(file: dir + "/huge.tif") }
        try writeBytes(minimalTIFF(width: 4, height: 4), dir + "/ok.tif")
        XCTAssertEqual(try TIFFStack(file: dir + "/ok.tif").values, [Float](repeating: 9, count: 16))
    }

    /// Every fixture cut at several lengths: a clean error naming the file, never a crash
    /// and never a message on stderr.
    func testTruncatedFilesGiveOneLineErrors() throws {
        let dir = try makeTempDirectory(self)
        var failures = 0
        let stderrText = try capturingStderr {
            for kind in TIFFFixtures.kinds {
                let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: TIFFFixtures.path(kind.name))))
                for fraction in [0.05, 0.3, 0.6, 0.9, 0.99] {
                    let path = dir + "/cut-\(fraction)-" + kind.name
                    try writeBytes(Array(bytes.prefix(max(4, Int(Double(bytes.count) * fraction)))), path)
                    do {
                        _ = try TIFFStack(file: path)
                    } catch let error as ImagingError {
                        failures += 1
                        XCTAssertTrue(error.description.hasPrefix("cannot read '\(path)': "), error.description)
                        XCTAssertFalse(error.description.contains("\n"), error.description)
                    }
                }
            }
        }
        // Cutting the end of a file whose directory comes first may leave some valid
        // pages; most cuts must fail.
        XCTAssertGreaterThan(failures, 60)
        XCTAssertEqual(stderrText, "", "libtiff wrote to stderr")
    }

    /// The fuzz test of the issue: 600 mutations (seed 15) of the fixtures (bytes
    /// flipped, overwritten with extreme values, offsets and counts in the directory
    /// changed, files cut): every one a valid stack or an `ImagingError`, none on stderr.
    func testFuzzedFilesNeverCrash() throws {
        let dir = try makeTempDirectory(self)
        let names = TIFFFixtures.kinds.map(\.name) + ["uint16-3-planar.tif", "uint16-1-bigtiff.tif", "ome-ctyx.ome.tif"]
        let sources = try names.map { name in try [UInt8](Data(contentsOf: URL(fileURLWithPath: TIFFFixtures.path(name)))) }
        var rng = SplitMix64(seed: 15)
        var valid = 0, errors = 0
        let stderrText = try capturingStderr {
            for i in 0..<600 {
                let bytes = TIFFMutation.mutate(sources[rng.nextInt(below: sources.count)], rng: &rng)
                let path = dir + "/fuzz\(i).tif"
                try writeBytes(bytes, path)
                do {
                    let stack = try TIFFStack(file: path)
                    XCTAssertEqual(stack.values.count, stack.pageCount * stack.pageSize)
                    valid += 1
                } catch let error as ImagingError {
                    XCTAssertTrue(error.description.contains(path), error.description)
                    XCTAssertFalse(error.description.contains("\n"), error.description)
                    errors += 1
                }
                try FileManager.default.removeItem(atPath: path)
            }
        }
        XCTAssertEqual(valid + errors, 600)
        XCTAssertGreaterThan(errors, 100)
        XCTAssertEqual(stderrText, "", "libtiff wrote to stderr")
    }
}

/// The mutations of the fuzz test (seeded): flip bits, overwrite bytes with 0x00, 0xff or
/// random values, rewrite a directory entry's count or offset, or cut the file.
enum TIFFMutation {
    static func mutate(_ source: [UInt8], rng: inout SplitMix64) -> [UInt8] {
        var bytes = source
        let rounds = 1 + rng.nextInt(below: 4)
        for _ in 0..<rounds {
            guard bytes.count > 8 else { break }
            switch rng.nextInt(below: 6) {
            case 0: // flip one bit
                let i = rng.nextInt(below: bytes.count)
                bytes[i] ^= UInt8(1 << rng.nextInt(below: 8))
            case 1: // extreme bytes in a run
                let i = rng.nextInt(below: bytes.count), n = min(1 + rng.nextInt(below: 8), bytes.count - i)
                let v: UInt8 = rng.nextInt(below: 2) == 0 ? 0 : 0xFF
                for k in 0..<n { bytes[i + k] = v }
            case 2: // random bytes in the header and first directory (the first 256 bytes)
                let i = rng.nextInt(below: min(bytes.count, 256))
                bytes[i] = UInt8(rng.nextInt(below: 256))
            case 3: // a directory entry's count or value/offset (entries are 12 bytes from offset 10)
                let entries = max(1, min(20, (bytes.count - 10) / 12))
                let e = 10 + 12 * rng.nextInt(below: entries) + (rng.nextInt(below: 2) == 0 ? 4 : 8)
                if e + 4 <= bytes.count {
                    let v = [0, 1, 0xFFFF, 0x7FFF_FFFF, 0xFFFF_FFFF, bytes.count, rng.nextInt(below: 1 << 20)][rng.nextInt(below: 7)]
                    for k in 0..<4 { bytes[e + k] = UInt8((v >> (8 * k)) & 0xFF) }
                }
            case 4: // cut
                bytes = Array(bytes.prefix(8 + rng.nextInt(below: bytes.count - 8)))
            default: // 4 random bytes anywhere
                let i = rng.nextInt(below: max(1, bytes.count - 4))
                for k in 0..<min(4, bytes.count - i) { bytes[i + k] = UInt8(rng.nextInt(below: 256)) }
            }
        }
        return bytes
    }
}

/// A little-endian, uncompressed, 8-bit gray TIFF with one page whose header claims
/// `width` x `height` pixels and whose one strip holds 16 bytes of value 9.
func minimalTIFF(width: Int, height: Int) -> [UInt8] {
    func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
    func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
    let entries: [(Int, Int, Int)] = [  // tag, type (3 short, 4 long), value
        (256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1),
        (273, 4, 8 + 2 + 12 * 9 + 4), (277, 3, 1), (278, 4, height), (279, 4, 16),
    ]
    var out: [UInt8] = [0x49, 0x49, 42, 0] + le32(8) + le16(entries.count)
    for (tag, type, value) in entries {
        out += le16(tag) + le16(type) + le32(1) + (type == 3 ? le16(value) + [0, 0] : le32(value))
    }
    out += le32(0)
    out += [UInt8](repeating: 9, count: 16)
    return out
}

/// Runs `body` with file descriptor 2 sent to a temporary file; returns what was written.
func capturingStderr(_ body: () throws -> Void) throws -> String {
    let path = NSTemporaryDirectory() + "stderr-" + UUID().uuidString
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let saved = dup(2)
    fflush(nil)
    dup2(fd, 2)
    defer {
        fflush(nil)
        dup2(saved, 2)
        close(saved)
        close(fd)
        unlink(path)
    }
    try body()
    fflush(nil)
    return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
}
