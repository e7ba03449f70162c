import Basics
import Foundation
import XCTest
@testable import Imaging

/// Reading and writing TIFF files a band of rows at a time (`TIFFReader`,
/// `TIFFBandReader`, `TIFFWriter`, the histogram over chunks): the same values as whole
/// reads and writes, for every layout.
final class BandReadTests: XCTestCase {
    /// The rows `rows` of page `p` (samples `samples`) cut out of a whole stack.
    private func slice(_ stack: TIFFStack, page p: Int, rows: Range<Int>, samples: Range<Int>) -> [Float] {
        var out: [Float] = []
        for s in samples {
            for y in rows {
                let start = p * stack.pageSize + (s * stack.height + y) * stack.width
                out += stack.values[start..<(start + stack.width)]
            }
        }
        return out
    }

    /// Every band of every page of `path`, whole and per sample, against the whole read.
    private func checkBands(_ path: String, bands: [Range<Int>], file: StaticString = #filePath, line: UInt = #line) throws {
        let stack = try TIFFStack(file: path)
        let reader = try TIFFReader(file: path)
        XCTAssertEqual([reader.width, reader.height, reader.samplesPerPixel, reader.pageCount],
                       [stack.width, stack.height, stack.samplesPerPixel, stack.pageCount], file: file, line: line)
        XCTAssertEqual(reader.layout, stack.layout, file: file, line: line)
        // Pages out of order, so that the reader has to go back.
        for p in (0..<stack.pageCount).reversed() {
            for rows in bands {
                var all = [Float](repeating: .nan, count: stack.samplesPerPixel * rows.count * stack.width)
                try all.withUnsafeMutableBufferPointer { try reader.read(page: p, rows: rows, into: $0) }
                XCTAssertEqual(bits(all), bits(slice(stack, page: p, rows: rows, samples: 0..<stack.samplesPerPixel)),
                               "\(path) page \(p) rows \(rows)", file: file, line: line)
                for s in 0..<stack.samplesPerPixel where stack.samplesPerPixel > 1 {
                    var one = [Float](repeating: .nan, count: rows.count * stack.width)
                    try one.withUnsafeMutableBufferPointer { try reader.read(page: p, rows: rows, sample: s, into: $0) }
                    XCTAssertEqual(bits(one), bits(slice(stack, page: p, rows: rows, samples: s..<(s + 1))),
                                   "\(path) page \(p) rows \(rows) sample \(s)", file: file, line: line)
                }
            }
        }
    }

    func testBandsOfEveryFixtureEqualTheWholeRead() throws {
        let h = TIFFFixtures.height
        let bands = [0..<h, 0..<1, 3..<7, (h - 1)..<h, 2..<h]
        for kind in TIFFFixtures.kinds {
            try checkBands(TIFFFixtures.path(kind.name), bands: bands)
        }
        for name in ["uint16-3-planar.tif", "uint16-1-bigtiff.tif", "ome-ctyx.ome.tif", "imagej-tcyx.tif"] {
            try checkBands(TIFFFixtures.path(name), bands: bands)
        }
    }

