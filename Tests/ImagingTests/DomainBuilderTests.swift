import Foundation
import XCTest
import Imaging

/// Building two domains from one image and its mask.
final class DomainBuilderTests: XCTestCase {
    /// A 256 x 192 gray "fluorescence" image: noisy dark background, bright discs (cells),
    /// and its 0/1 mask.
    private func cells() throws -> (image: Image, mask: Image) {
        let w = 256, h = 192
        var state: UInt32 = 12345
        func noise() -> Float { state = state &* 1_103_515_245 &+ 12345; return Float(state >> 16 & 0xFF) / 255 - 0.5 }
        let centres = stride(from: 0, to: 40, by: 1).map { i in ((i * 53 + 17) % w, (i * 37 + 29) % h) }
        var image = [Float](), mask = [Float]()
        for y in 0..<h {
            for x in 0..<w {
                let inside = centres.contains { (x - $0.0) * (x - $0.0) + (y - $0.1) * (y - $0.1) <= 36 }
                let v = (inside ? 0.7 : 0.1) + 0.04 * noise()
                image.append(Float((v * 255).rounded()) / 255)
                mask.append(inside ? 1 : 0)
            }
        }
        return (try Image(width: w, height: h, channels: 1, pixels: image),
                try Image(width: w, height: h, channels: 1, pixels: mask))
    }

    private func options(seed: UInt64) -> DomainBuildOptions {
        var o = DomainBuildOptions()
        o.seed = seed
        return o
    }

