// PNG files through libpng's simplified `png_image` API (the classic API reports errors
// with longjmp, which Swift cannot survive). This is the only file that imports CPNG.

import Basics
import CPNG
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Image {
    /// Reads a PNG file: gray, gray + alpha, RGB, RGBA or palette, 1 to 16 bits.
    ///
    /// - Samples are the stored values divided by 255 (files of 1 to 8 bits, low depths
    ///   scaled up by libpng) or by 65535 (16-bit files), exactly: colour-space tags (gAMA,
    ///   sRGB, iCCP, cHRM) are ignored, so no gamma conversion ever changes a value.
    /// - Alpha is dropped, not composited. For 16-bit files with alpha, libpng hands back
    ///   premultiplied values, which are divided back (exact where alpha is opaque).
    /// - Palette images become RGB; `bitDepth` is 16 for 16-bit files, else 8.
    ///
    /// - Throws: `ImagingError` naming the file: missing, a directory, empty, not a PNG
    ///   (with its first 4 bytes), corrupt (libpng's message), or larger than
    ///   `Image.maxPixelCount` (checked from the header before allocating).
    public init(pngFile path: String) throws {
        let bytes = try readWholeFile(path)
        try self.init(pngData: bytes, name: path)
    }

    /// Decodes PNG bytes (see `init(pngFile:)`); `name` is the file named in errors.
    public init(pngData bytes: [UInt8], name: String = "<memory>") throws {
        guard !bytes.isEmpty else { throw ImagingError.read(name, .emptyFile, "empty file (0 bytes)") }
        guard bytes.starts(with: pngSignature) else {
            let head = bytes.prefix(4).map { hex2($0) }.joined()
            throw ImagingError.read(name, .notPNG, "not a PNG file (starts with 0x\(head))")
        }
        let data = removingChunks(colourSpaceChunks, from: bytes)
        self = try data.withUnsafeBytes { raw in try decode(raw, name: name) }
    }

    /// The PNG encoding of this image: 8-bit (default) or 16-bit gray or RGB.
    ///
    /// Samples are clamped to [0, 1] and rounded to the nearest level. 8-bit files carry
    /// libpng's sRGB tag; 16-bit files carry no colour-space tag, so other tools read the
    /// stored values as they are.
    public func pngData(bitDepth depth: Int = 8) throws -> [UInt8] {
        guard depth == 8 || depth == 16 else {
            throw ImagingError.invalid("PNG", "bit depth must be 8 or 16, got \(depth)")
        }
        var image = png_image()
        image.version = cpng_image_version()
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = (channels == 3 ? cpng_format_flag_color() : 0)
            | (depth == 16 ? cpng_format_flag_linear() : 0)
        defer { png_image_free(&image) }
        var capacity = cpng_image_png_size_max(&image)
        var out = [UInt8](repeating: 0, count: Int(capacity))
        let ok: Int32
        if depth == 16 {
            let samples: [UInt16] = interleaved(scale: 65535)
            ok = out.withUnsafeMutableBytes { o in
                samples.withUnsafeBytes { s in
                    png_image_write_to_memory(&image, o.baseAddress, &capacity, 0, s.baseAddress, 0, nil)
                }
            }
        } else {
            let samples: [UInt8] = interleaved(scale: 255)
            ok = out.withUnsafeMutableBytes { o in
                samples.withUnsafeBytes { s in
                    png_image_write_to_memory(&image, o.baseAddress, &capacity, 0, s.baseAddress, 0, nil)
                }
            }
        }
        guard ok != 0, Int(capacity) <= out.count else {
            throw ImagingError(.writeFailed, "libpng could not encode a \(width) x \(height) image: \(message(&image))")
        }
        out.removeSubrange(Int(capacity)...)
        return depth == 16 ? removingChunks(colourSpaceChunks, from: out) : out
    }

    /// Writes this image as a PNG file (see `pngData(bitDepth:)`).
    ///
    /// The bytes go to a temporary file in the same folder that is then renamed over
    /// `path`, so a reader never sees a partial file and a failed write leaves nothing.
    public func writePNG(to path: String, bitDepth depth: Int = 8) throws {
        let bytes: [UInt8]
        do {
            bytes = try pngData(bitDepth: depth)
        } catch let error as ImagingError {
            throw ImagingError.write(path, error.description)
        }
        try writeFileAtomically(bytes, to: path)
    }

    /// Planar floats to interleaved integers, clamped and rounded.
    private func interleaved<T: FixedWidthInteger>(scale: Float) -> [T] {
        let n = planeSize
        var out = [T](repeating: 0, count: n * channels)
        pixels.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                for c in 0..<channels {
                    for i in 0..<n {
                        let v = p[c * n + i]
                        let clamped = v.isNaN ? 0 : min(max(v, 0), 1)
                        o[i * channels + c] = T((clamped * scale).rounded())
                    }
                }
            }
        }
        return out
    }
}

// MARK: - Decoding

private let pngSignature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]

/// Chunks that would make libpng convert values between gamma encodings.
private let colourSpaceChunks: Set<String> = ["gAMA", "sRGB", "iCCP", "cHRM"]

func hex2(_ b: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
}

/// libpng's failure message for `image` as the reason of a read error.
private func readFailure(_ image: inout png_image) -> String {
    let text = message(&image)
    return text.contains("end of data") ? "truncated PNG (libpng: \(text))" : "bad PNG: \(text)"
}

/// The text of libpng's last message for `image`.
private func message(_ image: inout png_image) -> String {
    let text = withUnsafeBytes(of: &image.message) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
    return text.isEmpty ? "unknown libpng error" : text
}

