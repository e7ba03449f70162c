import Basics
import AGGAN
import Foundation
import Imaging
import Tensor
@testable import Lab
import TrainingEngine
import TestSupport
import XCTest

/// Shared helpers of the inference and evaluation tests (names kept apart from other test
/// files of this target).
enum InferenceFixture {
    /// The tiny model of the brief: 1 channel, ngf 2, 1 block, ndf 2, 32 px.
    static func tinyConfig(channels: Int = 1) -> Config {
        var c = Config()
        c.channels = channels; c.ngf = 2; c.blocks = 1; c.ndf = 2; c.imageSize = 32
        return c
    }

    /// A freshly initialised tiny training checkpoint written into `dir`.
    static func checkpoint(in dir: URL, channels: Int = 1) throws -> String {
        let path = dir.appendingPathComponent("tiny-c\(channels).safetensors").path
        try Checkpoint.save(Trainer(config: tinyConfig(channels: channels)), to: path)
        return path
    }

    /// A new empty folder, removed when the test ends.
    static func folder(_ test: XCTestCase) throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("aggan-inference-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// A deterministic cell-like image: dark noisy background and a few bright blobs;
    /// samples are levels of `bitDepth`.
    static func cells(width: Int, height: Int, channels: Int = 1, bitDepth: Int = 8, seed: UInt64 = 1) throws -> Image {
        var rng = SplitMix64(seed: seed)
        let blobs = (0..<max(2, width * height / 300)).map { _ in
            (Double(rng.nextInt(below: width)), Double(rng.nextInt(below: height)), 2 + 4 * rng.nextDouble())
        }
        let top = bitDepth == 16 ? 65535.0 : 255.0
        var pixels = [Float](repeating: 0, count: channels * width * height)
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    var v = 0.1 + 0.02 * rng.nextNormal()
                    for (bx, by, r) in blobs {
                        let d2 = (Double(x) - bx) * (Double(x) - bx) + (Double(y) - by) * (Double(y) - by)
                        v += (0.6 + 0.1 * Double(c)) * exp(-d2 / (2 * r * r))
                    }
                    pixels[(c * height + y) * width + x] = Float((min(max(v, 0), 1) * top).rounded() / top)
                }
            }
        }
        return try Image(width: width, height: height, channels: channels, pixels: pixels, bitDepth: bitDepth)
    }

    /// Asserts that `body` throws an error whose text contains every one of `parts`.
    static func assertThrows(_ parts: [String], file: StaticString = #filePath, line: UInt = #line,
                             _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("no error thrown; expected one mentioning \(parts)", file: file, line: line)
        } catch {
            let text = "\(error)"
            for part in parts where !text.contains(part) {
                XCTFail("error '\(text)' does not mention '\(part)'", file: file, line: line)
            }
            XCTAssertFalse(text.contains("\n"), "error is not one line: \(text)", file: file, line: line)
        }
    }

    static func fileBytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }
}

final class InferenceTests: XCTestCase {
    typealias F = InferenceFixture

    // MARK: Pixels <-> tensors

    func testEveryEightBitLevelMapsExactlyLikeTheReference() throws {
        let levels = (0...255).map { Float($0) }
        let image = try Image(width: 256, height: 1, channels: 1, pixels: levels.map { $0 / 255 })
        let t = try image.toTensor(channels: 1)
        for v in 0...255 {
            XCTAssertEqual(t.data[v].bitPattern, (Float(v) / 127.5 - 1).bitPattern, "level \(v)")
        }
        // And back: every level comes out as itself.
        let back = try PixelMapping.image(fromTensor: t, bitDepth: 8)
        XCTAssertEqual(back.pixels, image.pixels)
        // Through a PNG file too.
        let decoded = try Image(pngData: try image.pngData(bitDepth: 8))
        XCTAssertEqual(try decoded.toTensor(channels: 1).data.map(\.bitPattern), t.data.map(\.bitPattern))
    }

    func testEverySixteenBitLevelMapsExactly() throws {
        let image = try Image(width: 256, height: 256, channels: 1,
                              pixels: (0...65535).map { Float($0) / 65535 }, bitDepth: 16)
        let t = try image.toTensor(channels: 1)
        var mismatches = 0
        for v in 0...65535 where t.data[v].bitPattern != (Float(v) / 32767.5 - 1).bitPattern { mismatches += 1 }
        XCTAssertEqual(mismatches, 0)
        XCTAssertEqual(try PixelMapping.image(fromTensor: t, bitDepth: 16).pixels, image.pixels)
    }

