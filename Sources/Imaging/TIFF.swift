// TIFF files through libtiff: 8/16-bit unsigned and 32-bit float samples, gray or RGB,
// strips or tiles, any compression libtiff decodes (none, LZW and deflate on write),
// one or many pages, either byte order, BigTIFF on read. This is the only file that
// imports CTIFF. libtiff's messages go to a per-file handler and into the error; none
// reaches the terminal.

import Basics
import CTIFF
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The sample types aggan reads and writes in TIFF files.
public enum TIFFSampleType: String, Sendable, Codable, CaseIterable {
    case uint8, uint16, float32

    /// Bits per sample.
    public var bits: Int {
        switch self {
        case .uint8: 8
        case .uint16: 16
        case .float32: 32
        }
    }

    /// The largest value of an integer type (255, 65535); nil for float.
    public var maxValue: Double? {
        switch self {
        case .uint8: 255
        case .uint16: 65535
        case .float32: nil
        }
    }

    /// The value `v` stored as this type: rounded to the nearest integer and clamped to
    /// the type's range (NaN -> 0) for integers, unchanged for float.
    @inline(__always)
    func stored(_ v: Float) -> Float {
        switch self {
        case .uint8: v.isNaN ? 0 : min(max(v.rounded(), 0), 255)
        case .uint16: v.isNaN ? 0 : min(max(v.rounded(), 0), 65535)
        case .float32: v
        }
    }
}

/// The compressions aggan writes (reading takes whatever libtiff decodes).
public enum TIFFCompression: String, Sendable, Codable, CaseIterable {
    case none, lzw, deflate

    var tag: UInt16 {
        switch self {
        case .none: UInt16(COMPRESSION_NONE)
        case .lzw: UInt16(COMPRESSION_LZW)
        case .deflate: UInt16(COMPRESSION_ADOBE_DEFLATE)
        }
    }
}

/// How a TIFF file stores its pixels.
public struct TIFFLayout: Sendable, Equatable, Codable {
    /// Compression of every page.
    public var compression: TIFFCompression
    /// Side of the square tiles (a multiple of 16), or nil for strips.
    public var tileSize: Int?
    /// Big-endian (Motorola, "MM") rather than little-endian ("II").
    public var bigEndian: Bool

    public init(compression: TIFFCompression = .deflate, tileSize: Int? = nil, bigEndian: Bool = false) {
        self.compression = compression
        self.tileSize = tileSize
        self.bigEndian = bigEndian
    }
}

/// The pixels of a TIFF file: `pageCount` pages of the same size and type, each page
/// `samplesPerPixel` planes (1 gray, 3 RGB) of `height` x `width` values.
///
/// `values` holds the stored values as they are (0...255, 0...65535 or any float: all
/// exact in Float), page after page, each page planar (sample, row, column).
public struct TIFFStack: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// 1 (gray) or 3 (RGB) samples per pixel.
    public let samplesPerPixel: Int
    public let sampleType: TIFFSampleType
    public let pageCount: Int
    /// `pageCount * samplesPerPixel * height * width` stored values.
    public internal(set) var values: [Float]
    /// The first page's ImageDescription (OME-XML, ImageJ's header...), if any.
    public var description: String?
    /// How the file stored its pixels (read), or how to store them (write). The read
    /// compression is `.none` for compressions aggan does not write.
    public var layout: TIFFLayout
    /// Whether the file read was a BigTIFF.
    public internal(set) var bigTIFF = false

    /// The most values a stack may hold (2^28, a gigabyte of Float), checked from the
    /// header before any pixel memory is allocated.
    public static let maxValueCount = 1 << 28

    /// A stack of `values` (see the type's description).
    ///
    /// - Throws: `ImagingError` (`.invalidArgument`) when a size is not positive, the
    ///   samples per pixel are not 1 or 3, or the value count does not match.
    public init(width: Int, height: Int, samplesPerPixel: Int, sampleType: TIFFSampleType, pageCount: Int,
                values: [Float], description: String? = nil, layout: TIFFLayout = TIFFLayout()) throws {
        guard width > 0, height > 0, pageCount > 0, samplesPerPixel == 1 || samplesPerPixel == 3 else {
            throw ImagingError.invalid("TIFF", "\(pageCount) page(s) of \(width) x \(height) x \(samplesPerPixel) is not a valid stack")
        }
        guard values.count == pageCount * samplesPerPixel * width * height else {
            throw ImagingError.invalid("TIFF", "\(pageCount) page(s) of \(width) x \(height) x \(samplesPerPixel) need \(pageCount * samplesPerPixel * width * height) values, got \(values.count)")
        }
        self.width = width
        self.height = height
        self.samplesPerPixel = samplesPerPixel
        self.sampleType = sampleType
        self.pageCount = pageCount
        self.values = values
        self.description = description
        self.layout = layout
    }

    /// Values in one page.
    public var pageSize: Int { samplesPerPixel * width * height }

    /// The values of page `p`.
    public func page(_ p: Int) -> ArraySlice<Float> { values[(p * pageSize)..<((p + 1) * pageSize)] }
}

