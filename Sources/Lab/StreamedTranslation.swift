// Translating TIFF images too large to hold in memory (`aggan translate` of a 10,000 x
// 10,000 16-bit image): read a row of tiles' band, translate its tiles, write the
// finished rows, so memory follows the tile size and the image's width, not its area.
// The result is bit-identical to the in-memory path (`ImageTranslator.translate`).

import Imaging
import Tensor
import TrainingEngine

/// What `ImageTranslator.run` reports for each file it has written.
public struct TranslationSummary: Sendable {
    /// Tiles used for the last plane (1 when translated whole).
    public let tiles: Int
    /// What was done to the input's channels to fit the model.
    public let conversion: ChannelConversion
    /// Whether the file was read and written band by band (`ImageTranslator.streamedReader`).
    public let streamed: Bool
}

/// What `ImageTranslator.translateStreamed` tells its `trace`: the rows it holds.
public enum StreamedRows: Sendable, Equatable {
    /// Input rows `rows` of plane `plane` were read (one row of tiles' band).
    case read(plane: Int, rows: Range<Int>)
    /// Finished rows `rows` of plane `plane` were handed to the writer.
    case written(plane: Int, rows: Range<Int>)
}

extension ImageTranslator {
    /// The reader that translates `item` band by band, or nil when it is translated in
    /// memory. Streamed: a TIFF input written as a TIFF whose planes are tiled
    /// (`isTiled`: more than `tiling.maxPixels` pixels) by a model of scale 1. PNG
    /// inputs or outputs, images translated whole and rescaled models (the resizing
    /// takes the whole image) go through memory.
    public func streamedReader(for item: TranslationPlan.Item, read: ReadOptions) throws -> TIFFBandReader? {
        try streamedReader(input: item.input, format: item.format, read: read)
    }

    /// The same for an input path and the output's format.
    func streamedReader(input: String, format: ImageFileKind, read: ReadOptions) throws -> TIFFBandReader? {
        try Self.streamedReader(input: input, format: format, read: read, scale: scale, tiling: tiling)
    }

    static func streamedReader(input: String, format: ImageFileKind, read: ReadOptions, scale: Double,
                               tiling: TilingOptions) throws -> TIFFBandReader? {
        guard format == .tiff, ImageFileKind(path: input) == .tiff, scale == 1 else { return nil }
        let reader = try TIFFBandReader(path: input, options: read)
        return tiling.tiles(width: reader.width, height: reader.height) ? reader : nil
    }

    /// Translates every plane of `reader` in tiles and writes the result to `output` (and
    /// the attention maps to `attention`) as `TIFFSource.write` would, a band of rows at a
    /// time: the file's bytes are those of the in-memory path. Memory holds one row of
    /// tiles of the input (its band becomes the tensor without a copy) and of the sums
    /// (about `tileSize` x width x (2 + 2 channels) floats), the finished rows on their
    /// way to the file (`emittedRows` at a time) and the network's activations for one
    /// tile; the file is read without a memory map, and percentiles come from a histogram
    /// pass over it first. Files appear atomically at the end.
    ///
    /// `trace`, for tests, hears of every band read and every group of finished rows
    /// handed to the writer (at most `emittedRows` at a time).
    ///
    /// - Throws: `ImagingError` or `InferenceError` naming the file; nothing is left at
    ///   `output` or `attention` for a file that fails.
    public func translateStreamed(_ reader: TIFFBandReader, to output: String, attention: String? = nil,
                                  trace: ((StreamedRows) -> Void)? = nil) throws -> TranslationSummary {
        try validateSettings()
        let source = try reader.source()
        let c = model.channels, w = reader.width, h = reader.height
        var conversion = ChannelConversion.none
        var tiles = 0
        func translatePlanes(_ out: (Int, ArraySlice<Float>) throws -> Void,
                             _ maps: (Int, ArraySlice<Float>) throws -> Void) throws {
            for plane in 0..<reader.planeCount {
                tiles = try Tensor.withoutGrad {
                    try tiledRows(height: h, width: w, channels: c, generated: false, band: { rows in
                        let image = try reader.band(plane: plane, rows: rows)
                        conversion = try image.conversion(toChannels: c)
                        trace?(.read(plane: plane, rows: rows))
                        // Handed over: the band becomes the tensor without a copy.
                        return (try (consume image).toTensor(channels: c), rows.lowerBound)
                    }, emit: { band in
                        trace?(.written(plane: plane, rows: band.rows))
                        // TIFF outputs take 16-bit levels, as in `run`; the source's type is restored on writing.
                        try out(band.rows.count, PixelMapping.samples(band.composite[...], bitDepth: 16)[...])
                        try maps(band.rows.count, band.attention[...])
                    })
                }
            }
        }
        do {
            try source.stream(to: output, width: w, height: h, channels: c) { out in
                if let attention {
                    try source.attention.stream(to: attention, width: w, height: h, channels: 1) { maps in
                        try translatePlanes(out, maps)
                    }
                } else {
                    try translatePlanes(out) { _, _ in }
                }
            }
        } catch let error as ImagingError {
            throw error
        } catch {
            throw InferenceError("cannot translate '\(reader.path)': \(error)")
        }
        return TranslationSummary(tiles: tiles, conversion: conversion, streamed: true)
    }
}
