@testable import Imaging
import XCTest

/// The cell prior: Otsu's threshold over a domain, the cells' side, the stain feature.
final class CellPriorTests: XCTestCase {
    /// Intersection over union of two 0/1 planes.
    private func iou(_ a: [Float], _ b: [Float]) -> Double {
        let both = zip(a, b).filter { $0 == 1 && $1 == 1 }.count, either = zip(a, b).filter { $0 == 1 || $1 == 1 }.count
        return Double(both) / Double(max(1, either))
    }

    /// A 32 x 32 field with two disks of radius 5: `cell` inside, `background` outside.
    private func disks(cell: [Float], background: [Float]) throws -> (Image, [Float]) {
        let w = 32, n = w * w, c = cell.count
        var pixels = [Float](repeating: 0, count: c * n)
        var truth = [Float](repeating: 0, count: n)
        for y in 0..<w {
            for x in 0..<w {
                let inside = [(8, 8), (22, 20)].contains { (x - $0.0) * (x - $0.0) + (y - $0.1) * (y - $0.1) <= 25 }
                truth[y * w + x] = inside ? 1 : 0
                for ch in 0..<c { pixels[ch * n + y * w + x] = inside ? cell[ch] : background[ch] }
            }
        }
        return (try Image(width: w, height: w, channels: c, pixels: pixels), truth)
    }

    func testBrightCellsOnADarkBackground() throws {
        let (image, truth) = try disks(cell: [0.8], background: [0.1])
        let prior = try CellPrior(measuring: [image])
        XCTAssertEqual(prior.feature, .contrast)
        XCTAssertTrue(prior.cellsAbove)
        XCTAssertGreaterThan(prior.threshold, 0.5, "above the local background")
        XCTAssertLessThanOrEqual(prior.threshold, 0.5 + 0.7)
        XCTAssertGreaterThan(iou(prior.mask(image), truth), 0.8, "the smoothed prior covers the disks")
        XCTAssertEqual(prior.cellFraction, Double(truth.reduce(0, +)) / 1024, accuracy: 0.05)
        // Two disks of radius 5 (81 pixels each): about 10 px across.
        XCTAssertEqual(try XCTUnwrap(prior.medianDiameter), 10.2, accuracy: 1.5)
        XCTAssertTrue(prior.summary.contains("px across"), prior.summary)
    }

    /// Uneven illumination: the background rises from 0.1 on the left to 0.3 on the right,
    /// with the same cell (+0.2) on each side. One threshold on the gray level takes the
    /// bright side or misses the dim cell; the level above the local background finds both.
    /// (A ramp much steeper than the cells' contrast defeats both: the blur's mirrored
    /// borders fold it.)
    func testContrastFindsADimCellBesideABrightField() throws {
        let w = 64, n = w * w
        var pixels = [Float](repeating: 0, count: n), truth = [Float](repeating: 0, count: n)
        for y in 0..<w {
            for x in 0..<w {
                let (cx, cy) = x < w / 2 ? (16, 32) : (48, 32)
                let inside = (x - cx) * (x - cx) + (y - cy) * (y - cy) <= 36
                truth[y * w + x] = inside ? 1 : 0
                pixels[y * w + x] = 0.1 + 0.2 * Float(x) / Float(w - 1) + (inside ? 0.2 : 0)
            }
        }
        let image = try Image(width: w, height: w, channels: 1, pixels: pixels)
        let prior = try CellPrior(measuring: [image])
        XCTAssertEqual(prior.feature, .contrast)
        XCTAssertGreaterThan(iou(prior.mask(image), truth), 0.7)
        let mask = prior.mask(image)
        XCTAssertGreaterThan(mask[32 * w + 16], 0, "the dim cell")
        XCTAssertGreaterThan(mask[32 * w + 48], 0, "the bright cell")
        let gray = CellPrior.split([CellPrior.values(image, .gray)])
        let plain = CellPrior(feature: .gray, threshold: gray.threshold, cellsAbove: gray.cellsAbove, cellFraction: gray.fraction)
        XCTAssertLessThan(iou(plain.mask(image), truth), 0.5, "one gray threshold fails here")
        XCTAssertTrue(prior.summary.contains("gray - background"), prior.summary)
    }

    func testDarkCellsOnABrightBackgroundAreTheMinority() throws {
        let (image, truth) = try disks(cell: [0.2], background: [0.9])
        let prior = try CellPrior(measuring: [image])
        XCTAssertFalse(prior.cellsAbove, "the minority side is the cells'")
        XCTAssertGreaterThan(iou(prior.mask(image), truth), 0.8, "the smoothed prior covers the disks")
    }