    func testBlocksAreDisjointAndSplit() throws {
        let (image, mask) = try cells()
        let data = try DomainDataset(image: image, mask: mask, options: options(seed: 3))
        // 4 x 3 = 12 blocks: test max(2, round(1.2)) = 2, A 5, B 5.
        XCTAssertEqual([data.info.gridRows, data.info.gridColumns], [3, 4])
        XCTAssertEqual([data.trainA.count, data.trainB.count, data.testA.count], [5, 5, 2])
        let all = data.info.trainA + data.info.trainB + data.info.test
        XCTAssertEqual(Set(all).count, 12)
        XCTAssertEqual(data.testA.map(\.name), data.info.test)
        XCTAssertEqual(data.testBTruth.map(\.name), data.info.test)
        XCTAssertTrue(all.allSatisfy { $0.range(of: #"^blk_r0\d_c0\d\.png$"#, options: .regularExpression) != nil })
        for block in data.trainA + data.trainB + data.testMasks {
            XCTAssertEqual([block.image.width, block.image.height], [64, 64])
        }
        // B blocks are crops of the original; held-out truths too; masks are the cell mask.
        let first = data.trainB[0].name
        let r = Int(first.dropFirst(5).prefix(2)) ?? -1, c = Int(first.dropFirst(9).prefix(2)) ?? -1
        XCTAssertEqual(data.trainB[0].image, try image.cropped(x: c * 64, y: r * 64, width: 64, height: 64))
        XCTAssertEqual(Set(data.testMasks[0].image.pixels).subtracting([0, 1]), [])
    }

    /// `scale` resizes the image and its mask before the blocks are cut; dataset.json keeps
    /// the factor and the source cells' size, and the mask stays 0/1.
    func testScaleResizesBeforeTheBlocks() throws {
        let (image, mask) = try cells()
        var o = options(seed: 3)
        o.scale = 0.5
        o.blockSize = 32
        let data = try DomainDataset(image: image, mask: mask, options: o)
        XCTAssertEqual([data.info.gridRows, data.info.gridColumns], [3, 4], "256 x 192 halved is 128 x 96: 4 x 3 blocks of 32")
        XCTAssertEqual([data.degraded.width, data.degraded.height], [128, 96])
        XCTAssertEqual(data.info.options.scale, 0.5)
        let source = try XCTUnwrap(data.info.cellDiameter)
        XCTAssertGreaterThan(source, 11, "discs of radius 6, some touching")
        XCTAssertEqual(Set(data.testMasks.flatMap(\.image.pixels)).subtracting([0, 1]), [])
        let halved = try XCTUnwrap(CellPrior.medianDiameter(of: PixelMask(rescaled(mask, by: 0.5, isMask: true))))
        XCTAssertEqual(halved, source / 2, accuracy: source * 0.1)
        let json = try JSONDecoder().decode(DomainDatasetInfo.self, from: JSONEncoder().encode(data.info))
        XCTAssertEqual(json, data.info)
    }

    /// The automatic scale: cells from 1/16 to 1/2 of the crop as they are, others to 3/8.
    func testCellScaleKeepsMidSizedCellsAndResizesOthers() {
        XCTAssertEqual(CellScale.factor(cellDiameter: 24, crop: 64), 1)
        XCTAssertEqual(CellScale.factor(cellDiameter: 32, crop: 64), 1)
        XCTAssertEqual(CellScale.factor(cellDiameter: 4, crop: 64), 1)
        XCTAssertEqual(CellScale.factor(cellDiameter: 24, crop: 256), 1, "the bundled nuclei in the paper's crop")
        XCTAssertEqual(CellScale.factor(cellDiameter: 86, crop: 64), 24.0 / 86, accuracy: 1e-12)
        XCTAssertEqual(CellScale.factor(cellDiameter: 60, crop: 128), 1)
        XCTAssertEqual(CellScale.factor(cellDiameter: 96, crop: 128), 0.5)
        XCTAssertEqual(CellScale.factor(cellDiameter: 3, crop: 64), 4, "enlarging is bounded by 4")
        XCTAssertEqual(CellScale.factor(cellDiameter: 200, crop: 256), 0.48, accuracy: 1e-12)
        XCTAssertEqual(CellScale.factor(cellDiameter: nil, crop: 64), 1)
    }

    func testDegradationOnlyInsideDilatedMask() throws {
        let (image, mask) = try cells()
        let data = try DomainDataset(image: image, mask: mask, options: options(seed: 5))
        let region = dilate(PixelMask(mask), radius: 2)
        XCTAssertEqual(data.degradedRegion, region)
        var changedInside = 0, inside = 0
        for i in 0..<image.planeSize {
            if region.bits[i] {
                inside += 1
                if data.degraded.pixels[i] != image.pixels[i] { changedInside += 1 }
            } else {
                XCTAssertEqual(data.degraded.pixels[i].bitPattern, image.pixels[i].bitPattern, "pixel \(i) outside changed")
            }
        }
        XCTAssertGreaterThan(changedInside, inside * 9 / 10)
        // Cells are pulled toward the background (0.1): mean inside the cells drops from ~0.7.
        let cellBits = PixelMask(mask).bits
        let cellPixels = (0..<image.planeSize).filter { cellBits[$0] }
        let meanCells = cellPixels.reduce(0.0) { $0 + Double(data.degraded.pixels[$1]) } / Double(cellPixels.count)
        XCTAssertLessThan(meanCells, 0.45)
        XCTAssertGreaterThan(meanCells, 0.2)
        // The measured background: level ~0.1, noise ~ the 0.04-wide uniform noise (std ~0.0115).
        XCTAssertEqual(data.info.backgroundLevel[0], 0.1, accuracy: 0.01)
        XCTAssertEqual(data.info.backgroundNoise[0], 0.04 / 12.0.squareRoot(), accuracy: 0.004)
        // A-block files keep the outside pixels bit-identical after the PNG round trip.
        let dir = try makeTempDirectory(self)
        try data.write(to: dir)
        for block in data.trainA + data.testA {
            let folder = data.trainA.contains(block) ? "trainA" : "testA"
            let read = try Image(pngFile: dir + "/\(folder)/" + block.name)
            XCTAssertEqual(read, block.image)
        }
    }

    func testDilationIsADisk() throws {
        var bits = [Bool](repeating: false, count: 49)
        bits[24] = true // centre of 7 x 7
        let grown = dilate(try PixelMask(width: 7, height: 7, bits: bits), radius: 2)
        XCTAssertEqual(grown.count, 13) // dx^2 + dy^2 <= 4
        XCTAssertTrue(grown.bits[24 - 2 * 7])
        XCTAssertFalse(grown.bits[24 - 2 * 7 - 1])
    }

    func testWriteIsDeterministicBySeed() throws {
        let (image, mask) = try cells()
        let dir = try makeTempDirectory(self)
        try DomainDataset(image: image, mask: mask, options: options(seed: 9)).write(to: dir + "/one")
        try DomainDataset(image: image, mask: mask, options: options(seed: 9)).write(to: dir + "/two")
        try DomainDataset(image: image, mask: mask, options: options(seed: 10)).write(to: dir + "/three")
        func files(_ root: String) throws -> [String: Data] {
            var out: [String: Data] = [:]
            for entry in try FileManager.default.subpathsOfDirectory(atPath: root).sorted() {
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: root + "/" + entry, isDirectory: &isDir), !isDir.boolValue {
                    out[entry] = try Data(contentsOf: URL(fileURLWithPath: root + "/" + entry))
                }
            }
            return out
        }
        let one = try files(dir + "/one"), two = try files(dir + "/two"), three = try files(dir + "/three")
        XCTAssertEqual(one.count, 5 + 5 + 2 * 4 + 1)
        XCTAssertEqual(one, two)
        XCTAssertNotEqual(one, three)
        XCTAssertEqual(Set(one.keys.map { $0.split(separator: "/").first.map(String.init) ?? "" }),
                       Set(DomainDataset.entries))
        // testB duplicates testB_truth for the CycleGAN layout; held-out set loads by name.
        let held = try HeldOutSample.loadAll(root: dir + "/one")
        XCTAssertEqual(held.count, 2)
        XCTAssertEqual(one["testB/" + held[0].name], one["testB_truth/" + held[0].name])
        let json = try JSONDecoder().decode(DomainDatasetInfo.self, from: try XCTUnwrap(one["dataset.json"]))
        XCTAssertEqual(json.options.seed, 9)
        XCTAssertEqual(json.test, held.map(\.name))
        // An existing dataset is not overwritten unless asked.
        assertImagingError(.writeFailed, containing: "already holds") {
            try DomainDataset(image: image, mask: mask, options: options(seed: 10)).write(to: dir + "/one")
        }
        try DomainDataset(image: image, mask: mask, options: options(seed: 10)).write(to: dir + "/one", overwrite: true)
        XCTAssertEqual(try files(dir + "/one"), three)
    }

    func testBuildFromFilesRecordsNamesOnly() throws {
        let (image, mask) = try cells()
        let dir = try makeTempDirectory(self)
        try image.writePNG(to: dir + "/cells.png")
        try mask.writePNG(to: dir + "/cells_mask.png")
        let fromFiles = try DomainDataset(imageFile: dir + "/cells.png", maskFile: dir + "/cells_mask.png", options: options(seed: 4))
        let inMemory = try DomainDataset(image: image, mask: mask, options: options(seed: 4),
                                         imageName: "cells.png", maskName: "cells_mask.png")
        XCTAssertEqual(fromFiles, inMemory)
        XCTAssertEqual([fromFiles.info.image, fromFiles.info.mask], ["cells.png", "cells_mask.png"])
        assertImagingError(.fileMissing, containing: "cannot read '\(dir)/none.png'") {
            try DomainDataset(imageFile: dir + "/cells.png", maskFile: dir + "/none.png")
        }
    }

    func testRefusesTooSmallOrMismatchedInputs() throws {
        let small = try Image(width: 128, height: 64, channels: 1, value: 0.2)
        assertImagingError(.invalidArgument, containing: "gives 2 blocks") {
            try DomainDataset(image: small, mask: small)
        }
        let other = try Image(width: 64, height: 64, channels: 1)
        assertImagingError(.invalidArgument, containing: "the mask is 64 x 64, the image 128 x 64") {
            try DomainDataset(image: small, mask: other)
        }
        let allCells = try Image(width: 256, height: 64, channels: 1, value: 1)
        assertImagingError(.invalidArgument, containing: "covers the whole image") {
            try DomainDataset(image: allCells, mask: allCells)
        }
    }
}
