// TensorBoard event files without TensorFlow or a protobuf library: TFRecord framing around
// hand-encoded `Event` messages. Field numbers are those of TensorBoard's
// tensorboard/compat/proto/event.proto, summary.proto and histogram.proto.
import Basics
import Foundation

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of TFRecord framing;
/// not zlib's CRC-32.
public enum CRC32C {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return ~c
    }

    /// TFRecord's masked form: rotate right by 15, add 0xa282ead8.
    public static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}

/// TFRecord framing: uint64 little-endian length, masked CRC-32C of those 8 bytes, the
/// bytes, masked CRC-32C of the bytes.
public enum TFRecord {
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 16)
        let length = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(payload.count) >> (8 * $0)) }
        out += length
        out += littleEndian(CRC32C.masked(CRC32C.checksum(length)))
        out += payload
        out += littleEndian(CRC32C.masked(CRC32C.checksum(payload)))
        return out
    }

    /// The records of `bytes`, checking both CRCs of each. A last record cut short (a run
    /// killed while writing) ends the list without an error; `complete` says where the
    /// records that were read end. A wrong CRC throws.
    public static func records(_ bytes: [UInt8], name: String) throws -> (records: [[UInt8]], complete: Int) {
        var out: [[UInt8]] = []
        var at = 0
        while bytes.count - at >= 12 {
            let header = Array(bytes[at..<(at + 8)])
            let length = header.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            guard readUInt32(bytes, at + 8) == CRC32C.masked(CRC32C.checksum(header)) else {
                throw EngineError("'\(name)': record at byte \(at) has a wrong length checksum")
            }
            guard length <= UInt64(bytes.count - at - 16) else { break }
            let start = at + 12, end = start + Int(length)
            let payload = Array(bytes[start..<end])
            guard readUInt32(bytes, end) == CRC32C.masked(CRC32C.checksum(payload)) else {
                throw EngineError("'\(name)': record at byte \(at) has a wrong data checksum")
            }
            out.append(payload)
            at = end + 4
        }
        return (out, at)
    }

    static func littleEndian(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    static func readUInt32(_ b: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[at + $1]) << (8 * UInt32($1)) }
    }
}

/// A protobuf message being encoded: fields appended in order.
struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }

    mutating func key(_ field: Int, _ wireType: Int) { varint(UInt64(field << 3 | wireType)) }

    mutating func int(_ field: Int, _ v: Int64) { key(field, 0); varint(UInt64(bitPattern: v)) }

    mutating func double(_ field: Int, _ v: Double) {
        key(field, 1)
        bytes += (0..<8).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt64($0))) }
    }

    mutating func float(_ field: Int, _ v: Float) {
        key(field, 5)
        bytes += TFRecord.littleEndian(v.bitPattern)
    }

    mutating func data(_ field: Int, _ v: [UInt8]) { key(field, 2); varint(UInt64(v.count)); bytes += v }

    mutating func string(_ field: Int, _ v: String) { data(field, Array(v.utf8)) }

    /// A packed repeated double.
    mutating func doubles(_ field: Int, _ v: [Double]) {
        var inner = ProtoWriter()
        for d in v { inner.bytes += (0..<8).map { UInt8(truncatingIfNeeded: d.bitPattern >> (8 * UInt64($0))) } }
        data(field, inner.bytes)
    }
}

/// A protobuf message being decoded: (field, value) pairs, enough for event files.
struct ProtoReader {
    enum Value { case varint(UInt64), fixed64(UInt64), fixed32(UInt32), bytes([UInt8]) }

    static func fields(_ b: [UInt8]) -> [(Int, Value)]? {
        var out: [(Int, Value)] = []
        var at = 0
        func varint() -> UInt64? {
            var v: UInt64 = 0, shift: UInt64 = 0
            while at < b.count, shift < 64 {
                let byte = b[at]; at += 1
                v |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return v }
                shift += 7
            }
            return nil
        }
        func fixed(_ n: Int) -> UInt64? {
            guard b.count - at >= n else { return nil }
            defer { at += n }
            return (0..<n).reduce(UInt64(0)) { $0 | UInt64(b[at + $1]) << (8 * UInt64($1)) }
        }
        while at < b.count {
            guard let key = varint() else { return nil }
            let field = Int(key >> 3)
            switch key & 7 {
            case 0: guard let v = varint() else { return nil }; out.append((field, .varint(v)))
            case 1: guard let v = fixed(8) else { return nil }; out.append((field, .fixed64(v)))
            case 5: guard let v = fixed(4) else { return nil }; out.append((field, .fixed32(UInt32(v))))
            case 2:
                guard let n = varint(), n <= UInt64(b.count - at) else { return nil }
                out.append((field, .bytes(Array(b[at..<(at + Int(n))]))))
                at += Int(n)
            default: return nil
            }
        }
        return out
    }
}

