import Basics
import ArgumentParser
import Foundation
import Imaging
import Tensor

struct BenchLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-load",
        abstract: "Time loading a folder of PNG or TIFF files (written first into a temporary folder).")

    @Option(help: "Number of files.") var count: Int = 1000
    @Option(help: "Side of the square images.") var size: Int = 64
    @Option(help: "Channels (1 or 3).") var channels: Int = 1
    @Option(help: "Timed loads.") var rounds: Int = 5
    @Option(help: "File format: png or tiff (deflate, strips).") var format: ImageFileKind = .png
    @Option(help: "Bits per sample, 8 or 16.") var bitDepth: Int = 8

    func run() throws {
        guard count >= 1, size >= 1, channels == 1 || channels == 3, rounds >= 1, bitDepth == 8 || bitDepth == 16 else {
            throw ValidationError("count, size and rounds must be >= 1, channels 1 or 3, bit depth 8 or 16")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aggan-bench-load-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SplitMix64(seed: 1)
        for i in 0..<count {
            // Smooth content with noise, so files compress like real images rather than like constants.
            let px = (0..<(channels * size * size)).map { j -> Float in
                let x = j % size, y = (j / size) % size
                return Float(0.5 + 0.3 * sin(Double(x + i) / 7) * cos(Double(y) / 5) + 0.1 * rng.nextDouble())
            }
            let image = try Image(width: size, height: size, channels: channels, pixels: px)
            let path = dir.appendingPathComponent(String(format: "im%05d", i) + format.fileExtension).path
            switch format {
            case .png: try image.writePNG(to: path, bitDepth: bitDepth)
            case .tiff: try TIFFSource.plain(bitDepth: bitDepth, channels: channels).write([image], to: path)
            }
        }
        var times: [Double] = []
        for _ in 0..<rounds {
            var loaded = 0
            times.append(try milliseconds { loaded = try loadImageFolder(dir.path).count })
            guard loaded == count else { throw ValidationError("loaded \(loaded) of \(count) files") }
        }
        let s = stats(times)
        print("\(count) \(bitDepth)-bit \(format.rawValue.uppercased()) files of \(size)x\(size)x\(channels): "
              + String(format: "median %.1f ms, min %.1f, max %.1f (%d loads, warm cache)", s.median, s.min, s.max, rounds))
    }
}
