import Basics
import Foundation
import XCTest
@testable import Imaging

/// Axes, channels, metadata and normalisation of TIFF stacks (`LoadedImage`).
final class StackTests: XCTestCase {
    private let none = ReadOptions(normalization: .none)

    func testOMEChannelsNeedAChoiceAndKeepNamesAndPixelSize() throws {
        let path = TIFFFixtures.path("ome-cyx.ome.tif")
        assertImagingError(.axesNeeded, containing: "3 channels (AF647, AF568, DAPI); choose one with --channel") {
            try LoadedImage(path: path, options: none)
        }
        var options = none
        options.channel = "DAPI"
        let byName = try LoadedImage(path: path, options: options)
        options.channel = "2"
        let byIndex = try LoadedImage(path: path, options: options)
        XCTAssertEqual(byName, byIndex)
        XCTAssertEqual(byName.planes.count, 1)
        let expected = TIFFFixtures.expected(.uint16, pages: 3, samples: 1).suffix(TIFFFixtures.width * TIFFFixtures.height)
        XCTAssertEqual(byName.planes[0].pixels.map { ($0 * 65535).rounded() }, Array(expected))
        let ome = try XCTUnwrap(byName.tiff?.ome)
        XCTAssertEqual(ome.channelNames, ["DAPI"])
        XCTAssertEqual(ome.physicalSizeX, 0.1241)
        XCTAssertEqual(ome.physicalSizeY, 0.1241)
        XCTAssertEqual(ome.sizeC, 1)
        options.channel = "GFP"
        assertImagingError(.invalidArgument, containing: "no channel 'GFP'") { try LoadedImage(path: path, options: options) }
        options.channel = "3"
        assertImagingError(.invalidArgument, containing: "3 channel(s)") { try LoadedImage(path: path, options: options) }
    }

    /// Pages stored T fastest within C (DimensionOrder XYZTC): channel 1 is pages 3...5,
    /// each time point a plane.
    func testOMETimePointsArePlanes() throws {
        var options = none
        options.channel = "1"
        let loaded = try LoadedImage(path: TIFFFixtures.path("ome-ctyx.ome.tif"), options: options)
        XCTAssertEqual(loaded.planes.count, 3)
        XCTAssertEqual(loaded.planeNames, ["t0", "t1", "t2"])
        let n = TIFFFixtures.width * TIFFFixtures.height
        let all = TIFFFixtures.expected(.uint16, pages: 6, samples: 1)
        for t in 0..<3 {
            XCTAssertEqual(loaded.planes[t].pixels.map { ($0 * 65535).rounded() }, Array(all[((3 + t) * n)..<((4 + t) * n)]))
        }
        XCTAssertEqual(loaded.tiff?.planeAxes.description, "TYX")
        XCTAssertEqual(loaded.tiff?.ome?.physicalSizeX, 0.619)
    }

    /// ImageJ hyperstacks: pages in TZC order, channel fastest.
    func testImageJHyperstack() throws {
        var options = none
        options.channel = "1"
        let loaded = try LoadedImage(path: TIFFFixtures.path("imagej-tcyx.tif"), options: options)
        let n = TIFFFixtures.width * TIFFFixtures.height
        let all = TIFFFixtures.expected(.uint16, pages: 4, samples: 1)
        XCTAssertEqual(loaded.planes.count, 2)
        XCTAssertEqual(loaded.planes[1].pixels.map { ($0 * 65535).rounded() }, Array(all[(3 * n)..<(4 * n)]))
    }

    /// Multi-page files without metadata: never guessed.
    func testPagesWithoutMetadataNeedAxes() throws {
        let path = TIFFFixtures.path("uint16-1-bigtiff.tif")
        assertImagingError(.axesNeeded, containing: "2 pages and no OME-XML or ImageJ metadata saying what they are; give --axes") {
            try LoadedImage(path: path, options: none)
        }
        var options = none
        options.axes = "ZYX"
        let z = try LoadedImage(path: path, options: options)
        XCTAssertEqual(z.planeNames, ["z0", "z1"])
        XCTAssertEqual(z.tiff?.ome?.sizeZ, 2)
        options.axes = "CYX"
        assertImagingError(.axesNeeded, containing: "--channel") { try LoadedImage(path: path, options: options) }
        options.channel = "1"
        XCTAssertEqual(try LoadedImage(path: path, options: options).planes, [z.planes[1]])
        options.axes = "TZYX"
        assertImagingError(.axesNeeded, containing: "give the size of every page axis but one") {
            try LoadedImage(path: path, options: options)
        }
        // Axes that contradict the file's metadata are refused.
        options = none
        options.axes = "ZYX"
        options.channel = "0"
        assertImagingError(.axesNeeded, containing: "metadata, which says CYX") {
            try LoadedImage(path: TIFFFixtures.path("ome-cyx.ome.tif"), options: options)
        }
    }

