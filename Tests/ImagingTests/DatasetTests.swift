import Basics
import Foundation
import XCTest
import Imaging

/// Folders, layouts, the unpaired sampler and augmentation.
final class DatasetTests: XCTestCase {
    private func writeGray(_ dir: String, _ name: String, value: Float, size: Int = 4) throws {
        try Image(width: size, height: size, channels: 1, value: value).writePNG(to: dir + "/" + name)
    }

    func testFolderListsPNGsSortedCaseInsensitive() throws {
        let dir = try makeTempDirectory(self)
        try writeGray(dir, "b.PNG", value: 0.2)
        try writeGray(dir, "a.png", value: 0.1)
        try writeGray(dir, "c.Png", value: 0.3)
        try writeGray(dir, ".hidden.png", value: 0.9)
        try writeBytes(Array("text".utf8), dir + "/notes.txt")
        try FileManager.default.createDirectory(atPath: dir + "/sub.png", withIntermediateDirectories: false)
        let folder = try ImageFolder(directory: dir)
        XCTAssertEqual(folder.names, ["a.png", "b.PNG", "c.Png"])
        XCTAssertEqual(folder.files.first, dir + "/a.png")
        let images = try folder.loadAll().map(\.image)
        XCTAssertEqual(images.map { Int(($0.pixels[0] * 255).rounded()) }, [26, 51, 77])
        XCTAssertEqual(try loadImageFolder(dir), images)
    }

    /// PNG and TIFF files mix in a folder; a stack gives one image per plane.
    func testFolderMixesPNGAndTIFF() throws {
        let dir = try makeTempDirectory(self)
        try writeGray(dir, "a.png", value: 0.2)
        try FileManager.default.copyItem(atPath: TIFFFixtures.path("ome-ctyx.ome.tif"), toPath: dir + "/b.ome.tif")
        try FileManager.default.copyItem(atPath: TIFFFixtures.path("uint8-1-none-strips-le.tif"), toPath: dir + "/c.TIFF")
        let folder = try ImageFolder(directory: dir)
        XCTAssertEqual(folder.names, ["a.png", "b.ome.tif", "c.TIFF"])
        assertImagingError(.axesNeeded, containing: "--channel") { try folder.loadAll() }
        let images = try folder.loadAll(options: ReadOptions(channel: "0", normalization: .none))
        XCTAssertEqual(images.map(\.name), ["a.png", "b.ome.tif[t0]", "b.ome.tif[t1]", "b.ome.tif[t2]", "c.TIFF"])
        XCTAssertEqual(images[1].image.pixels[0], TIFFFixtures.expected(.uint16, p: 0, s: 0, y: 0, x: 0) / 65535)
        XCTAssertEqual(images[4].image.pixels[1], TIFFFixtures.expected(.uint8, p: 0, s: 0, y: 0, x: 1) / 255)
    }

    func testFolderErrorsNameTheFolderOrFile() throws {
        let dir = try makeTempDirectory(self)
        assertImagingError(.fileMissing, containing: "cannot read '\(dir)/none': no such folder") { try ImageFolder(directory: dir + "/none") }
        assertImagingError(.noImages, containing: "no .png, .tif or .tiff files") { try ImageFolder(directory: dir) }
        try writeGray(dir, "a.png", value: 0.1)
        try writeBytes([1, 2, 3, 4, 5], dir + "/b.png")
        try writeGray(dir, "c.png", value: 0.1)
        assertImagingError(.invalidArgument, containing: "not a folder") { try ImageFolder(directory: dir + "/a.png") }
        assertImagingError(.notPNG, containing: "cannot read '\(dir)/b.png': not a PNG file (starts with 0x01020304)") {
            try ImageFolder(directory: dir).loadAll()
        }
    }

