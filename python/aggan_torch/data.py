"""Training data as aggan draws it (Sources/TrainingEngine/TrainingData.swift): PNG folders
in the CycleGAN layout, each image read as level / maximum level, converted to the model's
channels and resized by the config's scale; the unpaired sampler; the augmentation
(resize to 286/256 of the crop, random crop, flips, 90-degree turns, native windows of
large images); and the cell prior masks of the attention guide. TIFF files are not read
here (convert them to 16-bit PNG, or continue the run in aggan)."""
from __future__ import annotations

import math
import os
import struct
import zlib

import torch
import torch.nn.functional as F

from .rng import SplitMix64, UnpairedSampler


class DataError(Exception):
    """Unreadable or unsuitable data; the text names the file or folder."""


# ----------------------------------------------------------------------------- PNG

def _unfilter(raw: bytes, width: int, height: int, bpp: int, row_bytes: int) -> bytearray:
    out = bytearray(height * row_bytes)
    prev = bytearray(row_bytes)
    pos = 0
    for y in range(height):
        ftype = raw[pos]
        line = bytearray(raw[pos + 1:pos + 1 + row_bytes])
        pos += 1 + row_bytes
        if ftype == 1:
            for i in range(bpp, row_bytes):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif ftype == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif ftype == 3:
            for i in range(row_bytes):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif ftype == 4:
            for i in range(row_bytes):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        elif ftype != 0:
            raise ValueError(f"bad filter type {ftype} in row {y}")
        out[y * row_bytes:(y + 1) * row_bytes] = line
        prev = line
    return out


