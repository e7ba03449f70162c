// What the pages of a TIFF file are: the axes and sizes stated by OME-XML or ImageJ's
// header, or given by the user (`--axes`). Never guessed from the page count.

import Foundation

/// The metadata of an OME-TIFF that aggan reads and writes back.
public struct OMEMetadata: Sendable, Equatable, Codable {
    /// For example `XYZCT`: X and Y, then the page axes from fastest to slowest.
    public var dimensionOrder: String
    public var sizeC: Int, sizeZ: Int, sizeT: Int
    /// Pixel size in `physicalSizeXUnit` (OME's default: micrometres), when stated.
    public var physicalSizeX: Double?, physicalSizeY: Double?
    public var physicalSizeXUnit: String?, physicalSizeYUnit: String?
    /// One name per channel (nil where the file gives none).
    public var channelNames: [String?]
    /// The image's name, when stated.
    public var name: String?

    public init(dimensionOrder: String = "XYCZT", sizeC: Int = 1, sizeZ: Int = 1, sizeT: Int = 1,
                physicalSizeX: Double? = nil, physicalSizeY: Double? = nil, channelNames: [String?] = [],
                name: String? = nil) {
        self.dimensionOrder = dimensionOrder
        self.sizeC = sizeC
        self.sizeZ = sizeZ
        self.sizeT = sizeT
        self.physicalSizeX = physicalSizeX
        self.physicalSizeY = physicalSizeY
        self.channelNames = channelNames
        self.name = name
    }

    /// Reads the first `Pixels` element of an OME-XML document; nil when `xml` is not
    /// OME-XML. Throws when it is but its sizes or order cannot be understood.
    public static func parse(_ xml: String) throws -> OMEMetadata? {
        guard xml.contains("<OME"), let pixels = XMLTag.first("Pixels", in: xml) else { return nil }
        func size(_ key: String) throws -> Int {
            guard let text = pixels.attributes[key] else { return 1 }
            guard let v = Int(text), v >= 1 else { throw ImagingError.invalid("OME-XML", "\(key)=\"\(text)\" is not a positive size") }
            return v
        }
        let order = pixels.attributes["DimensionOrder"] ?? "XYCZT"
        guard order.count == 5, order.hasPrefix("XY"), Set(order) == Set("XYCZT") else {
            throw ImagingError.invalid("OME-XML", "DimensionOrder=\"\(order)\" is not a permutation of XYCZT starting with XY")
        }
        var meta = OMEMetadata(dimensionOrder: order, sizeC: try size("SizeC"), sizeZ: try size("SizeZ"), sizeT: try size("SizeT"))
        meta.physicalSizeX = pixels.attributes["PhysicalSizeX"].flatMap(Double.init)
        meta.physicalSizeY = pixels.attributes["PhysicalSizeY"].flatMap(Double.init)
        meta.physicalSizeXUnit = pixels.attributes["PhysicalSizeXUnit"]
        meta.physicalSizeYUnit = pixels.attributes["PhysicalSizeYUnit"]
        let body = pixels.body ?? ""
        meta.channelNames = XMLTag.all("Channel", in: body).map { $0.attributes["Name"] }
        meta.name = XMLTag.first("Image", in: xml)?.attributes["Name"]
        return meta
    }

    /// The page axes, slowest first (as numpy shapes are written), with their sizes; the
    /// samples of an RGB page are not among them (`samplesPerPixel` 3 uses up SizeC 3).
    func pageAxes(samplesPerPixel: Int) -> StackAxes {
        let sizes: [Character: Int] = ["C": samplesPerPixel == 3 ? sizeC / 3 : sizeC, "Z": sizeZ, "T": sizeT]
        let fastestFirst = order(dimensionOrder.dropFirst(2))
        return StackAxes(axes: fastestFirst.reversed().map { ($0, sizes[$0] ?? 1) })
    }

    private func order(_ s: Substring) -> [Character] { Array(s) }