    func testCycleGANLayoutAndExplicitDomains() throws {
        let dir = try makeTempDirectory(self)
        for sub in ["trainA", "trainB", "testA"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: false)
            try writeGray(dir + "/" + sub, "x.png", value: 0.5)
        }
        let layout = try DatasetFolders(cycleGANRoot: dir)
        XCTAssertEqual(layout.trainA.directory, dir + "/trainA")
        XCTAssertEqual(layout.testA?.names, ["x.png"])
        XCTAssertNil(layout.testB)
        let explicit = try DatasetFolders(domainA: dir + "/trainB", domainB: dir + "/testA")
        XCTAssertEqual(explicit.trainB.directory, dir + "/testA")
        try FileManager.default.removeItem(atPath: dir + "/trainB")
        assertImagingError(.fileMissing, containing: "'trainB' is missing") { try DatasetFolders(cycleGANRoot: dir) }
    }

    func testSamplerEpochsArePermutationsAndDeterministic() throws {
        var sampler = try UnpairedSampler(countA: 5, countB: 3, seed: 42)
        XCTAssertEqual(sampler.stepsPerEpoch, 5)
        var a: [Int] = [], b: [Int] = []
        for _ in 0..<15 { let pair = sampler.next(); a.append(pair.a); b.append(pair.b) }
        XCTAssertEqual(sampler.epoch, 3)
        for e in 0..<3 { XCTAssertEqual(a[(e * 5)..<(e * 5 + 5)].sorted(), [0, 1, 2, 3, 4]) }
        for e in 0..<5 { XCTAssertEqual(b[(e * 3)..<(e * 3 + 3)].sorted(), [0, 1, 2]) }
        XCTAssertNotEqual(Array(a[0..<5]), Array(a[5..<10]), "epoch 2 is reshuffled (true for seed 42)")

        var again = try UnpairedSampler(countA: 5, countB: 3, seed: 42)
        XCTAssertEqual((0..<15).map { _ in again.next().a }, a)
        var other = try UnpairedSampler(countA: 5, countB: 3, seed: 43)
        XCTAssertNotEqual((0..<15).map { _ in other.next().a }, a)
        assertImagingError(.noImages, containing: "0 in B") { try UnpairedSampler(countA: 1, countB: 0, seed: 1) }
    }

    func testSamplerResumesBitForBitFromSavedState() throws {
        var sampler = try UnpairedSampler(countA: 7, countB: 4, seed: 0xDEAD_BEEF_CAFE_F00D)
        for _ in 0..<9 { _ = sampler.next() }
        let saved = try JSONEncoder().encode(sampler)
        var restored = try JSONDecoder().decode(UnpairedSampler.self, from: saved)
        XCTAssertEqual(restored, sampler)
        for _ in 0..<30 {
            let x = sampler.next(), y = restored.next()
            XCTAssertEqual([x.a, x.b], [y.a, y.b])
        }
        let broken = Data(String(decoding: saved, as: UTF8.self).replacingOccurrences(of: "\"countA\":7", with: "\"countA\":8").utf8)
        XCTAssertThrowsError(try JSONDecoder().decode(UnpairedSampler.self, from: broken))
    }

    func testAugmentationShapesAndDeterminism() throws {
        let augment = try Augmentation.microscopy(cropSize: 64)
        XCTAssertEqual(augment.loadSize, 72)
        XCTAssertEqual(try Augmentation(cropSize: 256).loadSize, 286)
        let image = try makeImage(width: 100, height: 80, channels: 3) { c, y, x in Float((c * 31 + y * 7 + x * 3) % 97) / 96 }
        var r1 = SplitMix64(seed: 7), r2 = SplitMix64(seed: 7)
        let out1 = try augment.apply(to: image, rng: &r1)
        XCTAssertEqual([out1.width, out1.height, out1.channels], [64, 64, 3])
        XCTAssertEqual(try augment.apply(to: image, rng: &r2), out1)
        XCTAssertEqual(r1, r2)
        let out2 = try augment.apply(to: image, rng: &r1)
        XCTAssertNotEqual(out2, out1)
        assertImagingError(.invalidArgument, containing: "crop 10, load 8") { try Augmentation(cropSize: 10, loadSize: 8) }
    }

    func testAugmentationCropFlipRotateFollowTheDraws() throws {
        // 6 x 6 distinct values; load 6 (no resize), crop 4.
        let image = try makeImage(width: 6, height: 6, channels: 1) { _, y, x in Float(y * 6 + x) }
        let augment = try Augmentation(cropSize: 4, loadSize: 6, horizontalFlip: true, verticalFlip: true, rotate90: true)
        var seen = Set<String>()
        for seed in UInt64(0)..<40 {
            var rng = SplitMix64(seed: seed), replay = rng
            let out = try augment.apply(to: image, rng: &rng)
            let x = replay.nextInt(below: 3), y = replay.nextInt(below: 3)
            let h = replay.nextDouble() < 0.5, v = replay.nextDouble() < 0.5, k = replay.nextInt(below: 4)
            var expected = try image.cropped(x: x, y: y, width: 4, height: 4)
            if h { expected = expected.flippedHorizontally() }
            if v { expected = expected.flippedVertically() }
            expected = expected.rotated90(k)
            XCTAssertEqual(out, expected, "seed \(seed)")
            XCTAssertEqual(rng, replay)
            seen.insert("\(x)\(y)\(h)\(v)\(k)")
        }
        XCTAssertGreaterThan(seen.count, 20, "the draws vary")
    }

    /// With `nativeWindow`, an image larger than the load size gives a window at its own
    /// resolution (then the usual crop): a pixel-exact piece of it, not a squashed whole.
    /// An image of the load size or smaller takes the spec's path and draws.
    func testNativeWindowKeepsTheResolutionOfLargeImages() throws {
        let image = try makeImage(width: 20, height: 15, channels: 1) { _, y, x in Float(y * 20 + x) / 300 }
        let augment = try Augmentation(cropSize: 4, loadSize: 6, horizontalFlip: false, nativeWindow: true)
        var positions = Set<String>()
        for seed in UInt64(0)..<30 {
            var rng = SplitMix64(seed: seed), replay = rng
            let out = try augment.apply(to: image, rng: &rng)
            let wx = replay.nextInt(below: 15), wy = replay.nextInt(below: 10)
            let x = replay.nextInt(below: 3), y = replay.nextInt(below: 3)
            XCTAssertEqual(out, try image.cropped(x: wx + x, y: wy + y, width: 4, height: 4), "seed \(seed)")
            XCTAssertEqual(rng, replay)
            positions.insert("\(wx + x),\(wy + y)")
        }
        XCTAssertGreaterThan(positions.count, 20, "windows from all over the image")
        // The spec's path for a 6 x 6 image: resize (none) and crop, no window draws.
        let small = try makeImage(width: 6, height: 6, channels: 1) { _, y, x in Float(y * 6 + x) / 36 }
        var rng = SplitMix64(seed: 7), replay = rng
        let out = try augment.apply(to: small, rng: &rng)
        let x = replay.nextInt(below: 3), y = replay.nextInt(below: 3)
        XCTAssertEqual(out, try small.cropped(x: x, y: y, width: 4, height: 4))
        // Without the option a large image is resized whole (the spec).
        let spec = try Augmentation(cropSize: 4, loadSize: 6, horizontalFlip: false)
        var r2 = SplitMix64(seed: 7)
        XCTAssertEqual(try spec.apply(to: image, rng: &r2).width, 4)
        XCTAssertNotEqual(try spec.apply(to: image, rng: &r2), try image.cropped(x: 0, y: 0, width: 4, height: 4))
    }
}