    func testOutputLevelsRoundHalfToEvenAndClamp() throws {
        // (y + 1) * 127.5 = 0.5, 1.5, 2.5, 254.5 -> 0, 2, 2, 254 (half to even, as torch.round).
        let ys: [Float] = [0.5, 1.5, 2.5, 254.5].map { $0 / 127.5 - 1 }
        let t = try Tensor(shape: [1, 1, 1, 8], data: ys + [-3, 7, .nan, 0])
        let image = try PixelMapping.image(fromTensor: t, bitDepth: 8)
        let levels = image.pixels.map { Int(($0 * 255).rounded()) }
        for (i, y) in ys.enumerated() {
            XCTAssertEqual(levels[i], Int(((y + 1) * 127.5).rounded(.toNearestOrEven)), "y \(y)")
        }
        XCTAssertEqual(Array(levels[4...]), [0, 255, 0, 128])
        // Attention: a * 255.
        let a = try PixelMapping.attentionImage(fromTensor: try Tensor(shape: [1, 1, 1, 3], data: [0, 0.5, 1]), bitDepth: 8)
        XCTAssertEqual(a.pixels.map { Int(($0 * 255).rounded()) }, [0, 128, 255])
        XCTAssertEqual(try PixelMapping.attentionImage(fromTensor: try Tensor(shape: [1, 1, 1, 1], data: [1]), bitDepth: 16).bitDepth, 16)
    }

    // MARK: Geometry

    func testPaddingPlanAndReflection() {
        let plan = PaddingPlan(width: 37, height: 23)
        XCTAssertEqual([plan.paddedWidth, plan.paddedHeight, plan.left, plan.top], [40, 24, 1, 0])
        let small = PaddingPlan(width: 1, height: 5)
        XCTAssertEqual([small.paddedWidth, small.paddedHeight, small.left, small.top], [8, 8, 3, 1])
        XCTAssertTrue(PaddingPlan(width: 64, height: 8).isIdentity)
        // PyTorch "reflect" on a b c d: pads read c b | a b c d | c b.
        XCTAssertEqual((-2...5).map { reflectedIndex($0, 4) }, [2, 1, 0, 1, 2, 3, 2, 1])
        // Wider than the axis: reflect again.
        XCTAssertEqual((-5...(-1)).map { reflectedIndex($0, 3) }, [1, 0, 1, 2, 1])
        XCTAssertEqual((3...7).map { reflectedIndex($0, 3) }, [1, 0, 1, 2, 1])
        XCTAssertEqual(reflectedIndex(-3, 1), 0)
    }

    func testTileStartsCoverTheAxis() throws {
        let tiling = TilingOptions(maxPixels: 1, tileSize: 48, overlap: 16)
        try tiling.validate()
        XCTAssertEqual(tiling.tileStarts(length: 96), [0, 32, 48])
        XCTAssertEqual(tiling.tileStarts(length: 40), [0])
        XCTAssertEqual(tiling.tileStarts(length: 49), [0, 1])
        let w = tiling.weights(start: 32, length: 48, axis: 96)
        XCTAssertEqual(w.first ?? 0, 1 / 17, accuracy: 1e-7)
        XCTAssertEqual(w[24], 1)
        XCTAssertTrue(w.allSatisfy { $0 > 0 })
        F.assertThrows(["tile size", "30"]) { try TilingOptions(tileSize: 30).validate() }
        F.assertThrows(["overlap", "40"]) { try TilingOptions(tileSize: 64, overlap: 40).validate() }
    }

    /// With the binary mode and tau 1 the mask is 0 everywhere, so the output must be the
    /// input bit for bit: any error in the pad / crop / tile geometry would show.
    func testPadCropAndTilingGeometryIsExact() throws {
        let model = AGGANModel(F.tinyConfig())
        model.initialize(seed: 3)
        let translator = ImageTranslator(model: model, mode: .binary, tau: 1)
        for (w, h) in [(37, 23), (5, 3), (1, 1), (64, 64), (9, 130)] {
            let image = try F.cells(width: w, height: h, seed: UInt64(w * h))
            let r = try translator.translate(image)
            XCTAssertEqual([r.output.width, r.output.height, r.attention.width, r.attention.height], [w, h, w, h])
            XCTAssertEqual(r.attentionValues.count, w * h)
            XCTAssertEqual(r.output.pixels, image.pixels, "\(w)x\(h)")
            XCTAssertEqual(r.tiles, 1)
        }
        translator.tiling = TilingOptions(maxPixels: 100, tileSize: 16, overlap: 4)
        let image = try F.cells(width: 50, height: 37, bitDepth: 16)
        let r = try translator.translate(image)
        XCTAssertEqual(r.tiles, 4 * 3)
        XCTAssertEqual(r.output.pixels, image.pixels)
        XCTAssertEqual(r.output.bitDepth, 16)
    }

