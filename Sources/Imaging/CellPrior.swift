// Where the cells probably are, from the pixels alone: a nuclear-stain feature per pixel
// (the gray level of a fluorescence image, the hematoxylin density of a brightfield RGB
// image by colour deconvolution), smoothed, a threshold chosen by Otsu's method over a
// whole domain, and the side the cells are on. It guides the attention early in training (docs/MODEL.md,
// "attention guide"); the learned attention may depart from it.
import Basics
import Foundation

/// The feature, threshold and polarity that separate cells from background in one domain.
public struct CellPrior: Sendable, Equatable, Codable {
    /// Which feature: `gray` (luminance of a 1-channel image or of RGB seen as gray),
    /// `contrast` (the gray level above its local background: minus a Gaussian blur of
    /// sigma `background`, plus 0.5) or `hematoxylin` (optical density along the
    /// hematoxylin stain vector, RGB only).
    public enum Feature: String, Sendable, Codable { case gray, contrast, hematoxylin }

    public let feature: Feature
    /// Feature values above `threshold` are cells when `cellsAbove`, else those below.
    public let threshold: Float
    public let cellsAbove: Bool
    /// The fraction of the domain's pixels on the cells' side.
    public let cellFraction: Double
    /// The median equivalent diameter (pixels) of the connected regions of the prior
    /// mask over the domain's images, regions under 9 pixels left out; nil when none.
    /// Regions cut by an image's edge count as they are (an underestimate for cells as
    /// large as the images).
    public let medianDiameter: Double?
    /// RGB only: pixels whose smoothed gray level is at or above this are bare glass, never
    /// cells, and stay out of the threshold's histogram (nil: no such gate). Otsu's split of
    /// the domain's gray levels: on glass, smoothed noise reaches the hematoxylin threshold
    /// of dimmed nuclei (the prior marked 1-17 % of blank glass crops of the H&E image).
    public let glassFrom: Float?

    /// The hematoxylin row of the colour deconvolution: the first column of the inverse of
    /// Ruifrok and Johnston's H&E-DAB stain matrix (rows H, E, DAB as unit RGB optical
    /// densities), as scikit-image's `rgb2hed` uses it. Eosin and DAB add nothing to it.
    static let hematoxylin: [Float] = [1.8748, -0.0658, -0.6009]
    /// The feature is smoothed by a Gaussian of this sigma (pixels) before the threshold:
    /// a nucleus is a blob, not a speckle of dark pixels.
    static let smoothing = 2.0
    /// The sigma (pixels) of the Gaussian blur taken as a gray image's local background
    /// (`contrast`): about a nucleus across at the sizes training sees (the automatic
    /// scale keeps cells between 1/16 and 1/2 of a 64 px block). A dimmed nucleus stands
    /// out from its own surroundings where it falls under a threshold for the whole domain.
    static let background = 20.0

    /// A two-class split whose cells' side holds more than this fraction of the pixels
    /// separated the tissue from the glass, not the nuclei from the tissue.
    static let largestCellFraction = 0.4

    /// Measures `images` (one domain): the smoothed feature of every pixel, Otsu's
    /// threshold over their histogram, and as the cells' side the one with fewer pixels
    /// (cells are the minority of a field of view; a gray image with dark cells on a
    /// bright background comes out as cells below). When that side still holds more than
    /// 40 % of the pixels, the split was tissue against background, and the upper of a
    /// three-class Otsu split is taken instead. Gray images use the `contrast` feature,
    /// RGB images the hematoxylin one. When its two classes were tissue and glass, the
    /// threshold is taken over the tissue only, and pixels on the bright side of Otsu's
    /// split of the gray level (glass) are never cells (`glassFrom`). The cells' size is measured on the plain gray
    /// level (the background subtraction would hollow cells wider than its Gaussian, and
    /// the size decides the automatic scale).
    ///
    /// Measured against the true masks of the held-out crops of the degraded domain
    /// (pooled IoU of the prior, docs/MODEL.md): gray nuclei 0.61 with the plain gray
    /// level / 0.71 with `contrast`, scratch-assay Hoechst 0.52 / 0.55, nuclei upsampled
    /// 3.5x and resized back 0.67 / 0.71; H&E (hematoxylin, three-class) 0.50, 0.55 with
    /// glass left out (per crop, as the experiments average: 0.34 and 0.45).
    public init(measuring images: [Image]) throws {
        guard let first = images.first else { throw ImagingError.invalid("CellPrior", "no images to measure") }
        let feature: Feature = first.channels == 3 ? .hematoxylin : .contrast
        self.feature = feature
        // Each image's feature and gray level, computed once for the splits and the size.
        let planes = images.map { Self.values($0, feature) }, grays = images.map { Self.values($0, .gray) }
        let gray = Self.split(grays), whole = Self.split(planes)
        // Glass is left out where the feature's two classes were tissue and glass.
        glassFrom = feature == .hematoxylin && whole.threeClass ? gray.threshold : nil
        let split = glassFrom == nil ? whole : Self.split(planes, grays: grays, glassFrom: glassFrom)
        (threshold, cellsAbove, cellFraction) = (split.threshold, split.cellsAbove, split.fraction)
        let size = feature == .contrast
            ? CellPrior(feature: .gray, threshold: gray.threshold, cellsAbove: gray.cellsAbove, cellFraction: gray.fraction)
            : CellPrior(feature: feature, threshold: threshold, cellsAbove: cellsAbove, cellFraction: cellFraction, glassFrom: glassFrom)
        let sizePlanes = feature == .contrast ? grays : planes
        let areas = images.indices.flatMap { i in
            Self.regionAreas(size.mask(values: sizePlanes[i], gray: grays[i]).map { $0 > 0 },
                             width: images[i].width, height: images[i].height)
        }
        medianDiameter = Self.medianDiameter(areas: areas)
    }

