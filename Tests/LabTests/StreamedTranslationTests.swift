import AGGAN
import Foundation
import Imaging
@testable import Lab
import TrainingEngine
import XCTest

/// Large TIFFs translated band by band (`ImageTranslator.translateStreamed`): the same
/// bytes as the in-memory path, chosen only when tiles are used, and nothing left behind
/// by a failure.
final class StreamedTranslationTests: XCTestCase {
    typealias F = InferenceFixture

    /// What the in-memory path (`LoadedImage`, `translate`, `TIFFSource.write`) writes.
    private func inMemory(_ translator: ImageTranslator, _ input: String, read: ReadOptions,
                          output: String, attention: String) throws {
        let loaded = try LoadedImage(path: input, options: read)
        let results = try loaded.planes.map { try translator.translate($0, bitDepth: 16) }
        let source = try XCTUnwrap(loaded.tiff)
        try source.write(results.map(\.output), to: output)
        let maps = try results.map { r in
            try Image(width: r.attention.width, height: r.attention.height, channels: 1, pixels: r.attentionValues, bitDepth: 16)
        }
        try source.attention.write(maps, to: attention)
    }

    /// A stack of `pages` planes of cells, as `type` values in 1000...5000 (0...1 for float).
    private func writeStack(_ path: String, width w: Int, height h: Int, samples: Int, type: TIFFSampleType,
                            pages: Int, layout: TIFFLayout, description: String? = nil) throws {
        var values: [Float] = []
        for p in 0..<pages {
            let image = try F.cells(width: w, height: h, channels: samples, bitDepth: 16, seed: UInt64(11 + p))
            values += image.pixels.map { v in
                switch type {
                case .uint8: (v * 255).rounded()
                case .uint16: (1000 + v * 4000).rounded()
                case .float32: v * 3 - 1
                }
            }
        }
        try TIFFStack(width: w, height: h, samplesPerPixel: samples, sampleType: type, pageCount: pages, values: values,
                      description: description, layout: layout).write(to: path)
    }

