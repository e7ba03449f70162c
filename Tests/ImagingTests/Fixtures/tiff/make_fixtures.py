#!/usr/bin/env python3
"""Writes the TIFF fixtures of ImagingTests with tifffile (another writer than aggan's).

Run from this folder: `python3 make_fixtures.py`. Needs numpy and tifffile; without them
it prints why and exits 0 (the committed files stay). The pixel values follow formulas
that TIFFFixtureTests recomputes in Swift, so the tests need no Python.
"""
import sys

try:
    import numpy as np
    import tifffile
except ImportError as error:  # pragma: no cover
    print(f"skipped: {error} (pip install numpy tifffile)")
    sys.exit(0)

W, H = 19, 9  # not multiples of 16: tiled files have partial tiles


def values(dtype, pages, samples):
    """Stored values [page, sample, y, x] as TIFFFixtureTests.expected computes them."""
    p, s, y, x = np.meshgrid(np.arange(pages), np.arange(samples), np.arange(H), np.arange(W), indexing="ij")
    if dtype == "uint8":
        return ((x * 7 + y * 13 + s * 50 + p * 31) % 256).astype(np.uint8)
    if dtype == "uint16":
        return ((x * 2039 + y * 4093 + s * 10007 + p * 3001) % 65536).astype(np.uint16)
    v = ((x * 7 + y * 13 + s * 50 + p * 31) % 1000).astype(np.float32)
    return v / np.float32(7) - np.float32(40)


def kinds():
    """type x samples x compression; layout and byte order alternate so each occurs."""
    i = 0
    for dtype in ("uint8", "uint16", "float32"):
        for samples in (1, 3):
            for compression in ("none", "lzw", "deflate"):
                tiled = i % 2 == 1
                big = (i // 2) % 2 == 1
                yield dtype, samples, compression, tiled, big
                i += 1


def main():
    for dtype, samples, compression, tiled, big in kinds():
        pages = 1 if compression == "none" else 2
        data = values(dtype, pages, samples)
        if samples == 3:
            data = np.moveaxis(data, 1, -1)  # pages of (y, x, rgb), contiguous
        else:
            data = data[:, 0]
        name = f"{dtype}-{samples}-{compression}-{'tiles' if tiled else 'strips'}-{'be' if big else 'le'}.tif"
        with tifffile.TiffWriter(name, byteorder=">" if big else "<") as tif:
            for page in data:
                tif.write(page, photometric="rgb" if samples == 3 else "minisblack",
                          compression=None if compression == "none" else compression,
                          tile=(16, 16) if tiled else None, rowsperstrip=None if tiled else 5,
                          metadata=None)
    # RGB stored as separate planes.
    planar = values("uint16", 1, 3)[0]
    tifffile.imwrite("uint16-3-planar.tif", planar, photometric="rgb", planarconfig="separate", metadata=None)
    # BigTIFF, gray, 2 pages (no axes stated: readers must be told).
    tifffile.imwrite("uint16-1-bigtiff.tif", values("uint16", 2, 1)[:, 0], bigtiff=True, metadata=None,
                     compression="zlib")
    # OME-TIFF, 3 channels (CYX) with names and a pixel size.
    tifffile.imwrite("ome-cyx.ome.tif", values("uint16", 3, 1)[:, 0], compression="zlib", metadata={
        "axes": "CYX", "PhysicalSizeX": 0.1241, "PhysicalSizeY": 0.1241,
        "Channel": {"Name": ["AF647", "AF568", "DAPI"]}})
    # OME-TIFF, 2 channels x 3 time points (pages: T fastest, as XYTCZ).
    tifffile.imwrite("ome-ctyx.ome.tif", values("uint16", 6, 1)[:, 0].reshape(2, 3, H, W), metadata={
        "axes": "CTYX", "PhysicalSizeX": 0.619, "PhysicalSizeY": 0.619})
    # ImageJ hyperstack: 2 time points x 2 channels (pages: C fastest).
    tifffile.imwrite("imagej-tcyx.tif", values("uint16", 4, 1)[:, 0].reshape(2, 2, H, W), imagej=True,
                     metadata={"axes": "TCYX"})
    # Unsupported kinds.
    tifffile.imwrite("int16.tif", values("uint16", 1, 1)[0, 0].astype(np.int16), metadata=None)
    tifffile.imwrite("float64.tif", values("float32", 1, 1)[0, 0].astype(np.float64), metadata=None)
    tifffile.imwrite("complex64.tif", values("float32", 1, 1)[0, 0].astype(np.complex64), metadata=None)
    print("wrote the fixtures")


if __name__ == "__main__":
    main()
