import Basics
import ArgumentParser
import Foundation
import Imaging
import Tensor

struct BenchLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-load",
        abstract: "Time loading a folder of PNG files (written first into a temporary folder).")

    @Option(help: "Number of files.") var count: Int = 1000
    @Option(help: "Side of the square images.") var size: Int = 64
    @Option(help: "Channels (1 or 3).") var channels: Int = 1
    @Option(help: "Timed loads.") var rounds: Int = 5

    func run() throws {
        guard count >= 1, size >= 1, channels == 1 || channels == 3, rounds >= 1 else {
            throw ValidationError("count, size and rounds must be >= 1 and channels 1 or 3")
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
            try Image(width: size, height: size, channels: channels, pixels: px)
                .writePNG(to: dir.appendingPathComponent(String(format: "im%05d.png", i)).path)
        }
        var times: [Double] = []
        for _ in 0..<rounds {
            var loaded = 0
            times.append(try milliseconds { loaded = try loadPNGFolder(dir.path).count })
            guard loaded == count else { throw ValidationError("loaded \(loaded) of \(count) files") }
        }
        let s = stats(times)
        print(String(format: "%d PNGs of %dx%dx%d: median %.1f ms, min %.1f, max %.1f (%d loads, warm cache)",
                      count, size, size, channels, s.median, s.min, s.max, rounds))
    }
}