/// One value of a summary: a scalar, an encoded image or a histogram.
public enum SummaryValue: Sendable, Equatable {
    case scalar(tag: String, value: Float)
    /// PNG bytes of an image `width` x `height` with `channels` (1 gray, 3 RGB, 4 RGBA).
    case image(tag: String, width: Int, height: Int, channels: Int, png: [UInt8])
    case histogram(tag: String, Histogram)

    public var tag: String {
        switch self {
        case let .scalar(tag, _), let .image(tag, _, _, _, _), let .histogram(tag, _): return tag
        }
    }

    /// The encoded `Summary.Value` (tag = 1, simple_value = 2, image = 4, histo = 5).
    var encoded: [UInt8] {
        var w = ProtoWriter()
        w.string(1, tag)
        switch self {
        case let .scalar(_, v):
            w.float(2, v)
        case let .image(_, width, height, channels, png):
            // Summary.Image: height = 1, width = 2, colorspace = 3, encoded_image_string = 4.
            var im = ProtoWriter()
            im.int(1, Int64(height)); im.int(2, Int64(width)); im.int(3, Int64(channels)); im.data(4, png)
            w.data(4, im.bytes)
        case let .histogram(_, h):
            w.data(5, h.encoded)
        }
        return w.bytes
    }
}

/// A histogram in TensorBoard's `HistogramProto` form: bucket i counts the values in
/// (limit[i-1], limit[i]].
public struct Histogram: Sendable, Equatable {
    public var min = 0.0, max = 0.0, count = 0.0, sum = 0.0, sumOfSquares = 0.0
    public var bucketLimits: [Double] = []
    public var buckets: [Double] = []

    /// `values` in `bucketCount` equal-width buckets between their minimum and maximum
    /// (non-finite values are left out).
    public init(_ values: [Float], bucketCount: Int = 30) {
        self.init(parts: [values], bucketCount: bucketCount)
    }

    /// The values of all `parts` (a network's parameter tensors) without joining them.
    public init(parts: [[Float]], bucketCount: Int = 30) {
        var lo = Float.infinity, hi = -Float.infinity, n = 0
        for part in parts { for v in part where v.isFinite { lo = Swift.min(lo, v); hi = Swift.max(hi, v); n += 1 } }
        guard n > 0 else { return }
        min = Double(lo); max = Double(hi); count = Double(n)
        let k = Swift.max(1, bucketCount)
        let width = (max - min) / Double(k)
        bucketLimits = width > 0 ? (1...k).map { min + width * Double($0) } : [max]
        bucketLimits[bucketLimits.count - 1] = max
        buckets = [Double](repeating: 0, count: bucketLimits.count)
        for part in parts {
            for v in part where v.isFinite {
                let d = Double(v)
                sum += d; sumOfSquares += d * d
                let i = width > 0 ? Swift.min(bucketLimits.count - 1, Swift.max(0, Int(((d - min) / width).rounded(.up)) - 1)) : 0
                buckets[i] += 1
            }
        }
    }

    /// min = 1, max = 2, num = 3, sum = 4, sum_squares = 5, bucket_limit = 6, bucket = 7.
    var encoded: [UInt8] {
        var w = ProtoWriter()
        w.double(1, min); w.double(2, max); w.double(3, count); w.double(4, sum); w.double(5, sumOfSquares)
        w.doubles(6, bucketLimits); w.doubles(7, buckets)
        return w.bytes
    }
}

