// One way to read any image file aggan takes (PNG or TIFF) into the [0, 1] planes the
// model sees, and to write results back as the input was: same format, sample type,
// value range, planes and metadata.

import Foundation

/// How TIFF files are read: which axes their pages have (when the file does not say),
/// which channel, and how intensities are normalised. PNG files ignore these.
public struct ReadOptions: Sendable, Equatable {
    /// `--axes`, for multi-page files without OME-XML or ImageJ metadata (`CYX`, `TYX`, `ZYX`).
    public var axes: String?
    /// `--channel`: an index from 0 or a channel name from the OME-XML.
    public var channel: String?
    /// `--normalize`.
    public var normalization: IntensityNormalization

    public init(axes: String? = nil, channel: String? = nil, normalization: IntensityNormalization = .standard) {
        self.axes = axes
        self.channel = channel
        self.normalization = normalization
    }

    /// For masks: no percentiles; any non-zero stored value is 1.
    public static let mask = ReadOptions(normalization: .fixed(low: 0, high: 1))
}

/// The file endings aggan reads as images.
public enum ImageFileKind: String, Sendable, Equatable, CaseIterable {
    case png, tiff

    /// The kind of a path by its ending (`.png`, `.tif`, `.tiff`, any case), else nil.
    public init?(path: String) {
        let lower = path.lowercased()
        if lower.hasSuffix(".png") { self = .png } else if lower.hasSuffix(".tif") || lower.hasSuffix(".tiff") { self = .tiff } else { return nil }
    }

    /// `.png` or `.tif`.
    public var fileExtension: String { self == .png ? ".png" : ".tif" }
}

/// What is needed to write a result the way a TIFF input was stored.
public struct TIFFSource: Sendable, Equatable {
    /// The input's sample type and storage.
    public var sampleType: TIFFSampleType
    public var layout: TIFFLayout
    /// Samples per pixel of each output plane: 3 for RGB pages read whole, else 1.
    public var samplesPerPixel: Int
    /// The axes of the planes (C removed: one channel was taken).
    public var planeAxes: StackAxes
    /// The metadata to write (sizes for the planes, the chosen channel's name, pixel
    /// size), or nil for a plain single-page TIFF.
    public var ome: OMEMetadata?
    /// The stored values that 0 and 1 stand for.
    public var range: IntensityRange
    /// The normalisation that gave `range`.
    public var normalization: IntensityNormalization
}

/// An image file read into planes: one for a PNG or a single-page TIFF, one per T/Z
/// plane (of the chosen channel) for a stack.
public struct LoadedImage: Sendable, Equatable {
    public let path: String
    public let kind: ImageFileKind
    /// Samples in [0, 1]; `bitDepth` 16 for 16-bit and float data.
    public let planes: [Image]
    /// Per plane, a suffix naming it (`t03`, `z01`, `t03_z01`), empty for a single plane.
    public let planeNames: [String]
    /// For TIFF files: how to write a result back.
    public let tiff: TIFFSource?

    /// Reads `path` by its ending (`.png`, `.tif`, `.tiff`).
    ///
    /// - Throws: `ImagingError` naming the file: an unknown ending, anything the PNG or
    ///   TIFF reader rejects, a multi-page TIFF whose axes neither its metadata nor
    ///   `options.axes` states (`.axesNeeded`, and the text says to give `--axes`), a
    ///   file with several channels and no `--channel`, a channel that does not exist,
    ///   metadata that does not match the pages.
    public init(path: String, options: ReadOptions = ReadOptions()) throws {
        guard let kind = ImageFileKind(path: path) else {
            throw ImagingError.read(path, .unsupported, "not a .png, .tif or .tiff file")
        }
        self.path = path
        self.kind = kind
        switch kind {
        case .png:
            planes = [try Image(pngFile: path)]
            planeNames = [""]
            tiff = nil
        case .tiff:
            let stack = try TIFFStack(file: path)
            let (planes, names, source) = try select(stack, path: path, options: options)
            self.planes = planes
            self.planeNames = names
            self.tiff = source
        }
    }

    /// The single plane of a file that must have one (a mask, a held-out block).
    public func single() throws -> Image {
        guard planes.count == 1 else {
            throw ImagingError.read(path, .unsupported, "has \(planes.count) planes (\(tiff?.planeAxes.description ?? "")); one is needed here")
        }
        return planes[0]
    }

    /// Display names of the planes: `name` or `name[t03]`.
    public func names(_ base: String) -> [String] { planeNames.map { $0.isEmpty ? base : base + "[\($0)]" } }
}