    /// Otsu's split of a domain's feature `planes` (one per image, from `values`; see
    /// `init(measuring:)`): the threshold, whether the cells are above it, and the fraction
    /// of pixels on their side. Pixels whose smoothed gray level (`grays`, the same images'
    /// `.gray` values) is at or above `glassFrom` are left out of the histogram; the
    /// fraction returned is of all pixels. `threeClass`: the two-class split put more than
    /// 40 % on the smaller side, and the three-class one was taken.
    static func split(_ planes: [[Float]], grays: [[Float]] = [], glassFrom: Float? = nil)
        -> (threshold: Float, cellsAbove: Bool, fraction: Double, threeClass: Bool) {
        var histogram = [Double](repeating: 0, count: bins)
        var all = 0.0
        for (k, plane) in planes.enumerated() {
            for (i, v) in plane.enumerated() {
                if let glassFrom, grays[k][i] >= glassFrom { continue }
                histogram[bin(v)] += 1
            }
            all += Double(plane.count)
        }
        let total = histogram.reduce(0, +)
        var t = otsu(histogram)
        var above = histogram[(t + 1)...].reduce(0, +) / max(total, 1)
        let threeClass = min(above, 1 - above) > largestCellFraction
        if threeClass {
            t = otsu3Upper(histogram)
            above = histogram[(t + 1)...].reduce(0, +) / max(total, 1)
        }
        let side = (above <= 0.5 ? above : 1 - above) * total / max(all, 1)
        return ((Float(t) + 1) / Float(bins), above <= 0.5, side, threeClass)
    }

    /// The median equivalent diameter (pixels) of regions of these areas, regions under
    /// 9 pixels (speckles) left out; nil when none is left.
    static func medianDiameter(areas: [Int]) -> Double? {
        Stats(areas.filter { $0 >= 9 }.map { (4 * Double($0) / Double.pi).squareRoot() }).median
    }

    /// The median equivalent diameter of the 4-connected regions of a cell mask (as for
    /// `medianDiameter`): the cells' size when a true mask is at hand.
    public static func medianDiameter(of mask: PixelMask) -> Double? {
        medianDiameter(areas: regionAreas(mask.bits, width: mask.width, height: mask.height))
    }

    public init(feature: Feature, threshold: Float, cellsAbove: Bool, cellFraction: Double, medianDiameter: Double? = nil,
                glassFrom: Float? = nil) {
        self.feature = feature; self.threshold = threshold; self.cellsAbove = cellsAbove; self.cellFraction = cellFraction
        self.medianDiameter = medianDiameter; self.glassFrom = glassFrom
    }