    /// Instance norm sees each tile's own statistics, so tiles are close to, not equal
    /// to, the whole-image result; with a tile as large as the image they are equal.
    func testTilingIsCloseToTheWholeImage() throws {
        let model = AGGANModel(F.tinyConfig())
        model.initialize(seed: 5)
        let image = try F.cells(width: 96, height: 96, seed: 7)
        let x = try image.toTensor(channels: 1)
        let whole = try ImageTranslator(model: model, tiling: .never).translate(tensor: x)
        let tiled = try ImageTranslator(model: model, tiling: TilingOptions(maxPixels: 1, tileSize: 48, overlap: 16))
            .translate(tensor: x)
        XCTAssertEqual(tiled.tiles, 9)
        func diffs(_ a: Tensor, _ b: Tensor) -> (mean: Float, max: Float) {
            let d = zip(a.data, b.data).map { abs($0 - $1) }
            return (d.reduce(0, +) / Float(d.count), d.max() ?? 0)
        }
        let composite = diffs(whole.composite, tiled.composite), attention = diffs(whole.attention, tiled.attention)
        let change = diffs(whole.composite, x).mean
        // Measured: composite 0.021 mean (max 0.18) against a change of 0.27 made by the
        // model; attention 0.016. Values span [-1, 1] (composite) and [0, 1] (attention).
        XCTAssertLessThan(composite.mean, 0.03, "composite mean |diff| \(composite.mean), max \(composite.max)")
        XCTAssertLessThan(composite.mean, 0.15 * change, "tiling changes \(composite.mean), the model \(change)")
        XCTAssertLessThan(attention.mean, 0.03, "attention mean |diff| \(attention.mean), max \(attention.max)")
        XCTAssertGreaterThan(composite.max, 0, "tiles should not be exactly the whole image (instance norm)")

        let single = try ImageTranslator(model: model, tiling: TilingOptions(maxPixels: 1, tileSize: 96, overlap: 16))
            .translate(tensor: x)
        XCTAssertEqual(single.tiles, 1)
        XCTAssertEqual(single.composite.data, whole.composite.data)
    }

    /// With a scale the networks see the resized input; their attention and G(x) come back
    /// at the input's size and are composed with the input itself, so a mask of 0 leaves
    /// every pixel exactly as it was.
    func testScaledTranslationComposesAtTheInputsSize() throws {
        let model = AGGANModel(F.tinyConfig())
        model.initialize(seed: 5)
        let image = try F.cells(width: 96, height: 80, seed: 7)
        let x = try image.toTensor(channels: 1)
        let r = try ImageTranslator(model: model, tiling: .never, scale: 0.5).translate(tensor: x)
        XCTAssertEqual(r.attention.shape, [1, 1, 80, 96])
        XCTAssertEqual(r.composite.shape, [1, 1, 80, 96])
        // The attention is the half-size model's, resized back.
        let small = try ImageTranslator(model: model, tiling: .never).translate(tensor: rescaled(image, by: 0.5).toTensor(channels: 1))
        let up = try Image(width: 48, height: 40, channels: 1, pixels: small.attention.data).resized(width: 96, height: 80).pixels
        func maxDiff(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? .infinity }
        XCTAssertLessThan(maxDiff(r.attention.data, up), 1e-5)
        let composed = try AGGANModel.compose(r.attention, r.generated, x)
        XCTAssertEqual(maxDiff(r.composite.data, composed.data), 0)
        // Binary mode with a threshold above every attention value: the input, exactly.
        let top = r.attention.data.max() ?? 1
        let none = try ImageTranslator(model: model, mode: .binary, tau: min(top + 0.001, 0.999), tiling: .never, scale: 0.5)
            .translate(tensor: x)
        XCTAssertTrue(none.composite.data == x.data, "pixels outside the mask changed")
        // Too small once resized: a clear error.
        F.assertThrows(["scale 0.05", "under the 8 px"]) {
            _ = try ImageTranslator(model: model, tiling: .never, scale: 0.05).translate(tensor: x)
        }
    }