/// The planes of `stack` that `options` select, normalised, and how to write them back.
private func select(_ stack: TIFFStack, path: String, options: ReadOptions) throws -> ([Image], [String], TIFFSource) {
    let selection = try StackSelection(description: stack.description, pageCount: stack.pageCount,
                                       samplesPerPixel: stack.samplesPerPixel, path: path, options: options)
    let n = stack.width * stack.height
    let size = selection.channels * n
    var raw = [Float]()
    raw.reserveCapacity(selection.planes.count * size)
    for plane in selection.planes {
        let page = stack.page(plane.page)
        if let sample = plane.sample {
            raw.append(contentsOf: page[(page.startIndex + sample * n)..<(page.startIndex + (sample + 1) * n)])
        } else {
            raw.append(contentsOf: page)
        }
    }
    let range = options.normalization.range(of: raw[...], type: stack.sampleType)
    let depth = selection.bitDepth(stack.sampleType)
    let planes = (0..<selection.planes.count).map { k in
        Image(unchecked: stack.width, stack.height, selection.channels,
              raw[(k * size)..<((k + 1) * size)].map(range.normalized), depth)
    }
    return (planes, selection.names, selection.source(stack.sampleType, stack.layout, range, options.normalization))
}

/// Which pages (and which sample of RGB pages) a read takes, in order, as `options` say
/// from the file's metadata; and the metadata of what a result is written back as.
struct StackSelection {
    /// Per plane: the page, and the one sample taken from RGB pages (nil: all).
    let planes: [(page: Int, sample: Int?)]
    /// Per plane, a suffix naming it (see `LoadedImage.planeNames`).
    let names: [String]
    /// Channels of each plane: the page's samples, or 1 when one sample is taken.
    let channels: Int
    /// The axes of the planes (C removed).
    let planeAxes: StackAxes
    /// The metadata to write back, if any.
    let ome: OMEMetadata?

    /// The image bit depth planes of `type` are read at.
    func bitDepth(_ type: TIFFSampleType) -> Int { type == .uint8 ? 8 : 16 }

    func source(_ type: TIFFSampleType, _ layout: TIFFLayout, _ range: IntensityRange,
                _ normalization: IntensityNormalization) -> TIFFSource {
        TIFFSource(sampleType: type, layout: layout, samplesPerPixel: channels, planeAxes: planeAxes, ome: ome,
                   range: range, normalization: normalization)
    }

    init(description: String?, pageCount: Int, samplesPerPixel spp: Int, path: String, options: ReadOptions) throws {
        func fail(_ kind: ImagingError.Kind, _ what: String) -> ImagingError { ImagingError.read(path, kind, what) }
        // The axes: stated by OME-XML or ImageJ, or given by the user; never guessed.
        var ome: OMEMetadata?
        var axes: StackAxes
        do {
            ome = try description.flatMap(OMEMetadata.parse)
        } catch let error as ImagingError {
            throw fail(.unsupported, error.description)
        }
        let stated: StackAxes? = ome?.pageAxes(samplesPerPixel: spp) ?? description.flatMap(StackAxes.imageJ)
        if let stated {
            guard stated.pageCount == pageCount else {
                throw fail(.unsupported, "its metadata describes \(stated.pageCount) page(s) (\(stated)), the file has \(pageCount); multi-file and multi-image OME-TIFFs are not supported")
            }
            if let given = options.axes {
                let mine = try StackAxes.parse(given, pageCount: pageCount)
                guard mine.description == stated.description else {
                    throw fail(.axesNeeded, "--axes \(given) disagrees with the file's metadata, which says \(stated)")
                }
            }
            axes = stated
        } else if let given = options.axes {
            do {
                axes = try StackAxes.parse(given, pageCount: pageCount)
            } catch let error as ImagingError {
                throw fail(.axesNeeded, error.description)
            }
        } else if pageCount == 1 {
            axes = StackAxes(axes: [])
        } else {
            throw fail(.axesNeeded, "\(pageCount) pages and no OME-XML or ImageJ metadata saying what they are; give --axes (for example CYX, TYX or ZYX)")
        }

        // The channel.
        let channels = axes.size("C")
        let names = ome?.channelNames ?? []
        var channel = 0
        var sample: Int?  // one sample of RGB pages
        let available = channels > 1 ? channels : spp
        if let choice = options.channel {
            let index = Int(choice) ?? names.firstIndex(where: { $0 == choice }) ?? -1
            guard index >= 0, index < available else {
                let list = names.isEmpty ? "" : " (" + names.map { $0 ?? "?" }.joined(separator: ", ") + ")"
                throw fail(.invalidArgument, "has no channel '\(choice)': it has \(available) channel(s)\(list), numbered from 0")
            }
            if channels > 1 { channel = index } else if spp == 3 { sample = index }
        } else if channels > 1 {
            let list = names.isEmpty ? "" : " (" + names.map { $0 ?? "?" }.joined(separator: ", ") + ")"
            throw fail(.axesNeeded, "has \(channels) channels\(list); choose one with --channel N (0-\(channels - 1)) or --channel NAME")
        }

        // The planes: every combination of the other axes, slowest first.
        let others = axes.axes.filter { $0.letter != "C" }
        let planeCount = others.reduce(1) { $0 * $1.size }
        var planes: [(page: Int, sample: Int?)] = []
        var planeNames: [String] = []
        for k in 0..<planeCount {
            var index: [Character: Int] = ["C": channel]
            var rest = k
            var label: [String] = []
            for axis in others.reversed() {
                index[axis.letter] = rest % axis.size
                rest /= axis.size
            }
            for axis in others where axis.size > 1 {
                label.append(String(axis.letter).lowercased() + String(format: "%0\(String(axis.size - 1).count)d", index[axis.letter]!))
            }
            planeNames.append(label.joined(separator: "_"))
            planes.append((axes.page(index), sample))
        }
        let outChannels = sample == nil ? spp : 1

        // What a result is written back as: the planes alone (C is gone), so the order is
        // of T and Z, fastest first, as the pages were.
        let order = "XYC" + String(others.reversed().map(\.letter)) + String("ZT".filter { l in !others.contains { $0.letter == l } })
        var outOME: OMEMetadata?
        if var meta = ome {
            meta.sizeC = outChannels
            meta.dimensionOrder = order
            let name = sample == nil && channel < names.count ? names[channel] : nil
            meta.channelNames = spp == 3 && sample == nil ? Array(names.prefix(1)) : [name]
            outOME = meta
        } else if pageCount > 1 {
            outOME = OMEMetadata(dimensionOrder: order, sizeC: outChannels, sizeZ: axes.size("Z"), sizeT: axes.size("T"))
        }
        self.planes = planes
        self.names = planeNames
        self.channels = outChannels
        self.planeAxes = StackAxes(axes: others)
        self.ome = outOME
    }
}