// MARK: - Reading

/// libtiff's messages for one open file, in memory the C handlers can write to.
private final class Messages {
    let pointer = UnsafeMutablePointer<ctiff_messages>.allocate(capacity: 1)
    init() { pointer.initialize(to: ctiff_messages()) }
    deinit { pointer.deallocate() }

    /// The first error, else the first warning, else `fallback`.
    func reason(_ fallback: String) -> String {
        let m = pointer.pointee
        if m.errors > 0 { return "libtiff: " + text(m.error) }
        if m.warnings > 0 { return fallback + " (libtiff: " + text(m.warning) + ")" }
        return fallback
    }

    var hasError: Bool { pointer.pointee.errors > 0 }

    private func text<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

/// libtiff's process-wide handlers print to stderr; switched off once, before any file
/// is opened (a `static let` runs exactly once, thread-safely).
private enum Silence {
    static let done: Bool = { ctiff_silence(); return true }()
}

/// The largest single allocation libtiff may make while reading (a strip or tile buffer).
private let maxLibTIFFAllocation = 1 << 30

/// TIFF files start with "II*\0", "MM\0*" (classic) or "II+\0", "MM\0+" (BigTIFF).
func isTIFFSignature(_ head: [UInt8]) -> Bool {
    guard head.count >= 4 else { return false }
    return (head[0] == 0x49 && head[1] == 0x49 && (head[2] == 42 || head[2] == 43) && head[3] == 0)
        || (head[0] == 0x4D && head[1] == 0x4D && head[2] == 0 && (head[3] == 42 || head[3] == 43))
}

extension TIFFStack {
    /// Reads every page of a TIFF file (see the type). Pages must all have the same
    /// size, samples and type.
    ///
    /// - Throws: `ImagingError` naming the file: missing, a directory, empty, not a TIFF
    ///   (with its first 4 bytes), an unsupported sample format (for example 12-bit or
    ///   complex samples, 4 samples per pixel, a palette), a compression this libtiff
    ///   cannot decode, more than `maxValueCount` values, pages that differ, or damaged
    ///   data (truncated, wrong offsets: libtiff's message).
    public init(file path: String) throws {
        let reader = try TIFFReader(file: path)
        let pageSize = reader.samplesPerPixel * reader.width * reader.height
        guard reader.pageCount * pageSize <= TIFFStack.maxValueCount else {
            throw ImagingError.read(path, .tooLarge, "more than \(TIFFStack.maxValueCount) samples in \(reader.pageCount) pages")
        }
        var values = [Float](repeating: 0, count: reader.pageCount * pageSize)
        try values.withUnsafeMutableBufferPointer { out in
            for p in 0..<reader.pageCount {
                try reader.read(page: p, rows: 0..<reader.height,
                                into: UnsafeMutableBufferPointer(rebasing: out[(p * pageSize)..<((p + 1) * pageSize)]))
            }
        }
        try self.init(width: reader.width, height: reader.height, samplesPerPixel: reader.samplesPerPixel,
                      sampleType: reader.sampleType, pageCount: reader.pageCount, values: values,
                      description: reader.description, layout: reader.layout)
        bigTIFF = reader.bigTIFF
    }
}

/// An open TIFF file whose page headers have been read and checked, and whose pixels are
/// read on demand, a band of rows at a time: what a large image is streamed through
/// (`TIFFStack(file:)` reads every page whole through it). Not thread-safe.
public final class TIFFReader {
    public let path: String
    public let width: Int
    public let height: Int
    /// 1 (gray) or 3 (RGB) samples per pixel.
    public let samplesPerPixel: Int
    public let sampleType: TIFFSampleType
    public let pageCount: Int
    /// The first page's ImageDescription, if any.
    public let description: String?
    /// How the first page is stored (see `TIFFStack.layout`).
    public let layout: TIFFLayout
    public let bigTIFF: Bool