    /// H&E with bare glass: bluish specks on the glass have the hematoxylin density of the
    /// dimmed nuclei on the tissue, so one threshold over the whole domain marks both. The
    /// prior leaves the glass (the bright side of the gray level's split) out.
    func testGlassIsNeverCells() throws {
        let w = 64, n = w * w
        var pixels = [Float](repeating: 0, count: 3 * n)
        var nuclei = [Float](repeating: 0, count: n), specks = [Float](repeating: 0, count: n)
        for y in 0..<w {
            for x in 0..<w {
                let centres = x < w / 2 ? [(12, 16), (18, 46)] : [(44, 16), (50, 46)]
                let inside = centres.contains { (x - $0.0) * (x - $0.0) + (y - $0.1) * (y - $0.1) <= 25 }
                let colour: [Float]
                if x < w / 2 {
                    colour = inside ? [0.8, 0.9, 0.95] : [0.9, 0.9, 0.92]  // glass, bluish specks
                    specks[y * w + x] = inside ? 1 : 0
                } else {
                    colour = inside ? [0.7, 0.5, 0.75] : [0.95, 0.6, 0.8]  // pink tissue, dimmed nuclei
                    nuclei[y * w + x] = inside ? 1 : 0
                }
                for c in 0..<3 { pixels[c * n + y * w + x] = colour[c] }
            }
        }
        let image = try Image(width: w, height: w, channels: 3, pixels: pixels)
        let prior = try CellPrior(measuring: [image])
        XCTAssertEqual(prior.feature, .hematoxylin)
        let glassFrom = try XCTUnwrap(prior.glassFrom)
        XCTAssertGreaterThan(glassFrom, 0.75, "above the tissue's gray level")
        XCTAssertLessThan(glassFrom, 0.9, "below the glass's")
        let mask = prior.mask(image)
        XCTAssertGreaterThan(iou(mask, nuclei), 0.7, "the dimmed nuclei")
        XCTAssertEqual(zip(mask, specks).filter { $1 == 1 && $0 == 1 }.count, 0, "no speck on the glass")
        XCTAssertTrue(prior.summary.contains("glass"), prior.summary)
        let whole = CellPrior.split([CellPrior.values(image, .hematoxylin)])
        let ungated = CellPrior(feature: .hematoxylin, threshold: whole.threshold, cellsAbove: whole.cellsAbove, cellFraction: whole.fraction)
        let marked = zip(ungated.mask(image), specks).filter { $1 == 1 && $0 == 1 }.count
        XCTAssertGreaterThan(marked, 40, "one threshold over glass and tissue takes the specks too")
    }

    func testHematoxylinFindsPurpleNucleiOnPinkTissue() throws {
        // H&E: nuclei dark purple, cytoplasm and stroma pink (eosin), both darker than
        // white in every channel; gray alone would also pick some pink.
        let (image, truth) = try disks(cell: [0.35, 0.25, 0.55], background: [0.95, 0.6, 0.8])
        let prior = try CellPrior(measuring: [image])
        XCTAssertEqual(prior.feature, .hematoxylin)
        XCTAssertTrue(prior.cellsAbove)
        XCTAssertGreaterThan(iou(prior.mask(image), truth), 0.8, "the smoothed prior covers the disks")
        XCTAssertTrue(prior.summary.contains("hematoxylin"), prior.summary)
    }

    func testOtsuSplitsTwoModes() {
        var histogram = [Double](repeating: 0, count: 256)
        for i in 20..<40 { histogram[i] = 10 }
        for i in 180..<200 { histogram[i] = 10 }
        let t = CellPrior.otsuForTesting(histogram)
        XCTAssertGreaterThanOrEqual(t, 39)
        XCTAssertLessThan(t, 180)
    }

    func testTissueAgainstGlassFallsBackToThreeClasses() throws {
        // Half the field is glass (white), half pink tissue, and a few purple nuclei in
        // the tissue: the two-class split is tissue against glass (half the pixels), so
        // the nuclei come from the upper class of three.
        let w = 40, n = w * w
        var pixels = [Float](repeating: 0, count: 3 * n), truth = [Float](repeating: 0, count: n)
        let glass: [Float] = [0.97, 0.97, 0.97], tissue: [Float] = [0.9, 0.55, 0.75], nucleus: [Float] = [0.3, 0.2, 0.5]
        for y in 0..<w {
            for x in 0..<w {
                let inside = [(10, 25), (28, 30), (20, 34)].contains { (x - $0.0) * (x - $0.0) + (y - $0.1) * (y - $0.1) <= 16 }
                let colour = y < w / 2 ? glass : (inside ? nucleus : tissue)
                truth[y * w + x] = y >= w / 2 && inside ? 1 : 0
                for c in 0..<3 { pixels[c * n + y * w + x] = colour[c] }
            }
        }
        let image = try Image(width: w, height: w, channels: 3, pixels: pixels)
        let prior = try CellPrior(measuring: [image])
        XCTAssertLessThan(prior.cellFraction, 0.2)
        XCTAssertGreaterThan(iou(prior.mask(image), truth), 0.6)
    }

    func testRegionAreasAreFourConnected() {
        // Two regions of 3 pixels touching only at a corner ((1, 0) and (2, 1)).
        let bits: [Bool] = [true, true, false, false,
                            true, false, true, false,
                            false, false, true, true,
                            false, false, false, false]
        XCTAssertEqual(CellPrior.regionAreasForTesting(bits, width: 4, height: 4).sorted(), [3, 3])
        XCTAssertEqual(CellPrior.regionAreasForTesting([true], width: 1, height: 1), [1])
        XCTAssertEqual(CellPrior.regionAreasForTesting([false, false], width: 2, height: 1), [])
    }

    func testNoImagesIsAnError() {
        XCTAssertThrowsError(try CellPrior(measuring: []))
    }
}