/// A TIFF file read a band of rows at a time, for images too large to hold whole
/// (`aggan translate` of a 10,000 x 10,000 16-bit image): the same planes, channel and
/// normalisation as `LoadedImage`, with the percentiles taken from a histogram built
/// over bands (bounded memory). Not thread-safe.
public final class TIFFBandReader {
    public let path: String
    /// Each plane's size and channels (1, or 3 for RGB pages read whole).
    public let width: Int, height: Int, channels: Int
    /// Per plane, a suffix naming it (see `LoadedImage.planeNames`).
    public let planeNames: [String]
    /// The bit depth of the bands (as `LoadedImage`'s planes: 8 for 8-bit files, else 16).
    public let bitDepth: Int
    /// Rows read at a time by the histogram pass.
    public static let bandRows = 256

    private let reader: TIFFReader
    private let selection: StackSelection
    private let options: ReadOptions
    private var range: IntensityRange?

    /// Opens `path` and reads its headers and metadata (no pixels yet). Throws what
    /// `LoadedImage(path:options:)` throws for a TIFF, except for the total size.
    public init(path: String, options: ReadOptions = ReadOptions()) throws {
        // Not mapped: the bands read would stay resident (see `TIFFReader.init(file:mapped:)`).
        reader = try TIFFReader(file: path, mapped: false)
        selection = try StackSelection(description: reader.description, pageCount: reader.pageCount,
                                       samplesPerPixel: reader.samplesPerPixel, path: path, options: options)
        self.path = path
        self.options = options
        width = reader.width
        height = reader.height
        channels = selection.channels
        planeNames = selection.names
        bitDepth = selection.bitDepth(reader.sampleType)
    }

    /// The number of planes.
    public var planeCount: Int { selection.planes.count }

    /// The stored values that 0 and 1 stand for: for percentiles, one pass over every
    /// plane (two for float data), `bandRows` rows at a time, on first use.
    public func intensityRange() throws -> IntensityRange {
        if let range { return range }
        let size = channels * width * Self.bandRows
        var buffer = [Float](repeating: 0, count: size)
        let found = try options.normalization.range(type: reader.sampleType) { visit in
            for plane in selection.planes {
                for r0 in stride(from: 0, to: height, by: Self.bandRows) {
                    let rows = r0..<min(height, r0 + Self.bandRows)
                    let count = channels * width * rows.count
                    try buffer.withUnsafeMutableBufferPointer { b in
                        try reader.read(page: plane.page, rows: rows, sample: plane.sample,
                                        into: UnsafeMutableBufferPointer(rebasing: b[0..<count]))
                    }
                    visit(buffer[0..<count])
                }
            }
        }
        range = found
        return found
    }