    /// Two page axes without metadata: `--axes C2TYX` (channel slowest) or `TC2YX`
    /// (channel fastest), the unsized axis from the page count.
    func testTwoPageAxesFromTheCommandLine() throws {
        let dir = try makeTempDirectory(self)
        let path = dir + "/six.tif"
        let (w, h) = (TIFFFixtures.width, TIFFFixtures.height), n = w * h
        let values = TIFFFixtures.expected(.uint16, pages: 6, samples: 1)
        try TIFFStack(width: w, height: h, samplesPerPixel: 1, sampleType: .uint16, pageCount: 6, values: values).write(to: path)
        func page(_ p: Int) -> [Float] { Array(values[(p * n)..<((p + 1) * n)]) }
        for (axes, pages) in [("C2TYX", [3, 4, 5]), ("TC2YX", [1, 3, 5]), ("T3C2YX", [1, 3, 5]), ("c2tyx", [3, 4, 5])] {
            let loaded = try LoadedImage(path: path, options: ReadOptions(axes: axes, channel: "1", normalization: .none))
            XCTAssertEqual(loaded.planeNames, ["t0", "t1", "t2"], axes)
            XCTAssertEqual(loaded.planes.map { $0.pixels.map { ($0 * 65535).rounded() } }, pages.map(page), axes)
            XCTAssertEqual(loaded.tiff?.planeAxes.description, "TYX")
            XCTAssertEqual(loaded.tiff.map { [$0.ome?.sizeC, $0.ome?.sizeT, $0.ome?.sizeZ] }, [1, 3, 1])
        }
        let tz = try LoadedImage(path: path, options: ReadOptions(axes: "T2ZYX", normalization: .none))
        XCTAssertEqual(tz.planeNames, ["t0_z0", "t0_z1", "t0_z2", "t1_z0", "t1_z1", "t1_z2"])
        XCTAssertEqual(tz.tiff.map { [$0.ome?.sizeT, $0.ome?.sizeZ] }, [2, 3])
        for (axes, message) in [("CTYX", "every page axis but one"), ("C4TYX", "a multiple of 4 pages, the file has 6"),
                                ("C2T2YX", "describes 4 pages"), ("CCYX", "each at most once"), ("C0TYX", "at least 1"),
                                ("2CTYX", "page axes are C, T and Z"), ("C7YX", "describes 7 pages"),
                                ("C70YX", "more than the file's 6 pages")] {
            assertImagingError(.axesNeeded, containing: message) {
                try LoadedImage(path: path, options: ReadOptions(axes: axes, channel: "0"))
            }
        }
    }

    func testRGBChannelPicksASample() throws {
        let path = TIFFFixtures.path("uint8-3-lzw-strips-le.tif")
        var options = ReadOptions(axes: "ZYX", normalization: .none)
        let rgb = try LoadedImage(path: path, options: options)
        XCTAssertEqual(rgb.planes[0].channels, 3)
        options.channel = "2"
        let blue = try LoadedImage(path: path, options: options)
        XCTAssertEqual(blue.planes[0].channels, 1)
        XCTAssertEqual(blue.planes[0].pixels, Array(rgb.planes[0].plane(2)))
    }

    /// Written back as read: type, layout, planes, metadata, and every stored value
    /// inside the normalisation range exactly.
    func testWriteBackKeepsTypeRangeAndMetadata() throws {
        let dir = try makeTempDirectory(self)
        let options = ReadOptions(channel: "1")  // p0.1, p99.9
        let loaded = try LoadedImage(path: TIFFFixtures.path("ome-ctyx.ome.tif"), options: options)
        let source = try XCTUnwrap(loaded.tiff)
        try source.write(loaded.planes, to: dir + "/out.ome.tif")
        let back = try TIFFStack(file: dir + "/out.ome.tif")
        XCTAssertEqual(back.sampleType, .uint16)
        XCTAssertEqual(back.pageCount, 3)
        let ome = try XCTUnwrap(OMEMetadata.parse(back.description ?? ""))
        XCTAssertEqual(ome.sizeT, 3)
        XCTAssertEqual(ome.sizeC, 1)
        XCTAssertEqual(ome.physicalSizeX, 0.619)
        let original = try TIFFStack(file: TIFFFixtures.path("ome-ctyx.ome.tif"))
        let input = original.values[(3 * original.pageSize)...]
        var inside = 0
        for (a, b) in zip(input, back.values) {
            if Double(a) >= source.range.low && Double(a) <= source.range.high {
                XCTAssertEqual(a, b)
                inside += 1
            } else {
                XCTAssertEqual(Double(b), Double(a) < source.range.low ? source.range.low.rounded() : source.range.high.rounded(), accuracy: 0.5)
            }
        }
        XCTAssertGreaterThan(inside, input.count * 99 / 100)
        // Read back with the same options it is the same planes.
        let again = try LoadedImage(path: dir + "/out.ome.tif", options: ReadOptions(normalization: .fixed(low: source.range.low, high: source.range.high)))
        XCTAssertEqual(again.planes.count, 3)
        // Clipped values come back as the rounded range ends: within half a stored level.
        let level = Float(0.5 / (source.range.high - source.range.low)) + 1e-6
        for (p, q) in zip(again.planes, loaded.planes) {
            for (x, y) in zip(p.pixels, q.pixels) { XCTAssertEqual(x, y, accuracy: level) }
        }
    }