    private let tif: OpaquePointer
    private let messages: Messages
    private let formats: [PageFormat]
    /// The directory libtiff is on.
    private var current: Int

    /// Opens `path` and reads every page's header (no pixels). Throws what
    /// `TIFFStack(file:)` throws, except for the total size.
    ///
    /// `mapped`: libtiff may memory-map the file (its default, quick for whole reads).
    /// A band-by-band read of a large file passes false: the pages of a mapped file
    /// that have been touched count in the process's resident memory, so reading a
    /// 200 MB file through a map ends with 200 MB resident, however small the bands.
    public init(file path: String, mapped: Bool = true) throws {
        _ = Silence.done
        try checkReadable(path)
        let messages = Messages()
        guard let tif = ctiff_open(path, mapped ? "r" : "rm", messages.pointer, maxLibTIFFAllocation) else {
            throw ImagingError.read(path, .corruptTIFF, messages.reason("not a readable TIFF file"))
        }
        var formats: [PageFormat] = []
        do {
            let first = try PageFormat(tif, path: path, page: 0, messages: messages)
            formats.append(first)
            while TIFFReadDirectory(tif) != 0 {
                let format = try PageFormat(tif, path: path, page: formats.count, messages: messages)
                guard format.width == first.width, format.height == first.height,
                      format.samples == first.samples, format.type == first.type else {
                    throw ImagingError.read(path, .unsupported,
                        "page \(formats.count + 1) is \(format.summary), page 1 is \(first.summary); pages of different kinds are not supported")
                }
                formats.append(format)
            }
            if messages.hasError {
                throw ImagingError.read(path, .corruptTIFF, messages.reason("damaged page list"))
            }
        } catch {
            TIFFClose(tif)
            throw error
        }
        let first = formats[0]
        self.path = path
        self.tif = tif
        self.messages = messages
        self.formats = formats
        current = formats.count - 1
        width = first.width
        height = first.height
        samplesPerPixel = first.samples
        sampleType = first.type
        pageCount = formats.count
        description = first.description
        layout = TIFFLayout(compression: first.compression, tileSize: first.tile?.width, bigEndian: TIFFIsBigEndian(tif) != 0)
        bigTIFF = TIFFIsBigTIFF(tif) != 0
    }

    deinit { TIFFClose(tif) }

    /// Decodes rows `rows` of page `page` into `out`, planar (sample, row, column): every
    /// sample, or only `sample` when given (`rows.count * width` values, resp. times
    /// `samplesPerPixel`). Only the strips or tiles that hold those rows are decoded.
    ///
    /// - Throws: `ImagingError` naming the file when the data are damaged.
    public func read(page: Int, rows: Range<Int>, sample: Int? = nil, into out: UnsafeMutableBufferPointer<Float>) throws {
        let samples = sample.map { $0..<($0 + 1) } ?? 0..<samplesPerPixel
        guard page >= 0, page < pageCount, rows.lowerBound >= 0, rows.upperBound <= height,
              samples.lowerBound >= 0, samples.upperBound <= samplesPerPixel,
              out.count >= samples.count * rows.count * width else {
            throw ImagingError.invalid("TIFFReader", "page \(page), rows \(rows), samples \(samples) are outside \(path)'s \(pageCount) page(s) of \(width) x \(height) x \(samplesPerPixel)")
        }
        if page != current {
            guard TIFFSetDirectory(tif, UInt32(page)) != 0 else {
                throw ImagingError.read(path, .corruptTIFF, messages.reason("cannot find page \(page + 1)"))
            }
            current = page
        }
        try formats[page].read(tif, rows: rows, samples: samples, into: out, path: path, messages: messages)
    }
}

/// Refuses what libtiff should not be asked to open: a missing file, a folder, an empty
/// file, or one without a TIFF signature.
private func checkReadable(_ path: String) throws {
    let (fd, _) = try openForReading(path)
    defer { close(fd) }
    var head = [UInt8](repeating: 0, count: 4)
    let got = head.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4) }
    if got == 0 { throw ImagingError.read(path, .emptyFile, "empty file (0 bytes)") }
    guard got == 4, isTIFFSignature(head) else {
        let hex = head.prefix(max(got, 0)).map(hex2).joined()
        throw ImagingError.read(path, .notTIFF, "not a TIFF file (starts with 0x\(hex))")
    }
}

