#!/usr/bin/env python3
"""Cross-checks aggan's TIFF writer against another reader: tifffile.

Runs the round-trip unit test (TIFFTests.testEveryKindRoundTripsBitExact) with
AGGAN_TIFF_EXPORT set, so the 108 files it writes (3 types x gray/RGB x none/LZW/deflate
x strips/16/32-px tiles x both byte orders, 2 pages each) stay in a temporary folder with
their values, then reads each with tifffile and compares bit for bit: dtype, shape,
compression, tiling, byte order and every value. The other direction (files written by
tifffile, read by aggan) is the unit test itself, on the fixtures of
Tests/ImagingTests/Fixtures/tiff.

Usage: scripts/tiff-crosscheck.py   (from the repository root; needs numpy, tifffile and
imagecodecs for LZW; without them it prints why and exits 0)
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import tifffile
    import imagecodecs  # noqa: F401  (tifffile's LZW decoder)
except ImportError as error:
    print(f"skipped: {error} (pip install numpy tifffile imagecodecs)")
    sys.exit(0)

COMPRESSION = {"none": 1, "lzw": 5, "deflate": 8}
DTYPE = {"uint8": np.uint8, "uint16": np.uint16, "float32": np.float32}


def main():
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, AGGAN_TIFF_EXPORT=folder)
        subprocess.run(["swift", "test", "-j", "1", "--filter", "TIFFTests/testEveryKindRoundTripsBitExact"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        names = sorted(n[:-4] for n in os.listdir(folder) if n.endswith(".tif"))
        failures = 0
        for name in names:
            kind = open(os.path.join(folder, name + ".txt")).read().split()
            dtype, samples, pages, h, w, compression, tile, order = kind
            samples, pages, h, w, tile = int(samples), int(pages), int(h), int(w), int(tile)
            planar = np.fromfile(os.path.join(folder, name + ".f32"), dtype="<f4").reshape(pages, samples, h, w)
            expected = np.moveaxis(planar, 1, -1) if samples == 3 else planar[:, 0]
            expected = expected.astype(DTYPE[dtype])
            with tifffile.TiffFile(os.path.join(folder, name + ".tif")) as tif:
                got = np.stack([page.asarray() for page in tif.pages])
                page = tif.pages[0]
                problems = []
                if got.dtype != expected.dtype or got.shape != expected.shape:
                    problems.append(f"{got.dtype} {got.shape} != {expected.dtype} {expected.shape}")
                elif got.tobytes() != expected.tobytes():
                    problems.append("values differ")
                if int(page.compression) != COMPRESSION[compression]:
                    problems.append(f"compression {int(page.compression)}")
                if (page.tilewidth if page.is_tiled else 0) != tile:
                    problems.append(f"tiles {page.tilewidth}")
                if tif.byteorder != (">" if order == "be" else "<"):
                    problems.append(f"byte order {tif.byteorder}")
            if problems:
                failures += 1
                print(f"{name} ({' '.join(kind)}): " + "; ".join(problems))
        print(f"tifffile read {len(names)} files written by aggan: {len(names) - failures} bit-exact, {failures} not")
        sys.exit(1 if failures or not names else 0)


if __name__ == "__main__":
    main()