    // MARK: Normalisation

    func testNormalizationParsesAndPrints() throws {
        for text in ["p0.1,p99.9", "p1,p99", "fixed:100,4000", "fixed:-1.5,2.5", "none"] {
            XCTAssertEqual(try IntensityNormalization(parsing: text).description, text)
        }
        XCTAssertEqual(try IntensityNormalization(parsing: "p0.1,p99.9"), .standard)
        for bad in ["", "p99,p1", "p-1,p50", "p0,p101", "fixed:5,5", "fixed:1", "fixed:a,b", "auto", "p1"] {
            assertImagingError(.invalidArgument, containing: "--normalize") { try IntensityNormalization(parsing: bad) }
        }
    }

    /// numpy's default percentile on sorted values.
    private func exactPercentile(_ sorted: [Float], _ p: Double) -> Double {
        let rank = p / 100 * Double(sorted.count - 1)
        let i = Int(rank.rounded(.down)), j = min(i + 1, sorted.count - 1)
        return Double(sorted[i]) + (Double(sorted[j]) - Double(sorted[i])) * (rank - Double(i))
    }

    func testHistogramPercentilesMatchExactOnesToTheBinWidth() throws {
        var rng = SplitMix64(seed: 3)
        let cases: [(TIFFSampleType, [Float])] = [
            (.uint16, (0..<100_003).map { _ in Float(rng.nextInt(below: 65536)) }),
            // 16-bit data with only 12 bits used, skewed toward dark values.
            (.uint16, (0..<50_001).map { _ in Float(Int(pow(rng.nextDouble(), 3) * 4096)) }),
            (.uint8, (0..<9_999).map { _ in Float(rng.nextInt(below: 256)) }),
            (.float32, (0..<70_000).map { _ in Float(rng.nextDouble() * 2 - 0.5) * 1000 }),
        ]
        for (type, values) in cases {
            let sorted = values.sorted()
            let histogram = IntensityHistogram(values[...], type: type)
            XCTAssertEqual(histogram.total, values.count)
            for p in [0, 0.1, 1, 25, 50, 99, 99.9, 100] {
                let exact = exactPercentile(sorted, p)
                XCTAssertEqual(histogram.percentile(p), exact, accuracy: histogram.binWidth, "\(type) p\(p)")
                if type != .float32 { XCTAssertEqual(histogram.percentile(p), exact, accuracy: 1e-9, "\(type) p\(p)") }
            }
        }
    }

    func testNormalizationInverseRestoresStoredValues() throws {
        var rng = SplitMix64(seed: 4)
        let values = (0..<20_000).map { _ in Float(100 + rng.nextInt(below: 3900)) }
        for normalization in [IntensityNormalization.standard, .fixed(low: 100, high: 3999), .none] {
            let range = normalization.range(of: values[...], type: .uint16)
            for v in values where Double(v) >= range.low && Double(v) <= range.high {
                XCTAssertEqual(TIFFSampleType.uint16.stored(range.stored(range.normalized(v))), v, "\(normalization)")
            }
        }
        let fixed = IntensityNormalization.fixed(low: 100, high: 3999).range(of: values[...], type: .uint16)
        XCTAssertEqual(fixed.normalized(100), 0)
        XCTAssertEqual(fixed.normalized(3999), 1)
        XCTAssertEqual(fixed.normalized(50_000), 1)  // clipped
        XCTAssertEqual(IntensityNormalization.none.range(of: values[...], type: .uint16), IntensityRange(low: 0, high: 65535))
        // A flat image does not divide by zero.
        let flat = IntensityNormalization.standard.range(of: [Float](repeating: 7, count: 10)[...], type: .uint16)
        XCTAssertEqual(flat.normalized(7), 0)
    }
}