    /// Files of many strips and tiles (aggan writes strips of about 64 KB), written a few
    /// rows at a time, equal the same stack written whole, byte for byte; bands across
    /// strip and tile edges read back exactly.
    func testManyStripsAndTilesWrittenAndReadInBands() throws {
        let dir = try makeTempDirectory(self)
        var rng = SplitMix64(seed: 7)
        let (w, h, pages) = (700, 131, 2)  // uint16: 1400 bytes a row, 46 rows a strip
        for samples in [1, 3] {
            let values = (0..<(pages * samples * w * h)).map { _ in Float(rng.nextInt(below: 65536)) }
            for layout in [TIFFLayout(compression: .deflate), TIFFLayout(compression: .lzw, tileSize: 32, bigEndian: true),
                           TIFFLayout(compression: .none)] {
                let stack = try TIFFStack(width: w, height: h, samplesPerPixel: samples, sampleType: .uint16,
                                          pageCount: pages, values: values, description: "d", layout: layout)
                let whole = dir + "/whole.tif", banded = dir + "/banded.tif"
                try stack.write(to: whole)
                let format = TIFFWriter.Format(width: w, height: h, samplesPerPixel: samples, sampleType: .uint16,
                                               pageCount: pages, description: "d", layout: layout)
                // Bands of 5 rows, one of them across the page boundary.
                try TIFFWriter.write(to: banded, format) { writer in
                    var rows: [Float] = []
                    var (p, y) = (0, 0)
                    while p < pages {
                        let n = min(5, h - y)
                        for s in 0..<samples {
                            let start = p * stack.pageSize + (s * h + y) * w
                            rows += values[start..<(start + n * w)]
                        }
                        try rows.withUnsafeBufferPointer { try writer.append(rows: n, $0) }
                        rows.removeAll()
                        y += n
                        if y == h { (p, y) = (p + 1, 0) }
                    }
                }
                XCTAssertEqual(FileManager.default.contents(atPath: banded), FileManager.default.contents(atPath: whole), "\(layout)")
                try checkBands(banded, bands: [0..<h, 0..<46, 45..<47, 31..<97, 130..<131])
            }
        }
    }

    /// A writer given too few rows, or a body that throws, leaves no file.
    func testAnIncompleteBandedWriteLeavesNothing() throws {
        let dir = try makeTempDirectory(self)
        let path = dir + "/x.tif"
        let format = TIFFWriter.Format(width: 10, height: 10, samplesPerPixel: 1, sampleType: .uint8, pageCount: 1)
        assertImagingError(.writeFailed, containing: "1 page") {
            try TIFFWriter.write(to: path, format) { writer in
                try [Float](repeating: 1, count: 50).withUnsafeBufferPointer { try writer.append(rows: 5, $0) }
            }
        }
        struct Stop: Error {}
        XCTAssertThrowsError(try TIFFWriter.write(to: path, format) { _ in throw Stop() })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }

    /// The histogram over chunks equals the histogram of all values at once, for every
    /// type (float data: two passes).
    func testHistogramOverChunksEqualsTheWholeOne() throws {
        var rng = SplitMix64(seed: 3)
        let cases: [(TIFFSampleType, [Float])] = [
            (.uint8, (0..<5000).map { _ in Float(20 + rng.nextInt(below: 100)) }),
            (.uint16, (0..<5000).map { _ in Float(rng.nextInt(below: 4096)) }),
            (.uint16, [Float](repeating: 7, count: 100)),
            (.uint16, []),
            (.float32, (0..<5000).map { _ in Float(rng.nextNormal() * 300) } + [.nan, .infinity]),
        ]
        for (type, values) in cases {
            let whole = IntensityHistogram(values[...], type: type)
            var passes = 0
            let chunked = IntensityHistogram(type: type) { visit in
                passes += 1
                for start in stride(from: 0, to: values.count, by: 333) { visit(values[start..<min(values.count, start + 333)]) }
            }
            XCTAssertEqual(chunked, whole, "\(type) \(values.count)")
            XCTAssertEqual(passes, type == .float32 ? 2 : 1)
            for normalization in [IntensityNormalization.standard, .percentiles(low: 2, high: 98)] {
                let range = normalization.range(type: type) { visit in
                    for start in stride(from: 0, to: values.count, by: 1000) { visit(values[start..<min(values.count, start + 1000)]) }
                }
                XCTAssertEqual(range, normalization.range(of: values[...], type: type))
            }
        }
    }