    // MARK: Batch translation (`aggan translate`)

    func testTranslateWritesFilesOfTheInputsSizeAndDepth() throws {
        let dir = try F.folder(self)
        let checkpoint = try F.checkpoint(in: dir)
        let inputs = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        let a = inputs.appendingPathComponent("a.png").path, b = inputs.appendingPathComponent("b.png").path
        try F.cells(width: 40, height: 28).writePNG(to: a)
        try F.cells(width: 21, height: 13, bitDepth: 16, seed: 2).writePNG(to: b, bitDepth: 16)
        let out = dir.appendingPathComponent("out").path

        let (model, config, _) = try Checkpoint.loadModel(checkpoint)
        XCTAssertEqual(config?.channels, 1)
        let translator = ImageTranslator(model: model, mode: .soft, tau: 0.1)
        let plan = try TranslationPlan(inputs: [inputs.path], outputDirectory: out, attentionMaps: true)
        XCTAssertEqual(plan.items.map(\.output), [out + "/a.png", out + "/b.png"])
        var written: [String] = []
        try translator.run(plan, progress: { item, _ in written.append(item.output) })
        XCTAssertEqual(written.count, 2)

        let outA = try Image(pngFile: out + "/a.png"), outB = try Image(pngFile: out + "/b.png")
        XCTAssertEqual([outA.width, outA.height, outA.bitDepth], [40, 28, 8])
        XCTAssertEqual([outB.width, outB.height, outB.bitDepth], [21, 13, 16])
        let attB = try Image(pngFile: out + "/b_attention.png")
        XCTAssertEqual([attB.width, attB.height, attB.channels, attB.bitDepth], [21, 13, 1, 16])
        XCTAssertNotEqual(outA.pixels, try Image(pngFile: a).pixels, "a fresh model still changes the image")

        // 16-bit input written as 8-bit on request; b2a works too.
        translator.direction = .ts
        let out8 = dir.appendingPathComponent("out8").path
        try translator.run(try TranslationPlan(inputs: [b], outputDirectory: out8), bitDepth: 8)
        XCTAssertEqual(try Image(pngFile: out8 + "/b.png").bitDepth, 8)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out8 + "/b_attention.png"))
        F.assertThrows(["bit depth", "12"]) { try translator.run(try TranslationPlan(inputs: [a], outputDirectory: out8 + "x"), bitDepth: 12) }
    }

    /// A 16-bit OME-TIFF with two time points gives a 16-bit OME-TIFF with two time
    /// points in the input's value range, its channel name and pixel size kept.
    func testTIFFInGivesTIFFOutOfTheSameKind() throws {
        let dir = try F.folder(self)
        let checkpoint = try F.checkpoint(in: dir)
        let (model, _, _) = try Checkpoint.loadModel(checkpoint)
        let translator = ImageTranslator(model: model, mode: .soft, tau: 0.1)
        let (w, h) = (36, 28)
        let planes = [try F.cells(width: w, height: h, bitDepth: 16, seed: 3), try F.cells(width: w, height: h, bitDepth: 16, seed: 4)]
        let values = planes.flatMap { $0.pixels.map { (1000 + $0 * 4000).rounded() } }  // 1000...5000
        let ome = """
            <?xml version="1.0"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0">\
            <Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint16" SizeX="\(w)" SizeY="\(h)" SizeC="1" SizeZ="1" SizeT="2" \
            PhysicalSizeX="0.3" PhysicalSizeY="0.3"><Channel ID="Channel:0:0" Name="DAPI" SamplesPerPixel="1"/></Pixels></Image></OME>
            """
        let input = dir.appendingPathComponent("in.ome.tif").path
        try TIFFStack(width: w, height: h, samplesPerPixel: 1, sampleType: .uint16, pageCount: 2, values: values,
                      description: ome, layout: TIFFLayout(compression: .lzw, tileSize: 16)).write(to: input)
        let out = dir.appendingPathComponent("out").path
        let plan = try TranslationPlan(inputs: [input], outputDirectory: out, attentionMaps: true)
        XCTAssertEqual(plan.items.map(\.output), [out + "/in.ome.tif"])
        try translator.run(plan)

        let result = try TIFFStack(file: out + "/in.ome.tif")
        XCTAssertEqual([result.width, result.height, result.pageCount, result.samplesPerPixel], [w, h, 2, 1])
        XCTAssertEqual(result.sampleType, .uint16)
        XCTAssertEqual(result.layout, TIFFLayout(compression: .lzw, tileSize: 16))
        let meta = try XCTUnwrap(OMEMetadata.parse(result.description ?? ""))
        XCTAssertEqual([meta.sizeC, meta.sizeZ, meta.sizeT], [1, 1, 2])
        XCTAssertEqual(meta.physicalSizeX, 0.3)
        XCTAssertEqual(meta.channelNames, ["DAPI"])
        let range = IntensityNormalization.standard.range(of: values[...], type: .uint16)
        XCTAssertGreaterThanOrEqual(Double(result.values.min()!), range.low.rounded(.down))
        XCTAssertLessThanOrEqual(Double(result.values.max()!), range.high.rounded(.up))
        XCTAssertGreaterThan(result.values.max()!, 1000, "values in the input's range, not 0...255")
        XCTAssertEqual(Set(result.values).count > 256, true, "more than 256 levels: never through 8 bits")
        let attention = try TIFFStack(file: out + "/in.ome_attention.tif")
        XCTAssertEqual(attention.sampleType, .float32)
        XCTAssertEqual(attention.pageCount, 2)
        XCTAssertTrue(attention.values.allSatisfy { $0 >= 0 && $0 <= 1 })

        // A stack cannot become one PNG; a PNG can become a plain TIFF.
        F.assertThrows(["2 planes", "--format tiff"]) {
            try translator.run(try TranslationPlan(inputs: [input], outputDirectory: out + "png", format: .png))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "png/in.ome.png"))
        let png = dir.appendingPathComponent("p.png").path
        try F.cells(width: 20, height: 20).writePNG(to: png)
        try translator.run(try TranslationPlan(inputs: [png], outputDirectory: out + "tif", format: .tiff))
        XCTAssertEqual(try TIFFStack(file: out + "tif/p.tif").sampleType, .uint8)
    }

    func testExistingOutputsAreRefusedUnlessForced() throws {
        let dir = try F.folder(self)
        let (model, _, _) = try Checkpoint.loadModel(try F.checkpoint(in: dir))
        let translator = ImageTranslator(model: model)
        let input = dir.appendingPathComponent("x.png").path
        try F.cells(width: 16, height: 16).writePNG(to: input)
        let out = dir.appendingPathComponent("out").path
        try translator.run(try TranslationPlan(inputs: [input], outputDirectory: out))
        let first = F.fileBytes(out + "/x.png")
        F.assertThrows(["'\(out)/x.png'", "already exists", "--force"]) {
            _ = try TranslationPlan(inputs: [input], outputDirectory: out)
        }
        // Attention maps are checked too.
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: out + "/y_attention.png"))
        let y = dir.appendingPathComponent("y.png").path
        try F.cells(width: 16, height: 16, seed: 9).writePNG(to: y)
        F.assertThrows(["y_attention.png", "already exists"]) {
            _ = try TranslationPlan(inputs: [y], outputDirectory: out, attentionMaps: true)
        }
        XCTAssertEqual(F.fileBytes(out + "/x.png"), first)
        // With force: replaced.
        translator.direction = .ts
        try translator.run(try TranslationPlan(inputs: [input], outputDirectory: out, force: true))
        XCTAssertNotEqual(F.fileBytes(out + "/x.png"), first)
    }

    func testAnInputIsNeverOverwritten() throws {
        let dir = try F.folder(self)
        let (model, _, _) = try Checkpoint.loadModel(try F.checkpoint(in: dir))
        let translator = ImageTranslator(model: model)
        let input = dir.appendingPathComponent("x.png").path
        try F.cells(width: 16, height: 16).writePNG(to: input)
        let before = F.fileBytes(input)
        for force in [false, true] {
            F.assertThrows(["'\(dir.path)/x.png'", "is one of the inputs"]) {
                try translator.run(try TranslationPlan(inputs: [input], outputDirectory: dir.path, force: force))
            }
            // Through another spelling of the same folder, and through the folder itself.
            F.assertThrows(["is one of the inputs"]) {
                _ = try TranslationPlan(inputs: [dir.path], outputDirectory: dir.path + "/./", force: force)
            }
        }
        // A symbolic link to the input in the output folder.
        let out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: out.path + "/x.png", withDestinationPath: input)
        F.assertThrows(["is one of the inputs"]) {
            _ = try TranslationPlan(inputs: [input], outputDirectory: out.path, force: true)
        }
        // Two inputs of the same name would collide.
        let other = dir.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try F.cells(width: 16, height: 16).writePNG(to: other.path + "/x.png")
        F.assertThrows(["would both be written to"]) {
            _ = try TranslationPlan(inputs: [input, other.path + "/x.png"], outputDirectory: dir.path + "/o2")
        }
        XCTAssertEqual(F.fileBytes(input), before)
    }

    func testACorruptInputStopsWithItsNameAndKeepsEarlierOutputs() throws {
        let dir = try F.folder(self)
        let (model, _, _) = try Checkpoint.loadModel(try F.checkpoint(in: dir))
        let translator = ImageTranslator(model: model)
        let inputs = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        let good = inputs.path + "/a_good.png", bad = inputs.path + "/b_bad.png", later = inputs.path + "/c_later.png"
        try F.cells(width: 24, height: 24).writePNG(to: good)
        let png = try F.cells(width: 24, height: 24, seed: 4).pngData()
        try Data(png.prefix(png.count / 2)).write(to: URL(fileURLWithPath: bad))  // truncated
        try F.cells(width: 24, height: 24, seed: 5).writePNG(to: later)
        let out = dir.appendingPathComponent("out").path

        F.assertThrows(["'\(bad)'"]) { try translator.run(try TranslationPlan(inputs: [inputs.path], outputDirectory: out)) }
        let names = try FileManager.default.contentsOfDirectory(atPath: out)
        XCTAssertEqual(names, ["a_good.png"], "only the output before the bad file; no partial or temporary file")
        let kept = F.fileBytes(out + "/a_good.png")
        XCTAssertEqual(try Image(pngFile: out + "/a_good.png").width, 24)

        // Forced again: the bad file's old output (if any) stays untouched as well.
        try Data("old".utf8).write(to: URL(fileURLWithPath: out + "/b_bad.png"))
        F.assertThrows(["'\(bad)'", "truncated"]) {
            try translator.run(try TranslationPlan(inputs: [good, bad], outputDirectory: out, force: true))
        }
        XCTAssertEqual(F.fileBytes(out + "/b_bad.png"), Data("old".utf8))
        XCTAssertEqual(F.fileBytes(out + "/a_good.png"), kept, "the same model gives the same bytes")

        // Not a PNG at all; a missing file.
        let text = inputs.path + "/d.png"
        try Data("<?xml".utf8).write(to: URL(fileURLWithPath: text))
        F.assertThrows(["'\(text)'", "not a PNG"]) {
            try translator.run(try TranslationPlan(inputs: [text], outputDirectory: out + "2"))
        }
        F.assertThrows(["'\(inputs.path)/none.png'", "no such file"]) {
            _ = try TranslationPlan(inputs: [inputs.path + "/none.png"], outputDirectory: out)
        }
        F.assertThrows(["cannot load checkpoint", "'\(good)'"]) { _ = try Checkpoint.loadModel(good) }
    }

    func testChannelConversionWarnsOnce() throws {
        let dir = try F.folder(self)
        let gray = try Checkpoint.loadModel(try F.checkpoint(in: dir, channels: 1)).model
        let colour = try Checkpoint.loadModel(try F.checkpoint(in: dir, channels: 3)).model
        let rgb1 = dir.appendingPathComponent("rgb1.png").path, rgb2 = dir.appendingPathComponent("rgb2.png").path
        let g = dir.appendingPathComponent("g.png").path
        try F.cells(width: 16, height: 12, channels: 3).writePNG(to: rgb1)
        try F.cells(width: 16, height: 12, channels: 3, seed: 3).writePNG(to: rgb2)
        try F.cells(width: 16, height: 12).writePNG(to: g)

        var warnings: [String] = []
        try ImageTranslator(model: gray).run(try TranslationPlan(inputs: [rgb1, rgb2], outputDirectory: dir.path + "/o1"),
                                             warning: { warnings.append($0) })
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings.first?.contains("luminance") ?? false)
        XCTAssertEqual(try Image(pngFile: dir.path + "/o1/rgb2.png").channels, 1)

        warnings = []
        var conversion: ChannelConversion?
        try ImageTranslator(model: colour).run(try TranslationPlan(inputs: [g], outputDirectory: dir.path + "/o3"),
                                               warning: { warnings.append($0) },
                                               progress: { _, r in conversion = r.conversion })
        XCTAssertEqual(warnings, [])
        XCTAssertEqual(conversion, .replicateGray)
        XCTAssertEqual(try Image(pngFile: dir.path + "/o3/g.png").channels, 3)
    }
}
