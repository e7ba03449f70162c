/// An error of the Imaging module: what went wrong, with the file and the value.
///
/// `description` is a complete sentence for the user, for example
/// `cannot read 'x.png': not a PNG file (starts with 0x3c3f786d)`; `kind` lets code
/// and tests tell the cases apart without parsing the text.
public struct ImagingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The class of failure.
    public enum Kind: String, Sendable, Equatable {
        /// The file or folder does not exist.
        case fileMissing
        /// A file was expected but the path is a directory.
        case isDirectory
        /// The file has 0 bytes.
        case emptyFile
        /// The file does not start with the PNG signature.
        case notPNG
        /// libpng rejected the data (truncated, bad CRC, bad header...).
        case corruptPNG
        /// The file does not start with a TIFF signature.
        case notTIFF
        /// libtiff rejected the data (truncated, wrong offsets, bad header...).
        case corruptTIFF
        /// A valid file of a kind aggan does not read (12-bit or complex samples, a
        /// palette, CMYK, pages of different sizes...), or metadata that does not fit it.
        case unsupported
        /// The axes of a multi-page file are not known, or a channel must be chosen.
        case axesNeeded
        /// The header claims more pixels than `Image.maxPixelCount`.
        case tooLarge
        /// The operating system refused to read (permissions, I/O error).
        case readFailed
        /// Writing or renaming the output failed; no partial file is left behind.
        case writeFailed
        /// An argument or image shape is not valid for the operation.
        case invalidArgument
        /// A folder holds no image the operation needs.
        case noImages
    }

    /// The class of failure.
    public let kind: Kind
    /// The full message.
    public let description: String

    /// An error with a message written by the caller.
    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }

    /// `cannot read 'path': what`.
    static func read(_ path: String, _ kind: Kind, _ what: String) -> ImagingError {
        ImagingError(kind, "cannot read '\(path)': \(what)")
    }

    /// `cannot write 'path': what`.
    static func write(_ path: String, _ what: String) -> ImagingError {
        ImagingError(.writeFailed, "cannot write '\(path)': \(what)")
    }

    /// An invalid argument of `operation`.
    public static func invalid(_ operation: String, _ what: String) -> ImagingError {
        ImagingError(.invalidArgument, "\(operation): \(what)")
    }
}