    /// How a result is written back (as `LoadedImage.tiff`).
    public func source() throws -> TIFFSource {
        selection.source(reader.sampleType, reader.layout, try intensityRange(), options.normalization)
    }

    /// Rows `rows` of plane `plane`, normalised to [0, 1] as `LoadedImage`'s planes are:
    /// an image `width` x `rows.count`.
    public func band(plane: Int, rows: Range<Int>) throws -> Image {
        guard plane >= 0, plane < planeCount, !rows.isEmpty, rows.lowerBound >= 0, rows.upperBound <= height else {
            throw ImagingError.invalid("TIFFBandReader", "plane \(plane), rows \(rows) are outside \(planeCount) plane(s) of \(height) rows")
        }
        let range = try intensityRange()
        var values = [Float](repeating: 0, count: channels * width * rows.count)
        try values.withUnsafeMutableBufferPointer { b in
            try reader.read(page: selection.planes[plane].page, rows: rows, sample: selection.planes[plane].sample, into: b)
        }
        values.withUnsafeMutableBufferPointer { b in
            for i in b.indices { b[i] = range.normalized(b[i]) }
        }
        return Image(unchecked: width, rows.count, channels, values, bitDepth)
    }
}

extension TIFFSource {
    /// Writes `planes` (samples in [0, 1], as many as the input's, all of one size and
    /// channel count) to `path` the way the input was stored: values mapped back to
    /// [range.low, range.high] and stored as the input's type, the same compression,
    /// tiling and byte order, and the metadata (plane sizes, channel name, pixel size).
    public func write(_ planes: [Image], to path: String) throws {
        guard let first = planes.first, planes.count == planeAxes.pageCount,
              planes.allSatisfy({ $0.width == first.width && $0.height == first.height && $0.channels == first.channels }) else {
            throw ImagingError.write(path, "\(planes.count) plane(s) do not match the input's \(planeAxes.pageCount) plane(s)")
        }
        try stream(to: path, width: first.width, height: first.height, channels: first.channels) { append in
            for plane in planes { try append(plane.height, plane.pixels[...]) }
        }
    }

    /// `write` a band of rows at a time, for images too large to hold whole: `body`
    /// calls its argument with every row of every plane in order (planes of
    /// `planeAxes.pageCount`), each time with a number of rows and their samples in
    /// [0, 1] (planar: channel, row, column). The file appears atomically when `body`
    /// returns; when it throws, nothing is left at `path`.
    public func stream(to path: String, width: Int, height: Int, channels: Int,
                       body: ((Int, ArraySlice<Float>) throws -> Void) throws -> Void) throws {
        var ome = self.ome
        if channels != samplesPerPixel, var meta = ome {
            meta.sizeC = channels
            meta.channelNames = [nil]
            ome = meta
        }
        let format = TIFFWriter.Format(
            width: width, height: height, samplesPerPixel: channels, sampleType: sampleType,
            pageCount: planeAxes.pageCount,
            description: ome?.xml(width: width, height: height, type: sampleType, samplesPerPixel: channels),
            layout: layout)
        try TIFFWriter.write(to: path, format) { writer in
            var stored = [Float]()
            try body { rows, samples in
                stored.removeAll(keepingCapacity: true)
                stored.append(contentsOf: samples.lazy.map(range.stored))
                try stored.withUnsafeBufferPointer { try writer.append(rows: rows, $0) }
            }
        }
    }

    /// How a PNG of `bitDepth` (8 or 16) is written as a plain TIFF: its levels as they are.
    public static func plain(bitDepth: Int, channels: Int) -> TIFFSource {
        TIFFSource(sampleType: bitDepth == 16 ? .uint16 : .uint8, layout: TIFFLayout(), samplesPerPixel: channels,
                   planeAxes: StackAxes(axes: []), ome: nil,
                   range: IntensityRange(low: 0, high: bitDepth == 16 ? 65535 : 255), normalization: .none)
    }

    /// Where attention maps of the planes go: float32 values in [0, 1], one gray plane
    /// each, the same plane axes, pixel size and storage, channel named `attention`.
    public var attention: TIFFSource {
        var copy = self
        copy.sampleType = .float32
        copy.samplesPerPixel = 1
        copy.range = IntensityRange(low: 0, high: 1)
        copy.normalization = .none
        if var meta = copy.ome {
            meta.sizeC = 1
            meta.channelNames = ["attention"]
            copy.ome = meta
        }
        return copy
    }
}