    func testStreamedOutputIsBitIdenticalToTheInMemoryPath() throws {
        let dir = try F.folder(self)
        let ome = """
            <?xml version="1.0"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0">\
            <Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint16" SizeX="70" SizeY="53" SizeC="1" SizeZ="1" SizeT="2" \
            PhysicalSizeX="0.3" PhysicalSizeY="0.3"><Channel ID="Channel:0:0" Name="DAPI" SamplesPerPixel="1"/></Pixels></Image></OME>
            """
        // (file, samples, type, pages, layout, description, read options, model channels)
        let cases: [(String, Int, TIFFSampleType, Int, TIFFLayout, String?, ReadOptions, Int)] = [
            ("ome.tif", 1, .uint16, 2, TIFFLayout(compression: .deflate), ome, ReadOptions(), 1),
            ("float.tif", 1, .float32, 1, TIFFLayout(compression: .lzw, tileSize: 16), nil,
             ReadOptions(normalization: .percentiles(low: 1, high: 99)), 1),
            ("rgb8.tif", 3, .uint8, 1, TIFFLayout(compression: .none, bigEndian: true), nil,
             ReadOptions(normalization: .fixed(low: 10, high: 240)), 1),
            ("rgb16.tif", 3, .uint16, 2, TIFFLayout(compression: .deflate, tileSize: 32), nil, ReadOptions(axes: "ZYX"), 3),
            ("pick.tif", 3, .uint16, 1, TIFFLayout(), nil, ReadOptions(channel: "1"), 1),
        ]
        var models: [Int: AGGANModel] = [:]
        for (name, samples, type, pages, layout, description, read, channels) in cases {
            let input = dir.appendingPathComponent(name).path
            try writeStack(input, width: 70, height: 53, samples: samples, type: type, pages: pages, layout: layout,
                           description: description)
            let model = try models[channels] ?? Checkpoint.loadModel(F.checkpoint(in: dir, channels: channels)).0
            models[channels] = model
            let translator = ImageTranslator(model: model, mode: .soft, tau: 0.1,
                                             tiling: TilingOptions(maxPixels: 1000, tileSize: 32, overlap: 8))
            let out = dir.appendingPathComponent("out-" + name).path
            let plan = try TranslationPlan(inputs: [input], outputDirectory: out, attentionMaps: true)
            var summaries: [TranslationSummary] = []
            try translator.run(plan, read: read, progress: { _, s in summaries.append(s) })
            XCTAssertEqual(summaries.map(\.streamed), [true], name)
            XCTAssertEqual(summaries.first?.tiles, 3 * 2, name)  // 70 x 53 in 32-pixel tiles, 24 apart
            XCTAssertEqual(summaries.first?.conversion, samples == channels || read.channel != nil ? ChannelConversion.none : .luminance, name)

            let item = plan.items[0]
            let reference = dir.appendingPathComponent("ref-" + name).path, referenceMaps = reference + ".att.tif"
            try inMemory(translator, input, read: read, output: reference, attention: referenceMaps)
            let streamed = try XCTUnwrap(F.fileBytes(item.output)), expected = try XCTUnwrap(F.fileBytes(reference))
            XCTAssertEqual(streamed, expected, "\(name): output bytes")
            XCTAssertEqual(F.fileBytes(try XCTUnwrap(item.attention)), F.fileBytes(referenceMaps), "\(name): attention bytes")
            // `aggan translate`'s batch path streams it too (its translate stage), to the same bytes.
            let batch = try BatchPlan(inputs: [input], outputDirectory: dir.appendingPathComponent("batch-" + name).path,
                                      attentionMaps: true)
            let settings = BatchSettings(checkpoint: "test", translator: translator, format: nil, bitDepth: nil,
                                         attentionMaps: true, read: read)
            XCTAssertEqual(try translator.runBatch(batch, settings: settings, read: read), BatchSummary(done: 1), name)
            XCTAssertEqual(F.fileBytes(batch.items[0].output), expected, "\(name): batch output bytes")
            XCTAssertEqual(F.fileBytes(try XCTUnwrap(batch.items[0].attention)), F.fileBytes(referenceMaps), "\(name): batch attention")
            // Not a trivial agreement: the model changed the image.
            let back = try TIFFStack(file: item.output), original = try TIFFStack(file: input)
            XCTAssertEqual(back.sampleType, type)
            if channels == samples && read.channel == nil { XCTAssertNotEqual(back.values, original.values, name) }
        }
    }

    /// What is held at a time: each band read is one row of tiles (tileSize rows) and the
    /// finished rows go to the writer at most `emittedRows` at a time, not a band's
    /// worth; every row of every plane is read and written once, in order.
    func testStreamingHoldsAboutOneRowOfTiles() throws {
        let dir = try F.folder(self)
        let (model, _, _) = try Checkpoint.loadModel(F.checkpoint(in: dir))
        let input = dir.appendingPathComponent("tall.tif").path
        let (w, h, pages) = (90, 200, 2)
        try writeStack(input, width: w, height: h, samples: 1, type: .uint16, pages: pages, layout: TIFFLayout())
        let tileSize = 64
        let translator = ImageTranslator(model: model, tiling: TilingOptions(maxPixels: 1000, tileSize: tileSize, overlap: 16))
        let reader = try XCTUnwrap(try translator.streamedReader(input: input, format: .tiff, read: ReadOptions(axes: "ZYX")))
        var events: [StreamedRows] = []
        _ = try translator.translateStreamed(reader, to: dir.appendingPathComponent("out.tif").path) { events.append($0) }
        var written = [Int](repeating: 0, count: pages), reads = 0
        for event in events {
            switch event {
            case let .read(plane, rows):
                reads += 1
                XCTAssertLessThanOrEqual(rows.count, tileSize, "a band of \(rows) of plane \(plane)")
            case let .written(plane, rows):
                XCTAssertLessThanOrEqual(rows.count, ImageTranslator.emittedRows, "rows \(rows) of plane \(plane) at once")
                XCTAssertEqual(rows.lowerBound, written[plane], "plane \(plane) out of order")
                written[plane] = rows.upperBound
            }
        }
        XCTAssertEqual(written, [h, h])
        // 200 rows in 64-row tiles 48 apart: 4 bands a plane.
        XCTAssertEqual(reads, pages * 4)
        XCTAssertLessThan(ImageTranslator.emittedRows, tileSize - 16, "emitting a whole band at once would pass")
    }

