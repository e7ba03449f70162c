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
    func fail(_ kind: ImagingError.Kind, _ what: String) -> ImagingError { ImagingError.read(path, kind, what) }
    let spp = stack.samplesPerPixel
    // The axes: stated by OME-XML or ImageJ, or given by the user; never guessed.
    var ome: OMEMetadata?
    var axes: StackAxes
    do {
        ome = try stack.description.flatMap(OMEMetadata.parse)
    } catch let error as ImagingError {
        throw fail(.unsupported, error.description)
    }
    let stated: StackAxes? = ome?.pageAxes(samplesPerPixel: spp) ?? stack.description.flatMap(StackAxes.imageJ)
    if let stated {
        guard stated.pageCount == stack.pageCount else {
            throw fail(.unsupported, "its metadata describes \(stated.pageCount) page(s) (\(stated)), the file has \(stack.pageCount); multi-file and multi-image OME-TIFFs are not supported")
        }
        if let given = options.axes {
            let mine = try StackAxes.parse(given, pageCount: stack.pageCount)
            guard mine.description == stated.description else {
                throw fail(.axesNeeded, "--axes \(given) disagrees with the file's metadata, which says \(stated)")
            }
        }
        axes = stated
    } else if let given = options.axes {
        do {
            axes = try StackAxes.parse(given, pageCount: stack.pageCount)
        } catch let error as ImagingError {
            throw fail(.axesNeeded, error.description)
        }
    } else if stack.pageCount == 1 {
        axes = StackAxes(axes: [])
    } else {
        throw fail(.axesNeeded, "\(stack.pageCount) pages and no OME-XML or ImageJ metadata saying what they are; give --axes (for example CYX, TYX or ZYX)")
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
    let outChannels = sample == nil ? spp : 1
    let n = stack.width * stack.height
    var raw = [Float]()
    raw.reserveCapacity(planeCount * outChannels * n)
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
        let page = stack.page(axes.page(index))
        if let sample {
            raw.append(contentsOf: page[(page.startIndex + sample * n)..<(page.startIndex + (sample + 1) * n)])
        } else {
            raw.append(contentsOf: page)
        }
    }
    let range = options.normalization.range(of: raw[...], type: stack.sampleType)
    let depth = stack.sampleType == .uint8 ? 8 : 16
    let size = outChannels * n
    let planes = (0..<planeCount).map { k in
        Image(unchecked: stack.width, stack.height, outChannels,
              raw[(k * size)..<((k + 1) * size)].map(range.normalized), depth)
    }

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
    } else if stack.pageCount > 1 {
        outOME = OMEMetadata(dimensionOrder: order, sizeC: outChannels, sizeZ: axes.size("Z"), sizeT: axes.size("T"))
    }
    let planeAxes = StackAxes(axes: others)
    let source = TIFFSource(sampleType: stack.sampleType, layout: stack.layout, samplesPerPixel: outChannels,
                            planeAxes: planeAxes, ome: outOME, range: range, normalization: options.normalization)
    return (planes, planeNames, source)
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
        var ome = self.ome
        if first.channels != samplesPerPixel, var meta = ome {
            meta.sizeC = first.channels
            meta.channelNames = [nil]
            ome = meta
        }
        var values = [Float]()
        values.reserveCapacity(planes.count * first.pixels.count)
        for plane in planes { values.append(contentsOf: plane.pixels.map(range.stored)) }
        let description = ome?.xml(width: first.width, height: first.height, type: sampleType, samplesPerPixel: first.channels)
        let stack = try TIFFStack(width: first.width, height: first.height, samplesPerPixel: first.channels,
                                  sampleType: sampleType, pageCount: planes.count, values: values,
                                  description: description, layout: layout)
        try stack.write(to: path)
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