    /// An OME-XML document describing this metadata for pages of `type`, `width` x `height`,
    /// `samplesPerPixel` (1 or 3) each.
    func xml(width: Int, height: Int, type: TIFFSampleType, samplesPerPixel: Int) -> String {
        var pixels = "<Pixels ID=\"Pixels:0\" DimensionOrder=\"\(dimensionOrder)\" Type=\"\(type == .float32 ? "float" : type.rawValue)\""
            + " SizeX=\"\(width)\" SizeY=\"\(height)\" SizeC=\"\(sizeC)\" SizeZ=\"\(sizeZ)\" SizeT=\"\(sizeT)\""
        if let x = physicalSizeX { pixels += " PhysicalSizeX=\"\(x)\"" }
        if let u = physicalSizeXUnit { pixels += " PhysicalSizeXUnit=\"\(XMLTag.escape(u))\"" }
        if let y = physicalSizeY { pixels += " PhysicalSizeY=\"\(y)\"" }
        if let u = physicalSizeYUnit { pixels += " PhysicalSizeYUnit=\"\(XMLTag.escape(u))\"" }
        pixels += ">"
        let channelCount = max(1, sizeC / samplesPerPixel)
        for c in 0..<channelCount {
            let name = c < channelNames.count ? channelNames[c] : nil
            pixels += "<Channel ID=\"Channel:0:\(c)\"" + (name.map { " Name=\"\(XMLTag.escape($0))\"" } ?? "")
                + " SamplesPerPixel=\"\(samplesPerPixel)\"/>"
        }
        pixels += "<TiffData IFD=\"0\" PlaneCount=\"\(channelCount * sizeZ * sizeT)\"/></Pixels>"
        let image = "<Image ID=\"Image:0\"" + (name.map { " Name=\"\(XMLTag.escape($0))\"" } ?? "") + ">"
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
            + "<OME xmlns=\"http://www.openmicroscopy.org/Schemas/OME/2016-06\""
            + " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
            + " xsi:schemaLocation=\"http://www.openmicroscopy.org/Schemas/OME/2016-06 http://www.openmicroscopy.org/Schemas/OME/2016-06/ome.xsd\""
            + " Creator=\"aggan\">" + image + pixels + "</Image></OME>"
    }
}

/// The axes of a stack's pages, slowest first, each with its size: for example
/// `[("C", 4), ("T", 10)]` for 40 pages. X and Y (and the samples of an RGB page) are
/// within each page and not listed.
public struct StackAxes: Sendable, Equatable, CustomStringConvertible {
    public let axes: [(letter: Character, size: Int)]

    public init(axes: [(letter: Character, size: Int)]) { self.axes = axes }

    public static func == (a: StackAxes, b: StackAxes) -> Bool {
        a.axes.map(\.letter) == b.axes.map(\.letter) && a.axes.map(\.size) == b.axes.map(\.size)
    }

    /// The axes of size above 1, as tifffile writes them: `CTYX`, `ZYX`, `YX`.
    public var description: String { String(axes.filter { $0.size > 1 }.map(\.letter)) + "YX" }

    /// The product of the sizes: the number of pages these axes describe.
    public var pageCount: Int { axes.reduce(1) { $0 * $1.size } }

    /// The size of axis `letter` (1 when absent).
    public func size(_ letter: Character) -> Int { axes.first { $0.letter == letter }?.size ?? 1 }

    /// The page holding index `index[letter]` of each axis (0 for absent ones).
    func page(_ index: [Character: Int]) -> Int {
        axes.reduce(0) { $0 * $1.size + (index[$1.letter] ?? 0) }
    }

    /// Parses `--axes` for a file of `pageCount` pages: the page axes, slowest first (C,
    /// T, Z, each at most once), then `YX` (an RGB page may end in `S`: `YXS`). With one
    /// page axis its size is the page count (`CYX`, `TYX`, `ZYX`); with two or three,
    /// each axis but one is followed by its size and the last size follows from the page
    /// count: `C2ZYX` is 2 channels of `pageCount / 2` z-planes, channel slowest (page
    /// `c * Z + z`), `TC3YX` is time points of 3 channels, `ZYX` alone a plain stack.
    public static func parse(_ text: String, pageCount: Int) throws -> StackAxes {
        var s = text.uppercased()
        if s.hasSuffix("S") { s.removeLast() }
        guard s.hasSuffix("YX") else {
            throw ImagingError.invalid("--axes", "'\(text)' must end in YX (for example CYX, TYX, ZYX, C2ZYX)")
        }
        // Letters, each with its size when given.
        var given: [(letter: Character, size: Int?)] = []
        for ch in s.dropLast(2) {
            if let digit = ch.wholeNumberValue, ch.isASCII, let last = given.popLast() {
                let size = (last.size ?? 0).multipliedReportingOverflow(by: 10)
                guard !size.overflow, size.partialValue <= pageCount else {
                    throw ImagingError.invalid("--axes", "'\(text)': the size of \(last.letter) is more than the file's \(pageCount) pages")
                }
                given.append((last.letter, size.partialValue + digit))
            } else if "CTZ".contains(ch), !given.contains(where: { $0.letter == ch }) {
                given.append((ch, nil))
            } else {
                throw ImagingError.invalid("--axes", "'\(text)': page axes are C, T and Z, each at most once, each but one followed by its size, before YX (for example CYX or C2ZYX)")
            }
        }
        if given.isEmpty {
            guard pageCount == 1 else {
                throw ImagingError.invalid("--axes", "'\(text)' describes 1 page, the file has \(pageCount)")
            }
            return StackAxes(axes: [])
        }
        let unsized = given.filter { $0.size == nil }.count
        let known = given.compactMap(\.size).reduce(1, *)
        guard given.allSatisfy({ ($0.size ?? 1) >= 1 }) else {
            throw ImagingError.invalid("--axes", "'\(text)': sizes must be at least 1")
        }
        guard unsized <= 1 else {
            throw ImagingError.invalid("--axes", "'\(text)': give the size of every page axis but one (for example C2ZYX: 2 channels, the z-planes from the page count)")
        }
        guard unsized == 1 ? pageCount % known == 0 : known == pageCount else {
            throw ImagingError.invalid("--axes", "'\(text)' describes \(unsized == 1 ? "a multiple of \(known)" : String(known)) pages, the file has \(pageCount)")
        }
        return StackAxes(axes: given.map { ($0.letter, $0.size ?? pageCount / known) })
    }