    /// Only images that would be tiled are streamed; PNG outputs and rescaled models go
    /// through memory.
    func testStreamingIsChosenOnlyForTiledTIFFs() throws {
        let dir = try F.folder(self)
        let (model, _, _) = try Checkpoint.loadModel(F.checkpoint(in: dir))
        let input = dir.appendingPathComponent("a.tif").path
        try writeStack(input, width: 40, height: 40, samples: 1, type: .uint16, pages: 1, layout: TIFFLayout())
        let tiff = try TranslationPlan(inputs: [input], outputDirectory: dir.path + "/o").items[0]
        let png = try TranslationPlan(inputs: [input], outputDirectory: dir.path + "/o", format: .png).items[0]
        let tiled = ImageTranslator(model: model, tiling: TilingOptions(maxPixels: 1000, tileSize: 32, overlap: 8))
        XCTAssertNotNil(try tiled.streamedReader(for: tiff, read: ReadOptions()))
        XCTAssertNil(try tiled.streamedReader(for: png, read: ReadOptions()))
        tiled.scale = 0.5
        XCTAssertNil(try tiled.streamedReader(for: tiff, read: ReadOptions()))
        let whole = ImageTranslator(model: model, tiling: TilingOptions(maxPixels: 1600, tileSize: 32, overlap: 8))
        XCTAssertNil(try whole.streamedReader(for: tiff, read: ReadOptions()))
        XCTAssertTrue(tiled.isTiled(width: 40, height: 40))
        XCTAssertFalse(whole.isTiled(width: 40, height: 40))
    }

    /// Damaged pixel data found halfway through: a one-line error naming the file, no
    /// output and no temporary file left, earlier outputs untouched.
    func testADamagedLargeInputLeavesNoOutput() throws {
        let dir = try F.folder(self)
        let (model, _, _) = try Checkpoint.loadModel(F.checkpoint(in: dir))
        let input = dir.appendingPathComponent("big.tif").path
        // 600 x 120 16-bit: strips of 54 rows; the last one is damaged below.
        try writeStack(input, width: 600, height: 120, samples: 1, type: .uint16, pages: 1, layout: TIFFLayout(compression: .deflate))
        var bytes = try XCTUnwrap(F.fileBytes(input))
        let ifd = Int(bytes[4]) | Int(bytes[5]) << 8 | Int(bytes[6]) << 16 | Int(bytes[7]) << 24
        for i in (ifd - 400)..<(ifd - 200) { bytes[i] = UInt8(truncatingIfNeeded: i &* 37) }
        try bytes.write(to: URL(fileURLWithPath: input))
        let out = dir.appendingPathComponent("out").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try Data("old".utf8).write(to: URL(fileURLWithPath: out + "/big.tif"))
        let translator = ImageTranslator(model: model, tiling: TilingOptions(maxPixels: 1000, tileSize: 64, overlap: 16))
        let plan = try TranslationPlan(inputs: [input], outputDirectory: out, attentionMaps: true, force: true)
        // Fixed normalisation: no histogram pass, so the damage is met while writing (at
        // row 108, after two bands were written).
        F.assertThrows([input, "Decoding error"]) {
            try translator.run(plan, read: ReadOptions(normalization: .fixed(low: 0, high: 65535)))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), ["big.tif"])
        XCTAssertEqual(F.fileBytes(out + "/big.tif"), Data("old".utf8))
    }
}