/// One page's header, checked: what aggan can read.
private struct PageFormat {
    let width: Int, height: Int, samples: Int, type: TIFFSampleType
    let separatePlanes: Bool
    let compression: TIFFCompression
    let tile: (width: Int, height: Int)?
    let rowsPerStrip: Int
    let description: String?

    var pageSize: Int { width * height * samples }
    var summary: String { "\(width) x \(height), \(samples) sample(s) of \(type.rawValue)" }

    init(_ tif: OpaquePointer, path: String, page: Int, messages: Messages) throws {
        func fail(_ kind: ImagingError.Kind, _ what: String) -> ImagingError {
            ImagingError.read(path, kind, (page > 0 ? "page \(page + 1): " : "") + what)
        }
        var w: UInt32 = 0, h: UInt32 = 0
        guard ctiff_get_u32(tif, UInt32(TIFFTAG_IMAGEWIDTH), &w) != 0, ctiff_get_u32(tif, UInt32(TIFFTAG_IMAGELENGTH), &h) != 0 else {
            throw fail(.corruptTIFF, messages.reason("no image width or height"))
        }
        var bits: UInt16 = 1, spp: UInt16 = 1, format: UInt16 = 1, planar: UInt16 = 1, compression: UInt16 = 1
        var photometric: UInt16 = 1
        _ = ctiff_get_u16_defaulted(tif, UInt32(TIFFTAG_BITSPERSAMPLE), &bits)
        _ = ctiff_get_u16_defaulted(tif, UInt32(TIFFTAG_SAMPLESPERPIXEL), &spp)
        _ = ctiff_get_u16_defaulted(tif, UInt32(TIFFTAG_SAMPLEFORMAT), &format)
        _ = ctiff_get_u16_defaulted(tif, UInt32(TIFFTAG_PLANARCONFIG), &planar)
        _ = ctiff_get_u16_defaulted(tif, UInt32(TIFFTAG_COMPRESSION), &compression)
        let hasPhotometric = ctiff_get_u16(tif, UInt32(TIFFTAG_PHOTOMETRIC), &photometric) != 0
        width = Int(w)
        height = Int(h)
        let pixels = width.multipliedReportingOverflow(by: height)
        guard width > 0, height > 0, !pixels.overflow, pixels.partialValue <= Image.maxPixelCount else {
            throw fail(.tooLarge, "image is \(width) x \(height) pixels, more than the limit of \(Image.maxPixelCount)")
        }
        switch (Int32(format), bits) {
        case (SAMPLEFORMAT_UINT, 8): type = .uint8
        case (SAMPLEFORMAT_UINT, 16): type = .uint16
        case (SAMPLEFORMAT_IEEEFP, 32): type = .float32
        default:
            let kinds: [Int32: String] = [SAMPLEFORMAT_UINT: "unsigned", SAMPLEFORMAT_INT: "signed",
                                          SAMPLEFORMAT_IEEEFP: "float", SAMPLEFORMAT_VOID: "untyped",
                                          SAMPLEFORMAT_COMPLEXINT: "complex integer", SAMPLEFORMAT_COMPLEXIEEEFP: "complex float"]
            throw fail(.unsupported, "unsupported sample format: \(bits)-bit \(kinds[Int32(format)] ?? "format \(format)") samples (aggan reads 8- and 16-bit unsigned and 32-bit float)")
        }
        guard spp == 1 || spp == 3 else {
            throw fail(.unsupported, "unsupported: \(spp) samples per pixel (aggan reads 1, gray, or 3, RGB)")
        }
        samples = Int(spp)
        let photometricOK = spp == 1 ? (!hasPhotometric || photometric == PHOTOMETRIC_MINISBLACK)
                                     : (!hasPhotometric || photometric == PHOTOMETRIC_RGB)
        guard photometricOK else {
            let names: [Int32: String] = [PHOTOMETRIC_MINISWHITE: "min-is-white", PHOTOMETRIC_PALETTE: "palette",
                                          PHOTOMETRIC_YCBCR: "YCbCr", PHOTOMETRIC_SEPARATED: "CMYK",
                                          PHOTOMETRIC_MASK: "mask", PHOTOMETRIC_CIELAB: "CIE L*a*b*"]
            throw fail(.unsupported, "unsupported photometric interpretation: \(names[Int32(photometric)] ?? String(photometric)) with \(spp) sample(s)")
        }
        guard TIFFIsCODECConfigured(compression) != 0 else {
            throw fail(.unsupported, "compression \(compression) is not supported by this libtiff")
        }
        switch Int32(compression) {
        case COMPRESSION_LZW: self.compression = .lzw
        case COMPRESSION_ADOBE_DEFLATE, COMPRESSION_DEFLATE: self.compression = .deflate
        default: self.compression = .none
        }
        separatePlanes = planar == PLANARCONFIG_SEPARATE && spp > 1
        if TIFFIsTiled(tif) != 0 {
            var tw: UInt32 = 0, th: UInt32 = 0
            _ = ctiff_get_u32(tif, UInt32(TIFFTAG_TILEWIDTH), &tw)
            _ = ctiff_get_u32(tif, UInt32(TIFFTAG_TILELENGTH), &th)
            guard tw > 0, th > 0, Int(tw) * Int(th) <= Image.maxPixelCount else {
                throw fail(.corruptTIFF, "bad tile size \(tw) x \(th)")
            }
            tile = (Int(tw), Int(th))
        } else {
            tile = nil
        }
        var rps: UInt32 = 0
        _ = ctiff_get_u32_defaulted(tif, UInt32(TIFFTAG_ROWSPERSTRIP), &rps)
        rowsPerStrip = max(1, min(Int(rps), height))
        var text: UnsafePointer<CChar>?
        if page == 0, ctiff_get_string(tif, UInt32(TIFFTAG_IMAGEDESCRIPTION), &text) != 0, let text {
            description = String(cString: text)
        } else {
            description = nil
        }
    }