private func decode(_ raw: UnsafeRawBufferPointer, name: String) throws -> Image {
    var image = png_image()
    image.version = cpng_image_version()
    defer { png_image_free(&image) }
    guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else {
        throw ImagingError.read(name, .corruptPNG, readFailure(&image))
    }
    let width = Int(image.width), height = Int(image.height)
    let pixels = width.multipliedReportingOverflow(by: height)
    guard width > 0, height > 0, !pixels.overflow, pixels.partialValue <= Image.maxPixelCount else {
        throw ImagingError.read(name, .tooLarge,
            "image is \(width) x \(height) pixels, more than the limit of \(Image.maxPixelCount)")
    }
    let colour = image.format & cpng_format_flag_color() != 0
    let alpha = image.format & cpng_format_flag_alpha() != 0
    let sixteen = image.format & cpng_format_flag_linear() != 0
    // Keep the file's layout; drop the colour-map flag (palettes expand to RGB(A)).
    image.format = (colour ? cpng_format_flag_color() : 0) | (alpha ? cpng_format_flag_alpha() : 0)
        | (sixteen ? cpng_format_flag_linear() : 0)
    let channels = colour ? 3 : 1
    let stride = channels + (alpha ? 1 : 0)
    let count = width * height
    var out = [Float](repeating: 0, count: count * channels)
    if sixteen {
        var buffer = [UInt16](repeating: 0, count: count * stride)
        guard png_image_finish_read(&image, nil, &buffer, 0, nil) != 0 else {
            throw ImagingError.read(name, .corruptPNG, readFailure(&image))
        }
        deinterleave(buffer, into: &out, count: count, channels: channels, alpha: alpha, maxValue: 65535,
                     premultiplied: true)
    } else {
        var buffer = [UInt8](repeating: 0, count: count * stride)
        guard png_image_finish_read(&image, nil, &buffer, 0, nil) != 0 else {
            throw ImagingError.read(name, .corruptPNG, readFailure(&image))
        }
        deinterleave(buffer, into: &out, count: count, channels: channels, alpha: alpha, maxValue: 255,
                     premultiplied: false)
    }
    return Image(unchecked: width, height, channels, out, sixteen ? 16 : 8)
}

/// Interleaved samples (with an optional trailing alpha) to planar floats in [0, 1].
private func deinterleave<T: FixedWidthInteger>(_ buffer: [T], into out: inout [Float], count: Int,
                                                channels: Int, alpha: Bool, maxValue: Float,
                                                premultiplied: Bool) {
    let stride = channels + (alpha ? 1 : 0)
    buffer.withUnsafeBufferPointer { b in
        out.withUnsafeMutableBufferPointer { o in
            for i in 0..<count {
                if alpha && premultiplied {
                    // value = stored * alpha / max: divide back, round to the nearest level.
                    let a = Float(b[i * stride + channels])
                    for c in 0..<channels {
                        let level = a > 0 ? min((Float(b[i * stride + c]) * maxValue / a).rounded(), maxValue) : 0
                        o[c * count + i] = level / maxValue
                    }
                } else {
                    for c in 0..<channels { o[c * count + i] = Float(b[i * stride + c]) / maxValue }
                }
            }
        }
    }
}

/// `bytes` without the chunks whose type is in `types` that come before the first IDAT.
/// Bytes that do not parse as chunks are kept as they are, for libpng to judge.
private func removingChunks(_ types: Set<String>, from bytes: [UInt8]) -> [UInt8] {
    var removed: [Range<Int>] = []
    var offset = pngSignature.count
    while offset + 12 <= bytes.count {
        let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
        let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
        let end = offset + 12 + length
        if type == "IDAT" || end > bytes.count { break }
        if types.contains(type) { removed.append(offset..<end) }
        offset = end
    }
    if removed.isEmpty { return bytes }
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var cursor = 0
    for range in removed {
        out.append(contentsOf: bytes[cursor..<range.lowerBound])
        cursor = range.upperBound
    }
    out.append(contentsOf: bytes[cursor...])
    return out
}

// MARK: - Files

/// A file descriptor open for reading on `path` and its size, or an error that names the
/// file: missing, unreadable, a directory. The caller closes it.
func openForReading(_ path: String) throws -> (fd: Int32, size: Int) {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw ImagingError.read(path, errno == ENOENT ? .fileMissing : .readFailed, systemError(errno)) }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
        let code = errno
        close(fd)
        throw ImagingError.read(path, .readFailed, systemError(code))
    }
    if info.st_mode & S_IFMT == S_IFDIR {
        close(fd)
        throw ImagingError.read(path, .isDirectory, "is a directory")
    }
    return (fd, Int(info.st_size))
}

/// The whole content of a regular file, with errors that name it.
func readWholeFile(_ path: String) throws -> [UInt8] {
    let (fd, size) = try openForReading(path)
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: max(size, 0) + 1)
    var used = 0
    while true {
        if used == bytes.count { bytes.append(contentsOf: [UInt8](repeating: 0, count: bytes.count)) }
        let got = bytes.withUnsafeMutableBytes { b in
            b.baseAddress.map { read(fd, $0 + used, b.count - used) } ?? 0
        }
        if got < 0 {
            if errno == EINTR { continue }
            throw ImagingError.read(path, .readFailed, systemError(errno))
        }
        if got == 0 { break }
        used += got
    }
    bytes.removeSubrange(used...)
    if used == 0 { throw ImagingError.read(path, .emptyFile, "empty file (0 bytes)") }
    return bytes
}

/// Writes `bytes` atomically (see `AtomicFile`); errors as `ImagingError.write`.
func writeFileAtomically(_ bytes: [UInt8], to path: String) throws {
    do { try AtomicFile.write(bytes, to: path) } catch { throw ImagingError.write(path, error.reason) }
}

/// `strerror` text for an errno value.
func systemError(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(cString: text).lowercased()
}
