// Small datasets and configs for tests that train for real.
import AGGAN
import Foundation
import Imaging
import Basics

/// A tiny dataset of random 40x40 gray PNGs in the CycleGAN layout.
public func makeDataset(in dir: URL, count: Int = 4) throws -> DatasetFolders {
    var rng = SplitMix64(seed: 11)
    for sub in ["trainA", "trainB", "testA", "testB"] {
        let d = dir.appendingPathComponent(sub)
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        for i in 0..<count {
            let px = (0..<(40 * 40)).map { _ in Float(rng.nextDouble()) }
            try Image(width: 40, height: 40, channels: 1, pixels: px).writePNG(to: d.appendingPathComponent("im\(i).png").path)
        }
    }
    return try DatasetFolders(cycleGANRoot: dir.path)
}

public func engineConfig() -> Config {
    var c = Config()
    c.imageSize = 32; c.channels = 1; c.ngf = 4; c.blocks = 1; c.ndf = 4; c.epochs = 5; c.poolSize = 2; c.seed = 5
    return c
}