    /// Decodes rows `rows` of samples `samples` of this page into `out` (planar: sample,
    /// row, column, counted from the first of each), decoding only the strips or tiles
    /// that hold them.
    func read(_ tif: OpaquePointer, rows wanted: Range<Int>, samples picked: Range<Int>,
              into out: UnsafeMutableBufferPointer<Float>, path: String, messages: Messages) throws {
        let planes = separatePlanes ? samples : 1
        let interleaved = separatePlanes ? 1 : samples
        let bytesPerSample = type.bits / 8
        let rowCount = wanted.count
        // Blocks: tiles or strips, each `bw` x `bh` pixels at (`x0`, `y0`) of plane `s`.
        let (bw, bh) = tile ?? (width, rowsPerStrip)
        let blockBytes = bw * bh * interleaved * bytesPerSample
        var buffer = [UInt8](repeating: 0, count: blockBytes)
        for s in 0..<planes where !separatePlanes || picked.contains(s) {
            for y0 in stride(from: wanted.lowerBound / bh * bh, to: wanted.upperBound, by: bh) {
                for x0 in stride(from: 0, to: width, by: bw) {
                    let rows = min(bh, height - y0), cols = min(bw, width - x0)
                    let got: Int = buffer.withUnsafeMutableBytes { b in
                        if tile != nil {
                            let index = TIFFComputeTile(tif, UInt32(x0), UInt32(y0), 0, UInt16(s))
                            return Int(TIFFReadEncodedTile(tif, index, b.baseAddress, tmsize_t(blockBytes)))
                        }
                        let index = TIFFComputeStrip(tif, UInt32(y0), UInt16(s))
                        return Int(TIFFReadEncodedStrip(tif, index, b.baseAddress, tmsize_t(blockBytes)))
                    }
                    // A strip holds `rows` rows; a tile is always whole.
                    let needed = (tile == nil ? rows : bh) * bw * interleaved * bytesPerSample
                    guard got >= needed, !messages.hasError else {
                        throw ImagingError.read(path, .corruptTIFF,
                            messages.reason(got < 0 ? "cannot decode the pixels" : "truncated pixel data (\(max(got, 0)) of \(needed) bytes)"))
                    }
                    let first = max(y0, wanted.lowerBound), last = min(y0 + rows, wanted.upperBound)
                    buffer.withUnsafeBytes { b in
                        for y in first..<last {
                            let r = y - y0
                            for k in 0..<interleaved where picked.contains(s + k) {
                                let o = ((s + k - picked.lowerBound) * rowCount + y - wanted.lowerBound) * width + x0
                                for c in 0..<cols {
                                    let i = (r * bw + c) * interleaved + k
                                    let v: Float
                                    switch type {
                                    case .uint8: v = Float(b[i])
                                    case .uint16: v = Float(b.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                                    case .float32: v = b.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
                                    }
                                    out[o + c] = v
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

// MARK: - Writing

extension TIFFStack {
    /// Writes every page with this stack's `layout` (compression, tiles or strips, byte
    /// order) and `description` in the first page; values are stored as `sampleType`
    /// (rounded and clamped for integer types). A BigTIFF is written when the pixels
    /// approach 4 GB.
    ///
    /// The file appears atomically (temporary file, sync, rename): a failed write leaves
    /// nothing at `path`.
    public func write(to path: String) throws {
        let format = TIFFWriter.Format(width: width, height: height, samplesPerPixel: samplesPerPixel,
                                       sampleType: sampleType, pageCount: pageCount, description: description,
                                       layout: layout)
        try TIFFWriter.write(to: path, format) { writer in
            try values.withUnsafeBufferPointer { v in
                for p in 0..<pageCount {
                    try writer.append(rows: height, UnsafeBufferPointer(rebasing: v[(p * pageSize)..<((p + 1) * pageSize)]))
                }
            }
        }
    }
}

/// Writes a TIFF file a band of rows at a time, so that an image larger than memory can
/// be written (`TIFFStack.write` goes through it with whole pages). Rows are buffered
/// until a strip (about 64 KB) or a row of tiles is complete, then encoded.
public final class TIFFWriter {
    /// What the file holds: `pageCount` pages of one size and type.
    public struct Format: Sendable, Equatable {
        public var width: Int, height: Int
        /// 1 (gray) or 3 (RGB).
        public var samplesPerPixel: Int
        public var sampleType: TIFFSampleType
        public var pageCount: Int
        /// The first page's ImageDescription (OME-XML), if any.
        public var description: String?
        public var layout: TIFFLayout

        public init(width: Int, height: Int, samplesPerPixel: Int, sampleType: TIFFSampleType, pageCount: Int,
                    description: String? = nil, layout: TIFFLayout = TIFFLayout()) {
            self.width = width
            self.height = height
            self.samplesPerPixel = samplesPerPixel
            self.sampleType = sampleType
            self.pageCount = pageCount
            self.description = description
            self.layout = layout
        }
    }

    public let format: Format
    private let path: String
    private let tif: OpaquePointer
    private let messages: Messages
    /// Rows per strip, or the tile side.
    private let blockRows: Int
    /// Rows not yet encoded, planar (sample, row, column) over `blockRows` rows.
    private var pending: [Float]
    private var pendingRows = 0
    /// The page being written and the rows of it received.
    private var page = 0, row = 0

    /// Writes `path` atomically (temporary file, sync, rename): `body` must append every
    /// row of every page, in order; when it throws, or rows are missing, nothing is left
    /// at `path`.
    ///
    /// - Throws: `ImagingError` naming the file: a bad format (sizes, samples, a tile
    ///   size that is not a positive multiple of 16), libtiff's errors, a full disk;
    ///   `body`'s errors pass through.
    public static func write(to path: String, _ format: Format, body: (TIFFWriter) throws -> Void) throws {
        _ = Silence.done
        guard format.width > 0, format.height > 0, format.pageCount > 0,
              format.samplesPerPixel == 1 || format.samplesPerPixel == 3 else {
            throw ImagingError.write(path, "\(format.pageCount) page(s) of \(format.width) x \(format.height) x \(format.samplesPerPixel) is not a valid stack")
        }
        if let t = format.layout.tileSize, t <= 0 || t % 16 != 0 {
            throw ImagingError.write(path, "tile size must be a positive multiple of 16, got \(t)")
        }
        let bytes = format.pageCount * format.samplesPerPixel * format.width * format.height * format.sampleType.bits / 8
        let mode = "w" + (format.layout.bigEndian ? "b" : "l") + (bytes > 3_900_000_000 ? "8" : "")
        do {
            try AtomicFile.write(to: path) { temp in
                let messages = Messages()
                guard let tif = ctiff_open(temp, mode, messages.pointer, maxLibTIFFAllocation) else {
                    throw ImagingError.write(path, messages.reason("libtiff cannot create the file"))
                }
                let writer = TIFFWriter(format, path: path, tif: tif, messages: messages)
                var closed = false
                defer { if !closed { TIFFClose(tif) } }
                try writer.startPage()
                try body(writer)
                guard writer.page == format.pageCount else {
                    throw ImagingError.write(path, "internal error: \(writer.page) of \(format.pageCount) page(s) written")
                }
                closed = true
                TIFFClose(tif)
                if messages.hasError { throw ImagingError.write(path, messages.reason("libtiff failed")) }
            }
        } catch let error as AtomicWriteError {
            throw ImagingError.write(path, error.reason)
        }
    }

    private init(_ format: Format, path: String, tif: OpaquePointer, messages: Messages) {
        self.format = format
        self.path = path
        self.tif = tif
        self.messages = messages
        // Strips of about 64 KB; tiles as asked.
        let rowBytes = format.width * format.samplesPerPixel * format.sampleType.bits / 8
        blockRows = format.layout.tileSize ?? max(1, min(format.height, 65536 / max(rowBytes, 1)))
        pending = [Float](repeating: 0, count: format.samplesPerPixel * blockRows * format.width)
    }

    /// Appends the next `count` rows: `values` holds them planar (sample, row, column),
    /// `samplesPerPixel * count * width` stored values (rounded and clamped to the
    /// sample type here). A page's rows may come in any number of calls; a call may
    /// finish one page and start the next.
    public func append(rows count: Int, _ values: UnsafeBufferPointer<Float>) throws {
        let w = format.width, spp = format.samplesPerPixel
        guard count >= 0, values.count == spp * count * w else {
            throw ImagingError.write(path, "internal error: \(values.count) values are not \(count) rows of \(w) x \(spp)")
        }
        var done = 0
        while done < count {
            guard page < format.pageCount else {
                throw ImagingError.write(path, "internal error: more rows than \(format.pageCount) page(s) of \(format.height)")
            }
            let take = min(count - done, blockRows - pendingRows, format.height - row)
            pending.withUnsafeMutableBufferPointer { p in
                for k in 0..<spp {
                    let from = (k * count + done) * w, to = (k * blockRows + pendingRows) * w
                    for i in 0..<(take * w) { p[to + i] = values[from + i] }
                }
            }
            done += take
            pendingRows += take
            row += take
            if pendingRows == blockRows || row == format.height { try flush() }
            if row == format.height {
                guard TIFFWriteDirectory(tif) != 0 else {
                    throw ImagingError.write(path, messages.reason("libtiff could not write page \(page + 1)"))
                }
                page += 1
                row = 0
                if page < format.pageCount { try startPage() }
            }
        }
    }

    /// The tags of page `page`.
    private func startPage() throws {
        func set16(_ tag: Int32, _ v: Int) -> Bool { ctiff_set_u16(tif, UInt32(tag), UInt16(v)) != 0 }
        func set32(_ tag: Int32, _ v: Int) -> Bool { ctiff_set_u32(tif, UInt32(tag), UInt32(v)) != 0 }
        let f = format
        var ok = set32(TIFFTAG_IMAGEWIDTH, f.width) && set32(TIFFTAG_IMAGELENGTH, f.height)
            && set16(TIFFTAG_BITSPERSAMPLE, f.sampleType.bits) && set16(TIFFTAG_SAMPLESPERPIXEL, f.samplesPerPixel)
            && set16(TIFFTAG_SAMPLEFORMAT, Int(f.sampleType == .float32 ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT))
            && set16(TIFFTAG_PHOTOMETRIC, Int(f.samplesPerPixel == 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK))
            && set16(TIFFTAG_PLANARCONFIG, Int(PLANARCONFIG_CONTIG))
            && set16(TIFFTAG_COMPRESSION, Int(f.layout.compression.tag))
            && ctiff_set_string(tif, UInt32(TIFFTAG_SOFTWARE), "aggan") != 0
        if f.pageCount > 1 { ok = ok && set16(TIFFTAG_SUBFILETYPE, 0) }
        if page == 0, let description = f.description {
            ok = ok && ctiff_set_string(tif, UInt32(TIFFTAG_IMAGEDESCRIPTION), description) != 0
        }
        if let tile = f.layout.tileSize {
            ok = ok && set32(TIFFTAG_TILEWIDTH, tile) && set32(TIFFTAG_TILELENGTH, tile)
        } else {
            ok = ok && set32(TIFFTAG_ROWSPERSTRIP, blockRows)
        }
        guard ok else { throw ImagingError.write(path, messages.reason("libtiff refused a tag")) }
    }

    /// Encodes the pending rows (the last `pendingRows` rows up to `row`): one strip, or
    /// one row of tiles (padded with zeros beyond the image's edge).
    private func flush() throws {
        let f = format, w = f.width, spp = f.samplesPerPixel, bytes = f.sampleType.bits / 8
        let tile = f.layout.tileSize
        let (bw, bh) = tile.map { ($0, $0) } ?? (w, blockRows)
        let rows = pendingRows, y0 = row - pendingRows
        var buffer = [UInt8](repeating: 0, count: bw * bh * spp * bytes)
        for x0 in stride(from: 0, to: w, by: bw) {
            let cols = min(bw, w - x0)
            if tile != nil && (rows < bh || cols < bw) { for i in buffer.indices { buffer[i] = 0 } }
            pending.withUnsafeBufferPointer { v in
                buffer.withUnsafeMutableBytes { b in
                    for r in 0..<rows {
                        for c in 0..<cols {
                            for k in 0..<spp {
                                let x = f.sampleType.stored(v[(k * blockRows + r) * w + x0 + c])
                                let i = (r * bw + c) * spp + k
                                switch f.sampleType {
                                case .uint8: b[i] = UInt8(x)
                                case .uint16: b.storeBytes(of: UInt16(x), toByteOffset: 2 * i, as: UInt16.self)
                                case .float32: b.storeBytes(of: x, toByteOffset: 4 * i, as: Float.self)
                                }
                            }
                        }
                    }
                }
            }
            let written: Int = buffer.withUnsafeMutableBytes { b in
                if tile != nil {
                    return Int(TIFFWriteEncodedTile(tif, TIFFComputeTile(tif, UInt32(x0), UInt32(y0), 0, 0), b.baseAddress, tmsize_t(b.count)))
                }
                return Int(TIFFWriteEncodedStrip(tif, TIFFComputeStrip(tif, UInt32(y0), 0), b.baseAddress, tmsize_t(rows * bw * spp * bytes)))
            }
            guard written >= 0 else { throw ImagingError.write(path, messages.reason("libtiff could not encode the pixels")) }
        }
        pendingRows = 0
    }
}