/// A TensorBoard `Event`: wall_time = 1, step = 2, file_version = 3, summary = 5
/// (Summary: repeated Value value = 1).
public struct Event: Sendable, Equatable {
    public var wallTime: Double
    public var step: Int
    public var fileVersion: String?
    public var values: [SummaryValue]

    public init(wallTime: Double, step: Int, fileVersion: String? = nil, values: [SummaryValue] = []) {
        self.wallTime = wallTime; self.step = step; self.fileVersion = fileVersion; self.values = values
    }

    public var encoded: [UInt8] {
        var w = ProtoWriter()
        w.double(1, wallTime)
        if step != 0 { w.int(2, Int64(step)) }
        if let fileVersion { w.string(3, fileVersion) }
        if !values.isEmpty {
            var summary = ProtoWriter()
            for v in values { summary.data(1, v.encoded) }
            w.data(5, summary.bytes)
        }
        return w.bytes
    }

    /// Decodes an event's wall time, step, file version and scalar values (images and
    /// histograms are kept as empty placeholders with their tags: enough to count them).
    public init?(decoding bytes: [UInt8]) {
        guard let fields = ProtoReader.fields(bytes) else { return nil }
        wallTime = 0; step = 0; fileVersion = nil; values = []
        for (field, value) in fields {
            switch (field, value) {
            case let (1, .fixed64(v)): wallTime = Double(bitPattern: v)
            case let (2, .varint(v)): step = Int(Int64(bitPattern: v))
            case let (3, .bytes(b)): fileVersion = String(decoding: b, as: UTF8.self)
            case let (5, .bytes(b)):
                guard let summary = ProtoReader.fields(b) else { return nil }
                for case let (1, .bytes(vb)) in summary {
                    guard let vf = ProtoReader.fields(vb) else { return nil }
                    var tag = ""
                    var make: ((String) -> SummaryValue)?
                    for (f, v) in vf {
                        switch (f, v) {
                        case let (1, .bytes(t)): tag = String(decoding: t, as: UTF8.self)
                        case let (2, .fixed32(x)): make = { .scalar(tag: $0, value: Float(bitPattern: x)) }
                        case (4, .bytes): make = { .image(tag: $0, width: 0, height: 0, channels: 0, png: []) }
                        case (5, .bytes): make = { .histogram(tag: $0, Histogram([])) }
                        default: break
                        }
                    }
                    if let make { values.append(make(tag)) }
                }
            default: break
            }
        }
    }
}

/// An events file being written: `events.out.tfevents.<seconds>.<host>` in a folder, the
/// file-version event first. Each `write` appends whole records.
public final class EventFileWriter {
    public let path: String
    private let handle: FileHandle

    /// Creates a new events file in `folder` (creating the folder); a name already taken
    /// (two files in one second) gets a `.N` suffix.
    public init(folder: String, wallTime: Double = Date().timeIntervalSince1970) throws {
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw EngineError("cannot create '\(folder)': \(error.localizedDescription)")
        }
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
        let base = folder + "/events.out.tfevents.\(Int(wallTime)).\(host.isEmpty ? "localhost" : host)"
        var candidate = base, n = 0
        while FileManager.default.fileExists(atPath: candidate) { n += 1; candidate = base + ".\(n)" }
        path = candidate
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let h = FileHandle(forWritingAtPath: path) else {
            throw EngineError("cannot create '\(path)'")
        }
        handle = h
        try write([Event(wallTime: wallTime, step: 0, fileVersion: "brain.Event:2")])
    }

    deinit { try? handle.close() }

    public func write(_ events: [Event]) throws {
        var bytes: [UInt8] = []
        for e in events { bytes += TFRecord.frame(e.encoded) }
        do { try handle.write(contentsOf: Data(bytes)) } catch {
            throw EngineError("cannot write '\(path)': \(error.localizedDescription)")
        }
    }

    /// The events of the file at `path`, in order (a last record cut short is left out).
    public static func read(_ path: String) throws -> [Event] {
        guard let data = FileManager.default.contents(atPath: path) else { throw EngineError("cannot read '\(path)'") }
        return try TFRecord.records(Array(data), name: path).records.enumerated().map { i, r in
            guard let e = Event(decoding: r) else { throw EngineError("'\(path)': record \(i + 1) is not an Event") }
            return e
        }
    }
}
