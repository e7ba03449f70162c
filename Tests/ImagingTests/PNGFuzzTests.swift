import Basics
import Foundation
import XCTest
import Imaging

/// Damaged PNGs with fixed seeds: every mutant decodes or is refused with one line that
/// names it; none crashes. Decoding only, from memory (the name is what errors cite).
final class PNGFuzzTests: XCTestCase {
    /// Valid files to mutate: libpng's own output (real deflate streams) in gray 8-bit,
    /// RGB 16-bit, and a hand-made palette image with transparency.
    func seeds() throws -> [[UInt8]] {
        let gray = try makeImage(width: 24, height: 20, channels: 1) { _, y, x in Float((x * 7 + y * 13) % 256) / 255 }
        let rgb = try makeImage(width: 9, height: 7, channels: 3, bitDepth: 16) { c, y, x in Float((c * 5000 + x * 911 + y * 97) % 65536) / 65535 }
        let palette = HandPNG.encode(width: 6, height: 5, bitDepth: 4, colorType: HandPNG.palette, samples: (0..<30).map { $0 % 3 },
                                     palette: [0, 0, 0, 128, 64, 32, 255, 255, 255], transparency: [0, 200])
        return [try gray.pngData(), try rgb.pngData(), palette]
    }

    /// Recomputes the CRC of every chunk whose length fits, so the mutation reaches the
    /// parser and the inflater instead of stopping at the checksum.
    static func fixCRCs(_ png: inout [UInt8]) {
        var at = 8
        while at + 12 <= png.count {
            let length = png[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) }
            guard length <= png.count - at - 12 else { return }
            let crc = HandPNG.crc32(Array(png[(at + 4)..<(at + 8 + length)]))
            for i in 0..<4 { png[at + 8 + length + i] = UInt8((crc >> (24 - 8 * UInt32(i))) & 255) }
            at += 12 + length
        }
    }

    static func mutate(_ seed: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var png = seed
        func position() -> Int { rng.nextInt(below: max(1, png.count)) }
        switch rng.nextInt(below: 6) {
        case 0, 1:  // a few flipped bits; half the time with the checksums made right
            for _ in 0...rng.nextInt(below: 4) { png[position()] ^= UInt8(1 << rng.nextInt(below: 8)) }
            if rng.nextInt(below: 2) == 0 { fixCRCs(&png) }
        case 2:  // truncated
            png = Array(png.prefix(position()))
        case 3:  // random bytes inserted
            let bytes = (0...rng.nextInt(below: 16)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            png.insert(contentsOf: bytes, at: position())
        case 4:  // a chunk length (or any 4 bytes) overwritten, checksums made right
            let at = min(position(), png.count - 4)
            for i in 0..<4 { png[at + i] = UInt8(truncatingIfNeeded: rng.next()) }
            fixCRCs(&png)
        default:  // a range cut out, checksums made right
            let from = position(), to = min(png.count, from + 1 + rng.nextInt(below: 64))
            png.removeSubrange(from..<to)
            fixCRCs(&png)
        }
        return png
    }

    func testAThousandDamagedPNGs() throws {
        var rng = SplitMix64(seed: 0xF022)
        let seeds = try seeds()
        var refused = 0, decoded = 0
        for i in 0..<1200 {
            let name = "mutant-\(i).png"
            let bytes = Self.mutate(seeds[i % seeds.count], &rng)
            do {
                let image = try Image(pngData: bytes, name: name)
                XCTAssertGreaterThan(image.width * image.height, 0)
                decoded += 1
            } catch {
                let text = "\(error)"
                XCTAssertTrue(text.contains(name), "\(name): the error does not name the file: \(text)")
                XCTAssertFalse(text.contains("\n"), "\(name): more than one line: \(text)")
                refused += 1
            }
        }
        print("PNG fuzz: 1200 mutants, \(refused) refused with a one-line error naming the file, \(decoded) decoded")
        XCTAssertEqual(refused + decoded, 1200)
        XCTAssertGreaterThan(refused, 900, "the mutations should break most files (decoded \(decoded))")
    }
}