    /// The pixel counts of the 4-connected regions of `bits` (row-major).
    static func regionAreas(_ bits: [Bool], width: Int, height: Int) -> [Int] {
        var seen = [Bool](repeating: false, count: bits.count)
        var areas: [Int] = []
        var stack: [Int] = []
        for start in bits.indices where bits[start] && !seen[start] {
            seen[start] = true
            stack.append(start)
            var area = 0
            while let i = stack.popLast() {
                area += 1
                let x = i % width, y = i / width
                for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)]
                where nx >= 0 && nx < width && ny >= 0 && ny < height {
                    let j = ny * width + nx
                    if bits[j] && !seen[j] { seen[j] = true; stack.append(j) }
                }
            }
            areas.append(area)
        }
        return areas
    }

    /// 1 where `image` is on the cells' side, 0 elsewhere: one plane, `width * height`.
    public func mask(_ image: Image) -> [Float] {
        mask(values: Self.values(image, feature), gray: glassFrom == nil ? [] : Self.values(image, .gray))
    }

    /// `mask` from an image's `values` of this prior's feature and of `.gray` (read only
    /// when `glassFrom` is set).
    func mask(values v: [Float], gray: [Float]) -> [Float] {
        guard let glassFrom else { return v.map { ($0 >= threshold) == cellsAbove ? 1 : 0 } }
        return v.indices.map { gray[$0] >= glassFrom || (v[$0] >= threshold) != cellsAbove ? 0 : 1 }
    }

    /// A line for logs and the dashboard: `bright cells (gray - background > 0.06), 21 %
    /// of pixels, ~24 px across`.
    public var summary: String {
        let (what, shown): (String, Float)
        switch feature {
        case .gray: (what, shown) = (cellsAbove ? "bright cells (gray" : "dark cells (gray", threshold)
        case .contrast: (what, shown) = (cellsAbove ? "bright cells (gray - background" : "dark cells (gray - background", threshold - 0.5)
        case .hematoxylin: (what, shown) = ("hematoxylin-stained cells (OD", threshold)
        }
        let size = (glassFrom.map { ", glass (gray >= \(String(format: "%.2f", $0))) left out" } ?? "")
            + (medianDiameter.map { ", ~\(Int($0.rounded())) px across" } ?? "")
        return "\(what) \(cellsAbove ? ">" : "<") \(String(format: "%.2f", shown))), \(Int((cellFraction * 100).rounded())) % of pixels"
            + size
    }

    static let bins = 256

    /// Smoothed feature values in 0...1: gray levels, gray levels minus their background
    /// plus 0.5, or the hematoxylin density scaled so that 1 is a density of 2 (almost
    /// black), clamped.
    static func values(_ image: Image, _ feature: Feature) -> [Float] {
        let n = image.planeSize
        var plane: [Float]
        switch feature {
        case .gray, .contrast:
            plane = image.channels == 1 ? Array(image.pixels) : rgbToGray(image).pixels
            if feature == .contrast, let gray = try? Image(width: image.width, height: image.height, channels: 1, pixels: plane) {
                plane = zip(plane, gaussianBlur(gray, sigma: background).pixels).map { min(max($0 - $1 + 0.5, 0), 1) }
            }
        case .hematoxylin:
            guard image.channels == 3 else { plane = Array(image.pixels); break }
            let h = hematoxylin
            plane = (0..<n).map { i in
                var od: Float = 0
                for c in 0..<3 { od += h[c] * -log10(max(image.pixels[c * n + i], 1.0 / 255)) }
                return min(max(od / 2, 0), 1)
            }
        }
        guard let gray = try? Image(width: image.width, height: image.height, channels: 1, pixels: plane) else { return plane }
        return gaussianBlur(gray, sigma: smoothing).pixels
    }

    static func bin(_ v: Float) -> Int { min(bins - 1, max(0, Int(v * Float(bins)))) }

    /// The upper threshold of a three-class Otsu split: the (t1, t2) that maximise the
    /// between-class variance of bins 0...t1, t1+1...t2 and t2+1..., returning t2.
    static func otsu3Upper(_ histogram: [Double]) -> Int {
        let n = histogram.count
        var p = [Double](repeating: 0, count: n + 1), q = [Double](repeating: 0, count: n + 1)
        for i in 0..<n { p[i + 1] = p[i] + histogram[i]; q[i + 1] = q[i] + Double(i) * histogram[i] }
        func term(_ a: Int, _ b: Int) -> Double {  // bins a..<b: w * mean^2
            let w = p[b] - p[a]
            return w > 0 ? (q[b] - q[a]) * (q[b] - q[a]) / w : 0
        }
        var best = -1.0, bestT2 = n / 2
        for t1 in 0..<(n - 2) {
            for t2 in (t1 + 1)..<(n - 1) {
                let v = term(0, t1 + 1) + term(t1 + 1, t2 + 1) + term(t2 + 1, n)
                if v > best { best = v; bestT2 = t2 }
            }
        }
        return bestT2
    }

    /// The bin t that maximises the between-class variance of bins 0...t and t+1...
    /// For tests.
    public static func otsuForTesting(_ histogram: [Double]) -> Int { otsu(histogram) }
    public static func regionAreasForTesting(_ bits: [Bool], width: Int, height: Int) -> [Int] {
        regionAreas(bits, width: width, height: height)
    }

    static func otsu(_ histogram: [Double]) -> Int {
        let total = histogram.reduce(0, +)
        guard total > 0 else { return histogram.count / 2 }
        let sumAll = histogram.enumerated().reduce(0.0) { $0 + Double($1.offset) * $1.element }
        var weight0 = 0.0, sum0 = 0.0, best = -1.0, bestT = histogram.count / 2
        for t in 0..<(histogram.count - 1) {
            weight0 += histogram[t]
            sum0 += Double(t) * histogram[t]
            let weight1 = total - weight0
            guard weight0 > 0, weight1 > 0 else { continue }
            let m0 = sum0 / weight0, m1 = (sumAll - sum0) / weight1
            let between = weight0 * weight1 * (m0 - m1) * (m0 - m1)
            if between > best { best = between; bestT = t }
        }
        return bestT
    }
}

/// The scale at which the cells suit a crop: cells from 1/16 to 1/2 of the crop's side
/// across are taken as they are; larger or smaller ones are resized to 3/8 of it (24 px
/// for a 64 px crop, the bundled nuclei's size), so a crop holds whole cells and
/// background. Resizing is bounded to 1/16 ... 4.
public enum CellScale {
    public static func factor(cellDiameter d: Double?, crop: Int) -> Double {
        guard let d, d > 0 else { return 1 }
        let c = Double(crop)
        if d >= c / 16 && d <= c / 2 { return 1 }
        return min(max(c * 3 / 8 / d, 1.0 / 16), 4)
    }
}