    /// The axes ImageJ's hyperstack header states (`images=`, `channels=`, `slices=`,
    /// `frames=`; pages in TZC order, channel fastest), or nil when `text` is not one.
    static func imageJ(_ text: String) -> StackAxes? {
        guard text.hasPrefix("ImageJ=") else { return nil }
        var values: [String: Int] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let v = Int(parts[1]) { values[String(parts[0])] = v }
        }
        let c = values["channels"] ?? 1, z = values["slices"] ?? 1, t = values["frames"] ?? 1
        guard c >= 1, z >= 1, t >= 1 else { return nil }
        if values["channels"] == nil && values["slices"] == nil && values["frames"] == nil {
            // Only `images=N`: ImageJ's own default for a plain stack is slices.
            guard let n = values["images"], n >= 1 else { return nil }
            return StackAxes(axes: [("Z", n)])
        }
        return StackAxes(axes: [("T", t), ("Z", z), ("C", c)])
    }
}

/// A minimal reader for the flat XML of OME headers: one element's attributes and body.
struct XMLTag {
    var attributes: [String: String] = [:]
    /// The text between the start and end tags (nil for `<x/>`).
    var body: String?

    /// The first element named `name` in `xml` (with or without a namespace prefix).
    static func first(_ name: String, in xml: String) -> XMLTag? { all(name, in: xml, limit: 1).first }

    /// Every element named `name`, in order.
    static func all(_ name: String, in xml: String, limit: Int = .max) -> [XMLTag] {
        var found: [XMLTag] = []
        var rest = xml[...]
        while found.count < limit, let open = rest.range(of: "<") {
            rest = rest[open.upperBound...]
            let tagName = rest.prefix { !$0.isWhitespace && $0 != ">" && $0 != "/" }
            let local = tagName.split(separator: ":").last.map(String.init) ?? ""
            guard local == name, let close = rest.range(of: ">") else { continue }
            let inside = rest[tagName.endIndex..<close.lowerBound]
            var tag = XMLTag(attributes: attributes(String(inside)))
            rest = rest[close.upperBound...]
            if !inside.hasSuffix("/") {
                let end = "</" + String(tagName) + ">"
                if let e = rest.range(of: end) {
                    tag.body = String(rest[..<e.lowerBound])
                } else {
                    tag.body = String(rest)
                }
            }
            found.append(tag)
        }
        return found
    }

    /// `key="value"` (or single quotes) pairs, entities decoded.
    static func attributes(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        var s = text[...]
        while let eq = s.firstIndex(of: "=") {
            let key = s[..<eq].split(whereSeparator: \.isWhitespace).last.map(String.init) ?? ""
            var after = s[s.index(after: eq)...].drop { $0.isWhitespace }
            guard let quote = after.first, quote == "\"" || quote == "'" else { break }
            after = after.dropFirst()
            guard let end = after.firstIndex(of: quote) else { break }
            out[key.split(separator: ":").last.map(String.init) ?? key] = unescape(String(after[..<end]))
            s = after[after.index(after: end)...]
        }
        return out
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func unescape(_ s: String) -> String {
        guard s.contains("&") else { return s }
        return s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