    /// The band reader gives `LoadedImage`'s planes band by band: the same selection
    /// (channel, sample, planes), normalisation and write-back source.
    func testBandReaderGivesTheLoadedPlanes() throws {
        let cases: [(String, ReadOptions)] = [
            ("ome-ctyx.ome.tif", ReadOptions(channel: "1")),
            ("uint8-3-lzw-strips-le.tif", ReadOptions(axes: "ZYX", channel: "2")),
            ("float32-3-deflate-tiles-le.tif", ReadOptions(axes: "TYX", normalization: .percentiles(low: 1, high: 99))),
            ("uint16-1-lzw-tiles-be.tif", ReadOptions(axes: "ZYX", normalization: .fixed(low: 100, high: 60000))),
            ("uint16-1-none-strips-be.tif", ReadOptions()),
        ]
        for (name, options) in cases {
            let path = TIFFFixtures.path(name)
            let loaded = try LoadedImage(path: path, options: options)
            let reader = try TIFFBandReader(path: path, options: options)
            XCTAssertEqual(reader.planeCount, loaded.planes.count, name)
            XCTAssertEqual(reader.planeNames, loaded.planeNames, name)
            XCTAssertEqual(try reader.source(), loaded.tiff, name)
            for (k, plane) in loaded.planes.enumerated() {
                var pixels: [Float] = []
                var parts: [Image] = []
                for rows in [0..<4, 4..<5, 5..<plane.height] { parts.append(try reader.band(plane: k, rows: rows)) }
                for c in 0..<plane.channels { for part in parts { pixels += part.plane(c) } }
                XCTAssertEqual(bits(pixels), bits(plane.pixels), "\(name) plane \(k)")
                XCTAssertEqual(parts[0].bitDepth, plane.bitDepth)
                XCTAssertEqual(parts[0].channels, plane.channels)
            }
        }
    }

    /// Whether this process has `path` memory-mapped: a line of /proc/self/maps (Linux)
    /// ending in it. Read by lines with C stdio: the file's size shows as 0.
    private func isMapped(_ path: String) throws -> Bool {
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let file = try XCTUnwrap(fopen("/proc/self/maps", "r"))
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        var lines = 0
        while getline(&line, &capacity, file) > 0, let line {
            lines += 1
            if String(cString: line).trimmingCharacters(in: .newlines).hasSuffix(" " + real) { return true }
        }
        XCTAssertGreaterThan(lines, 0, "/proc/self/maps read empty")
        return false
    }

    /// The band reader does not memory-map its file: the pages of a map that have been
    /// read count in resident memory, so a streamed 200 MB file would end up resident.
    /// Unmapped reads give the same values.
    func testBandReaderDoesNotMapTheFile() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/proc/self/maps"), "needs /proc/self/maps")
        for name in ["uint16-1-none-strips-be.tif", "uint8-3-lzw-strips-le.tif", "float32-3-deflate-tiles-le.tif"] {
            let path = TIFFFixtures.path(name)
            let stack = try TIFFStack(file: path)
            XCTAssertFalse(try isMapped(path), name)
            do {
                // libtiff maps by default: the check can see a map.
                let mapped = try TIFFReader(file: path)
                XCTAssertTrue(try isMapped(path), name)
                _ = mapped
            }
            XCTAssertFalse(try isMapped(path), "\(name): the map is gone when the reader is")
            let options = stack.pageCount > 1 ? ReadOptions(axes: "ZYX") : ReadOptions()
            let band = try TIFFBandReader(path: path, options: options)
            _ = try band.band(plane: 0, rows: 0..<band.height)
            XCTAssertFalse(try isMapped(path), "\(name): the band reader maps the file")
            let unmapped = try TIFFReader(file: path, mapped: false)
            XCTAssertFalse(try isMapped(path), name)
            for p in 0..<stack.pageCount {
                var values = [Float](repeating: .nan, count: stack.pageSize)
                try values.withUnsafeMutableBufferPointer { try unmapped.read(page: p, rows: 0..<stack.height, into: $0) }
                XCTAssertEqual(bits(values), bits(Array(stack.page(p))), "\(name) page \(p)")
            }
        }
    }
}