def read_png(path: str) -> torch.Tensor:
    """[C, H, W] float32 in [0, 1] (C 1 or 3): stored value / 255 or / 65535, bit depths 1
    to 16 scaled as libpng does, alpha dropped, palettes expanded. Not interlaced."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise DataError(f"cannot read '{path}': {e.strerror}") from None
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise DataError(f"cannot read '{path}': not a PNG file")
    pos, idat, palette, ihdr = 8, [], None, None
    try:
        while pos + 8 <= len(data):
            length, kind = struct.unpack(">I4s", data[pos:pos + 8])
            body = data[pos + 8:pos + 8 + length]
            if len(body) != length:
                raise ValueError("truncated chunk")
            pos += 12 + length
            if kind == b"IHDR":
                ihdr = struct.unpack(">IIBBBBB", body)
            elif kind == b"PLTE":
                palette = body
            elif kind == b"IDAT":
                idat.append(body)
            elif kind == b"IEND":
                break
        if ihdr is None:
            raise ValueError("no IHDR chunk")
        width, height, depth, colour, _, _, interlace = ihdr
        if interlace:
            raise ValueError("interlaced PNG files are not supported here")
        samples = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
        bits = samples * depth
        bpp = max(1, bits // 8)
        row_bytes = (width * bits + 7) // 8
        raw = zlib.decompress(b"".join(idat))
        if len(raw) < height * (row_bytes + 1):
            raise ValueError("truncated image data")
        px = _unfilter(raw, width, height, bpp, row_bytes)
    except (ValueError, KeyError, struct.error, zlib.error) as e:
        raise DataError(f"cannot read '{path}': {e}") from None
    if depth == 16:
        words = struct.unpack(f">{len(px) // 2}H", bytes(px))
        x = torch.tensor(words, dtype=torch.float32).reshape(height, width, samples) / 65535
    elif depth == 8:
        x = torch.frombuffer(bytearray(px), dtype=torch.uint8).to(torch.float32).reshape(height, width, samples)
        if colour == 3:
            x = _expand_palette(x, palette, path)
        else:
            x = x / 255
    else:  # 1, 2, 4 bits: unpack, then as libpng: level * 255 / (2^depth - 1), or a palette index
        rows = torch.frombuffer(bytearray(px), dtype=torch.uint8).reshape(height, row_bytes)
        per = 8 // depth
        shifts = torch.tensor([8 - depth * (i + 1) for i in range(per)], dtype=torch.uint8)
        levels = ((rows.unsqueeze(-1) >> shifts) & ((1 << depth) - 1)).reshape(height, -1)[:, :width]
        x = levels.to(torch.float32).unsqueeze(-1)
        x = _expand_palette(x, palette, path) if colour == 3 else torch.round(x * 255 / ((1 << depth) - 1)) / 255
    x = x.permute(2, 0, 1).contiguous()
    if x.shape[0] in (2, 4):  # alpha dropped
        x = x[:-1]
    return x


def _expand_palette(index: torch.Tensor, palette: bytes | None, path: str) -> torch.Tensor:
    if not palette:
        raise DataError(f"cannot read '{path}': palette image without PLTE")
    table = torch.tensor(list(palette), dtype=torch.float32).reshape(-1, 3) / 255
    i = index[..., 0].long().clamp(max=table.shape[0] - 1)
    return table[i]


# ----------------------------------------------------------------------------- images

def to_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    if x.shape[0] == channels:
        return x
    if channels == 3:
        return x.repeat(3, 1, 1)
    return (0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2]).unsqueeze(0)


def resize(x: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """Bilinear with half-pixel centres, no antialiasing (aggan's `Image.resized`)."""
    if x.shape[2] == width and x.shape[1] == height:
        return x
    return F.interpolate(x.unsqueeze(0), size=(height, width), mode="bilinear", align_corners=False)[0]


def _mirror_index(n: int, radius: int) -> torch.Tensor:
    out = []
    for i in range(-radius, n + radius):
        while i < 0 or i >= n:
            i = -i - 1 if i < 0 else 2 * n - i - 1
        out.append(i)
    return torch.tensor(out)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian, radius int(4 sigma + 0.5), mirrored edges, summed in double."""
    if sigma <= 0:
        return x
    radius = int(4 * sigma + 0.5)
    taps = torch.tensor([math.exp(-0.5 * k * k / (sigma * sigma)) for k in range(-radius, radius + 1)], dtype=torch.float64)
    taps = taps / taps.sum()
    c, h, w = x.shape
    y = x.double()
    cols = y[:, :, _mirror_index(w, radius)].unfold(2, 2 * radius + 1, 1)  # [c, h, w, k]
    y = (cols * taps).sum(-1)
    rows = y[:, _mirror_index(h, radius), :].unfold(1, 2 * radius + 1, 1)  # [c, h, w, k]
    return (rows * taps).sum(-1).float()


def rescaled(x: torch.Tensor, factor: float) -> torch.Tensor:
    if factor == 1:
        return x
    h, w = x.shape[1], x.shape[2]
    nw, nh = max(1, int(math.floor(w * factor + 0.5))), max(1, int(math.floor(h * factor + 0.5)))
    smoothed = gaussian_blur(x, (1 / factor - 1) / 2) if factor < 1 else x
    return resize(smoothed, nw, nh)


# ----------------------------------------------------------------------------- cell prior

HEMATOXYLIN = (1.8748, -0.0658, -0.6009)
BINS = 256
# The sigma of the Gaussian taken as a gray image's local background (feature "contrast").
BACKGROUND = 20.0


def prior_values(x: torch.Tensor, feature: str) -> torch.Tensor:
    """The smoothed feature in [0, 1] per pixel, [H, W] float32: the gray level, the gray
    level above its local background plus 0.5 ("contrast"), or the hematoxylin density."""
    if feature in ("gray", "contrast"):
        plane = x[0:1] if x.shape[0] == 1 else to_channels(x, 1)
        if feature == "contrast":
            plane = torch.clamp(plane - gaussian_blur(plane, BACKGROUND) + 0.5, 0, 1)
    else:
        od = sum(HEMATOXYLIN[c] * -torch.log10(torch.clamp(x[c], min=1.0 / 255)) for c in range(3))
        plane = torch.clamp(od / 2, 0, 1).unsqueeze(0)
    return gaussian_blur(plane, 2.0)[0]


def _otsu(hist: list[float]) -> int:
    total = sum(hist)
    if total <= 0:
        return len(hist) // 2
    sum_all = sum(i * h for i, h in enumerate(hist))
    w0 = s0 = 0.0
    best, best_t = -1.0, len(hist) // 2
    for t in range(len(hist) - 1):
        w0 += hist[t]
        s0 += t * hist[t]
        w1 = total - w0
        if w0 <= 0 or w1 <= 0:
            continue
        m0, m1 = s0 / w0, (sum_all - s0) / w1
        between = w0 * w1 * (m0 - m1) * (m0 - m1)
        if between > best:
            best, best_t = between, t
    return best_t


def _otsu3_upper(hist: list[float]) -> int:
    n = len(hist)
    p, q = [0.0] * (n + 1), [0.0] * (n + 1)
    for i in range(n):
        p[i + 1] = p[i] + hist[i]
        q[i + 1] = q[i] + i * hist[i]

    def term(a, b):
        w = p[b] - p[a]
        return (q[b] - q[a]) ** 2 / w if w > 0 else 0.0

    best, best_t2 = -1.0, n // 2
    for t1 in range(n - 2):
        head = term(0, t1 + 1)
        for t2 in range(t1 + 1, n - 1):
            v = head + term(t1 + 1, t2 + 1) + term(t2 + 1, n)
            if v > best:
                best, best_t2 = v, t2
    return best_t2


def _split(planes: list[torch.Tensor], grays: list[torch.Tensor] | None = None, glass_from: float | None = None):
    """Otsu's split of a domain's feature planes (`prior_values`, one per image;
    Sources/Imaging/CellPrior.swift `split`): (threshold, cells above, fraction of all
    pixels on the cells' side, three-class taken); pixels whose smoothed gray level (`grays`,
    the same images' "gray" values) is at least `glass_from` are left out."""
    hist = torch.zeros(BINS, dtype=torch.float64)
    every = 0
    for k, v in enumerate(planes):
        every += v.numel()
        if glass_from is not None:
            v = v[grays[k] < torch.tensor(glass_from, dtype=torch.float32)]
        bins = torch.clamp((v * BINS).floor(), 0, BINS - 1).long().flatten()
        hist += torch.bincount(bins, minlength=BINS).double()
    hist_l = hist.tolist()
    total = sum(hist_l)
    t = _otsu(hist_l)
    above = sum(hist_l[t + 1:]) / max(total, 1)
    three = min(above, 1 - above) > 0.4
    if three:
        t = _otsu3_upper(hist_l)
        above = sum(hist_l[t + 1:]) / max(total, 1)
    side = (above if above <= 0.5 else 1 - above) * total / max(every, 1)
    return (t + 1) / BINS, above <= 0.5, side, three


class CellPrior:
    """Where the cells probably are (Sources/Imaging/CellPrior.swift): a smoothed nuclear-
    stain feature, Otsu's threshold over the domain, the minority side as the cells; on RGB
    images whose hematoxylin split was tissue against glass, the glass (the bright side of
    the gray level's split) left out."""

    def __init__(self, images: list[torch.Tensor]):
        self.feature = "hematoxylin" if images[0].shape[0] == 3 else "contrast"
        # Each image's feature and gray level, computed once for the splits.
        planes = [prior_values(x, self.feature) for x in images]
        grays = [prior_values(x, "gray") for x in images]
        gray, whole = _split(grays), _split(planes)
        self.glass_from = gray[0] if self.feature == "hematoxylin" and whole[3] else None
        split = whole if self.glass_from is None else _split(planes, grays, self.glass_from)
        self.threshold, self.cells_above, self.cell_fraction, _ = split

    def mask(self, x: torch.Tensor) -> torch.Tensor:
        """[1, 1, H, W] with 1 on the cells' side."""
        v = prior_values(x, self.feature)
        m = (v >= torch.tensor(self.threshold, dtype=torch.float32)) == self.cells_above
        if self.glass_from is not None:
            m = m & (prior_values(x, "gray") < torch.tensor(self.glass_from, dtype=torch.float32))
        return m.to(torch.float32).reshape(1, 1, *v.shape)


# ----------------------------------------------------------------------------- augmentation

class Augmentation:
    """aggan's `Augmentation`: every draw from the given stream, in aggan's order."""

    def __init__(self, crop: int, microscopy: bool):
        self.crop = crop
        self.load = int(math.floor(crop * 286 / 256 + 0.5))
        self.vertical = self.rotate = self.native = microscopy

    def apply(self, x: torch.Tensor, rng: SplitMix64) -> torch.Tensor:
        h, w = x.shape[1], x.shape[2]
        if self.native and w > self.load and h > self.load:
            ox = rng.next_int(w - self.load + 1)
            oy = rng.next_int(h - self.load + 1)
            x = x[:, oy:oy + self.load, ox:ox + self.load]
        x = resize(x, self.load, self.load)
        ox = rng.next_int(self.load - self.crop + 1)
        oy = rng.next_int(self.load - self.crop + 1)
        x = x[:, oy:oy + self.crop, ox:ox + self.crop]
        if rng.next_double() < 0.5:
            x = torch.flip(x, dims=[2])
        if self.vertical and rng.next_double() < 0.5:
            x = torch.flip(x, dims=[1])
        if self.rotate:
            x = torch.rot90(x, rng.next_int(4), dims=[1, 2])
        return x.contiguous()


# ----------------------------------------------------------------------------- folders

IMAGE_ENDINGS = (".png", ".tif", ".tiff")


def list_images(folder: str) -> list[str]:
    if not os.path.isdir(folder):
        raise DataError(f"cannot read '{folder}': no such folder")
    names = sorted((n for n in os.listdir(folder) if not n.startswith(".") and n.lower().endswith(IMAGE_ENDINGS)
                    and os.path.isfile(os.path.join(folder, n))), key=lambda n: n.encode())
    if not names:
        raise DataError(f"cannot read '{folder}': no .png, .tif or .tiff files in the folder")
    tiffs = [n for n in names if not n.lower().endswith(".png")]
    if tiffs:
        raise DataError(f"cannot read '{os.path.join(folder, tiffs[0])}': aggan_torch reads PNG files only "
                        "(convert TIFF files to 16-bit PNG, or continue this run in aggan)")
    return [os.path.join(folder, n) for n in names]


class TrainingData:
    """Both domains loaded, the shared sampler and this rank's augmentation stream.

    Sharding: every step the sampler draws `world` pairs, the same on every rank; rank r
    takes the r-th, so the ranks see different images and together walk aggan's order.
    Rank 0 augments with the checkpoint's `data.rng` stream; rank r > 0 with a stream
    derived from it. The saved state is the sampler and rank 0's stream."""

    def __init__(self, domain_a: str, domain_b: str, config: dict, sampler_json: str, data_rng: int,
                 microscopy: bool = True, rank: int = 0, world: int = 1):
        self.channels = int(config["channels"])
        scale = float(config.get("scale", 1))
        self.images_a = [rescaled(to_channels(read_png(p), self.channels), scale) for p in list_images(domain_a)]
        self.images_b = [rescaled(to_channels(read_png(p), self.channels), scale) for p in list_images(domain_b)]
        try:
            self.sampler = UnpairedSampler.from_json(sampler_json)
        except (ValueError, KeyError, TypeError) as e:
            raise DataError(f"the checkpoint's data sampler state is unreadable ({e})") from None
        if (self.sampler.count_a, self.sampler.count_b) != (len(self.images_a), len(self.images_b)):
            raise DataError(f"the checkpoint was trained on {self.sampler.count_a} + {self.sampler.count_b} images, "
                            f"the data has {len(self.images_a)} + {len(self.images_b)}")
        self.augmentation = Augmentation(int(config["imageSize"]), microscopy)
        self.rank, self.world = rank, world
        seed = data_rng if rank == 0 else SplitMix64(data_rng ^ (rank * 0x9E3779B97F4A7C15 & ((1 << 64) - 1))).next()
        self.rng = SplitMix64(seed)
        self._priors = None

    def priors(self) -> tuple[CellPrior, CellPrior]:
        if self._priors is None:
            self._priors = (CellPrior(self.images_a), CellPrior(self.images_b))
        return self._priors

    def next(self, with_guide: bool = False):
        """This rank's pair: (s, t, guide) with s, t [1, C, S, S] in [-1, 1] and guide
        (mask_s, mask_t, cell_fraction_s, cell_fraction_t) or None."""
        pairs = [self.sampler.next() for _ in range(self.world)]
        a, b = pairs[self.rank]
        s = self.augmentation.apply(self.images_a[a], self.rng)
        t = self.augmentation.apply(self.images_b[b], self.rng)
        guide = None
        if with_guide:
            pa, pb = self.priors()
            guide = (pa.mask(s), pb.mask(t), pa.cell_fraction, pb.cell_fraction)
        return (s * 2 - 1).unsqueeze(0), (t * 2 - 1).unsqueeze(0), guide

    def state(self) -> dict:
        """The checkpoint metadata of the data streams (rank 0's augmentation stream)."""
        return {"data.sampler": self.sampler.to_json(), "data.rng": str(self.rng.state)}
