import Basics
import Foundation

/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON
/// header {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}, then the
/// raw little-endian data. Reading checks every offset and size before touching data;
/// writing goes to a temporary file in the same folder, then renames it into place.
public enum Safetensors {
    public enum DType: String, Sendable {
        case f32 = "F32", f16 = "F16", i64 = "I64", u8 = "U8"
        var size: Int { switch self { case .f32: 4; case .f16: 2; case .i64: 8; case .u8: 1 } }
    }

    /// One stored tensor: dtype, shape and its raw bytes.
    public struct Entry: Sendable {
        public var dtype: DType
        public var shape: [Int]
        public var bytes: Data

        public init(dtype: DType, shape: [Int], bytes: Data) { self.dtype = dtype; self.shape = shape; self.bytes = bytes }
        public init(_ values: [Float], shape: [Int]) {
            self.init(dtype: .f32, shape: shape, bytes: values.withUnsafeBufferPointer { Data(buffer: $0) })
        }

        /// The values as float32 (F16 is widened); nil for other dtypes.
        public var floats: [Float]? {
            switch dtype {
            case .f32:
                return bytes.withUnsafeBytes { raw in
                    let n = raw.count / 4
                    // The file is little-endian, as is every host aggan runs on: one copy.
                    return [Float](unsafeUninitializedCapacity: n) { out, count in
                        if n > 0 { UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<(n * 4)])) }
                        if UInt32(littleEndian: 1) != 1 { for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndian: out[i].bitPattern)) } }
                        count = n
                    }
                }
            case .f16:
                return bytes.withUnsafeBytes { raw in
                    (0..<raw.count / 2).map { Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)))) }
                }
            default:
                return nil
            }
        }
    }

    public struct File: Sendable {
        public var tensors: [String: Entry]
        public var metadata: [String: String]
        public init(tensors: [String: Entry] = [:], metadata: [String: String] = [:]) {
            self.tensors = tensors; self.metadata = metadata
        }
    }

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let path: String, reason: String, verb: String
        public init(path: String, reason: String, verb: String = "read") { self.path = path; self.reason = reason; self.verb = verb }
        public var description: String { "cannot \(verb) '\(path)': \(reason)" }
    }

    public static func read(_ path: String) throws -> File {
        let url = URL(fileURLWithPath: path)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw Failure(path: path, reason: "no such file") }
        guard !isDir.boolValue else { throw Failure(path: path, reason: "is a directory") }
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch { throw Failure(path: path, reason: "\(error.localizedDescription)") }
        return try parse(data, path: path)
    }

    public static func parse(_ data: Data, path: String) throws -> File {
        func fail(_ r: String) -> Failure { Failure(path: path, reason: r) }
        guard data.count >= 8 else { throw fail("not a safetensors file (\(data.count) bytes, too short for a header)") }
        let n = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard n >= 2, n <= UInt64(data.count - 8), n < 100_000_000 else {
            throw fail("not a safetensors file or truncated (header length \(n), file \(data.count) bytes)")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(n)))
        guard let json = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw fail("not a safetensors file (the header is not a JSON object)")
        }
        let base = 8 + Int(n)
        var file = File()
        for (name, value) in json {
            if name == "__metadata__" {
                guard let meta = value as? [String: String] else { throw fail("__metadata__ is not a map of strings") }
                file.metadata = meta
                continue
            }
            guard let info = value as? [String: Any], let dt = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw fail("tensor '\(name)' has a malformed header entry")
            }
            guard let dtype = DType(rawValue: dt) else { throw fail("tensor '\(name)' has unsupported dtype \(dt)") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("tensor '\(name)' has a negative dimension \(shape)") }
            let count = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).partialValue }
            let (b, e) = (offsets[0], offsets[1])
            guard b >= 0, e >= b, base + e <= data.count else {
                throw fail("truncated: tensor '\(name)' needs bytes \(b)..<\(e) of data, the file has \(data.count - base)")
            }
            guard e - b == count * dtype.size else {
                throw fail("tensor '\(name)' of shape \(shape) \(dt) needs \(count * dtype.size) bytes, has \(e - b)")
            }
            file.tensors[name] = Entry(dtype: dtype, shape: shape, bytes: data.subdata(in: (base + b)..<(base + e)))
        }
        return file
    }

    /// Serialises `file`; tensors are laid out in name order.
    public static func serialize(_ file: File) throws -> Data {
        var header: [String: Any] = [:]
        if !file.metadata.isEmpty { header["__metadata__"] = file.metadata }
        var offset = 0
        let names = file.tensors.keys.sorted()
        for name in names {
            let e = file.tensors[name]!
            header[name] = ["dtype": e.dtype.rawValue, "shape": e.shape, "data_offsets": [offset, offset + e.bytes.count]] as [String: Any]
            offset += e.bytes.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces to a multiple of 8 so the data is aligned.
        while (json.count % 8) != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names { out.append(file.tensors[name]!.bytes) }
        return out
    }

    /// Writes atomically: a temporary file beside `path`, flushed, then renamed over it.
    public static func write(_ file: File, to path: String) throws {
        let bytes = try serialize(file)
        do { try AtomicFile.write(bytes, to: path) } catch {
            throw Failure(path: path, reason: error.reason, verb: "write")
        }
    }
}

