#!/usr/bin/env python3
"""Regenerate the AGGAN numerical test fixtures with the PyTorch reference.

Usage (from the repository root):

    ~/.venv-bench/bin/python Tests/AGGANTests/Fixtures/make_fixtures.py path/to/aggan_reference.py

The path of `aggan_reference.py` may also be given in the environment variable
AGGAN_REFERENCE. Needs torch, safetensors, pillow and numpy. The fixtures are written
next to this script, in `c1/` (gray) and `c3/` (RGB); the checkpoints themselves are
only written to a temporary directory: the Swift tests rebuild the same weights from the
formula below, bit for bit.

Model configuration (both folders): image size 32, ngf 4, 2 residual blocks, ndf 4,
channels c = 1 or 3.

Deterministic weight formula
----------------------------
For every parameter of the model, identified by its checkpoint name (the spec's names,
e.g. "gen_st.enc1.conv.weight"):

1. seed = FNV-1a 64-bit hash of the name's UTF-8 bytes:
       h = 0xcbf29ce484222325
       for each byte b: h = h XOR b; h = (h * 0x100000001b3) mod 2^64

2. A splitmix64 stream with initial state = seed. For element i = 0, 1, 2, ... of the
   tensor in row-major (C) order of its PyTorch shape, advance once and draw:
       state = (state + 0x9E3779B97F4A7C15) mod 2^64
       z = state
       z = ((z XOR (z >> 30)) * 0xBF58476D1CE4E5B9) mod 2^64
       z = ((z XOR (z >> 27)) * 0x94D049BB133111EB) mod 2^64
       out_i = z XOR (z >> 31)
   (so element i uses state = seed + (i + 1) * 0x9E3779B97F4A7C15 mod 2^64)

3. u_i = (out_i >> 40) / 2^24            exactly representable, in [0, 1)
   r_i = 2 * u_i - 1                      float64, in [-1, 1)

4. value (computed in float64, then rounded once to float32), by the name's ending:
       "conv.weight", "conv1.weight", "conv2.weight"   0.035 * r   (also transposed convs)
       "conv.bias", "conv1.bias", "conv2.bias"         0.01 * r
       "norm.weight", "norm1.weight", "norm2.weight"   1 + 0.1 * r (instance-norm scale)
       "norm.bias", "norm1.bias", "norm2.bias"         0.1 * r     (instance-norm shift)

In Swift: `Float(0.035 * r)` etc. with `r` a Double gives the same bits.

Files written per configuration folder (cN/)
-------------------------------------------
s.png, t.png             the reference's `smooth_test_image` (8-bit gray for c=1, RGB
                         for c=3), seeds IMAGE_SEED_S and IMAGE_SEED_T below
forward.safetensors      the reference `forward` outputs on s.png (tau 0.45), all F32:
                         input, st.attention, st.generated, st.composite,
                         st.composite_tau, ts.attention, ts.generated, ts.composite,
                         ts.composite_tau
grad_stage1.safetensors  the reference `grad` on (s.png, t.png), stage 1 / stage 2,
grad_stage2.safetensors  tau 0.1 / 0.45, lambda 10:
                           loss.<k>      F32 [1]
                           act.<k>       F32
                           grad.<name>   F16, = grad / maxabs(grad) rounded to half
                           gradscale.<name> F32 [1], = maxabs(grad) (0 if the grad is 0)
                         decode: grad ~= float(grad.<name>) * gradscale.<name>; the
                         encoding error is at most about 2.5e-4 of maxabs (checked here).
                         c3/grad_stage1 omits the gradients of att_*.{enc2,res0,dec1,dec2,
                         out}.* (only att_*.enc1 depends on the channel count; c1 has them
                         all); the rule is in the metadata key `omitted`.

tau: the attention masks with these weights lie in about [0.24, 0.62], so tau 0.1 would
threshold nothing. `forward` and stage 2 use tau 0.45 (a little below the masks' median,
about 0.47: 64-73 % of the pixels are above it, checked here), so that `composite_tau` differs from
`composite` and the stage-2 discriminator inputs are really masked. Stage 1 keeps tau 0.1
(its discriminators see the whole images; tau is only recorded).

All files carry the configuration, tau, lambda and stage in their safetensors metadata.
"""
from __future__ import annotations

import importlib.util
import json
import os
import struct
import sys
import tempfile

import numpy as np
import torch
from safetensors.torch import load_file, save_file

# ---------------------------------------------------------------------------------------
# Fixed choices
# ---------------------------------------------------------------------------------------

SIZE, NGF, BLOCKS, NDF = 32, 4, 2, 4
CHANNELS = (1, 3)
TAU_STAGE1 = 0.1     # stage 1: recorded only (the discriminators see the whole images)
TAU = 0.45           # forward and stage 2: near the masks' median ~0.47 (range ~[0.24, 0.62])
LAMBDA = 10.0
TAU_BY_STAGE = {1: TAU_STAGE1, 2: TAU}
# Gradients left out of c3/grad_stage1 to keep the files small: the attention networks'
# layers other than enc1 do not depend on the channel count, and c1 holds them all.
OMIT_CHANNELS, OMIT_STAGE = 3, 1
OMIT_PREFIXES = tuple(f"att_{d}.{layer}." for d in ("s", "t")
                      for layer in ("enc2", "res0", "dec1", "dec2", "out"))
OMIT_RULE = "att_*.{enc2,res0,dec1,dec2,out}.*"
MASK_FRACTION_RANGE = (0.1, 0.9)    # fraction of mask pixels above TAU must lie in this
IMAGE_SEED_S, IMAGE_SEED_T = 1, 2   # seeds of the reference's smooth_test_image
THREADS = 1                         # the reference is bit-reproducible for a thread count
WEIGHTS_ID = "fnv1a64-splitmix64-v1"

HERE = os.path.dirname(os.path.abspath(__file__))

MASK64 = (1 << 64) - 1
FNV_OFFSET, FNV_PRIME = 0xCBF29CE484222325, 0x100000001B3
GOLDEN, MIX1, MIX2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


# ---------------------------------------------------------------------------------------
# Deterministic weights (see the docstring)
# ---------------------------------------------------------------------------------------

def fnv1a64(name: str) -> int:
    h = FNV_OFFSET
    for b in name.encode("utf-8"):
        h = ((h ^ b) * FNV_PRIME) & MASK64
    return h


def splitmix64_reference(seed: int, n: int) -> list[int]:
    """Plain-integer splitmix64, element by element (used to check the numpy version)."""
    state, out = seed, []
    for _ in range(n):
        state = (state + GOLDEN) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * MIX1) & MASK64
        z = ((z ^ (z >> 27)) * MIX2) & MASK64
        out.append(z ^ (z >> 31))
    return out


def splitmix64(seed: int, n: int) -> np.ndarray:
    """The first n outputs of splitmix64 from state `seed`, vectorised: the state before
    the mixing of element i is seed + (i + 1) * GOLDEN (uint64 arithmetic wraps)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + np.arange(1, n + 1, dtype=np.uint64) * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
        return z ^ (z >> np.uint64(31))


def uniform_pm1(name: str, n: int) -> np.ndarray:
    """r_i = 2 * u_i - 1 in float64, u_i = (out_i >> 40) / 2^24."""
    u = (splitmix64(fnv1a64(name), n) >> np.uint64(40)).astype(np.float64) / float(1 << 24)
    return 2.0 * u - 1.0


def formula_value(name: str, r: np.ndarray) -> np.ndarray:
    """The value rule by name ending (float64)."""
    layer_part, leaf = name.split(".")[-2:]
    if layer_part in ("conv", "conv1", "conv2"):
        if leaf == "weight":
            return 0.035 * r
        if leaf == "bias":
            return 0.01 * r
    if layer_part in ("norm", "norm1", "norm2"):
        if leaf == "weight":
            return 1.0 + 0.1 * r
        if leaf == "bias":
            return 0.1 * r
    raise ValueError(f"no weight rule for parameter '{name}'")


def formula_tensor(name: str, shape) -> torch.Tensor:
    n = int(np.prod(shape)) if len(shape) else 1
    v = formula_value(name, uniform_pm1(name, n)).astype(np.float32)  # one rounding
    return torch.from_numpy(v.reshape(tuple(shape)))


def check_generator() -> None:
    """The vectorised stream equals the element-by-element definition."""
    for name in ("gen_st.enc1.conv.weight", "att_s.out.conv.bias", "disc_t.c2.norm.weight"):
        seed = fnv1a64(name)
        assert [int(x) for x in splitmix64(seed, 64)] == splitmix64_reference(seed, 64), name


# ---------------------------------------------------------------------------------------
# Reference, files
# ---------------------------------------------------------------------------------------

def load_reference(path: str):
    """Import aggan_reference.py from a path (it is not a package)."""
    if not os.path.isfile(path):
        sys.exit(f"error: no such file '{path}' (give the path of aggan_reference.py)")
    spec = importlib.util.spec_from_file_location("aggan_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_reference(ref, argv: list[str]) -> None:
    """Run one reference subcommand in this process (its own CLI code path)."""
    rc = ref.main(argv)
    if rc != 0:
        sys.exit(f"error: aggan_reference {argv[0]} failed with status {rc}")


def encode_gradient(g: torch.Tensor):
    """F16 of g / maxabs(g) and the F32 scale maxabs(g); all-zero -> zeros and scale 0."""
    g = g.to(torch.float32)
    scale = g.abs().max()
    if scale.item() == 0.0:
        return torch.zeros_like(g, dtype=torch.float16), torch.zeros(1, dtype=torch.float32)
    q = (g.to(torch.float64) / scale.to(torch.float64)).to(torch.float16)
    return q, scale.reshape(1).clone()


def decode_gradient(q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return q.to(torch.float32) * scale.to(torch.float32)


def save(tensors: dict, path: str, metadata: dict) -> None:
    """safetensors with string metadata, byte-reproducible; usual file mode.

    safetensors writes the metadata in hash-map order, which changes from run to run;
    the header JSON is rewritten here with sorted keys (same tensors, same offsets), so
    that regenerating unchanged fixtures gives identical files."""
    save_file(tensors, path, metadata={k: str(v) for k, v in metadata.items()})
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.dumps(json.loads(raw[8:8 + n]), sort_keys=True, separators=(",", ":"))
    header = header.encode("utf-8")
    header += b" " * (-len(header) % 8)          # data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + raw[8 + n:])
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def folder_size(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


KINK_MARGIN = 4e-6   # no ReLU/LeakyReLU input, |s - s''| or |A - tau| closer than this to its kink
SEED_TRIES = 300    # image-seed pairs searched for the widest margin


def kink_margin(ref, model, s, t) -> float:
    """The smallest distance to a kink (ReLU and LeakyReLU inputs, the L1 cycle terms,
    the stage-2 thresholds A - tau) over the forward passes both stages evaluate.

    Two float32 implementations differ by about 1e-6 in an activation; where one lies that
    close to a kink, its derivative flips between them and every gradient upstream moves by
    up to 1 %. Inputs are therefore chosen so that no kink is within KINK_MARGIN."""
    import torch.nn.functional as F
    seen = [float("inf")]
    relu, leaky, absf = F.relu, F.leaky_relu, torch.abs

    def note(x):
        seen[0] = min(seen[0], x.detach().abs().min().item())

    def relu_hook(x, *a, **k):
        note(x)
        return relu(x, *a, **k)

    def leaky_hook(x, *a, **k):
        # In stage 2 the masked-out zeros give c1 outputs equal to its bias exactly, in
        # any implementation: those values cannot flip and are skipped.
        biases = torch.cat([model.disc_s.c1.conv.bias, model.disc_t.c1.conv.bias]).detach()
        v = x.detach()
        exact = (v[..., None] == biases).any(-1)
        if (~exact).any():
            seen[0] = min(seen[0], v[~exact].abs().min().item())
        return leaky(x, *a, **k)

    def abs_hook(x, *a, **k):
        note(x)
        return absf(x, *a, **k)

    F.relu, F.leaky_relu, torch.abs = relu_hook, leaky_hook, abs_hook
    try:
        with torch.no_grad():
            for stage in (1, 2):
                model.set_stage(stage)
                tau = TAU_BY_STAGE[stage]
                _, acts = ref.generator_objective(model, s, t, tau=tau, lam=LAMBDA)
                ref.discriminator_objective(model, s, t, acts["a_s"], acts["a_t"], acts["s_fake"], acts["a_s"],
                                            acts["t_fake"], acts["a_t"], tau=tau)
                for k in ("a_s", "a_t"):
                    seen[0] = min(seen[0], (acts[k] - TAU).abs().min().item())
            model.set_stage(1)
    finally:
        F.relu, F.leaky_relu, torch.abs = relu, leaky, absf
    return seen[0]


def choose_image_seeds(ref, model, channels: int) -> tuple[int, int, float]:
    """Of the pairs (1 + 2k, 2 + 2k), k < SEED_TRIES, the image seeds whose nearest kink is
    farthest (at least KINK_MARGIN). The networks evaluate about 700,000 ReLUs, so some
    input always lies within 1e-5 of a kink; the best of 300 pairs keeps about 5e-6 (a flip was seen at 2.6e-6)."""
    best = (0.0, 0, 0)
    for k in range(SEED_TRIES):
        seed_s, seed_t = IMAGE_SEED_S + 2 * k, IMAGE_SEED_T + 2 * k
        # As read_png scales the PNG: [H, W, C] uint8 -> [1, C, H, W], v / 127.5 - 1.
        s, t = (ref.smooth_test_image(SIZE, channels, seed).permute(2, 0, 1)[None].float() / 127.5 - 1.0
                for seed in (seed_s, seed_t))
        best = max(best, (kink_margin(ref, model, s, t), seed_s, seed_t))
    if best[0] < KINK_MARGIN:
        sys.exit(f"error: no image seeds keep every kink {KINK_MARGIN} away for c{channels} (best {best[0]:.2e})")
    return best[1], best[2], best[0]


def make_config(ref, channels: int, tmp: str) -> dict:
    """Build one configuration's fixtures; returns encoding errors per gradient."""
    out_dir = os.path.join(HERE, f"c{channels}")
    os.makedirs(out_dir, exist_ok=True)
    config = dict(size=SIZE, channels=channels, ngf=NGF, blocks=BLOCKS, ndf=NDF)
    # Model with the formula weights, assigned by name; saved to the temporary dir only.
    model = ref.AGGAN(channels, NGF, BLOCKS, NDF)
    state = {name: formula_tensor(name, tuple(p.shape)) for name, p in model.state_dict().items()}
    model.load_state_dict(state, strict=True)
    seed_s, seed_t, margin = choose_image_seeds(ref, model, channels)
    print(f"c{channels}: image seeds {seed_s}, {seed_t}; nearest kink {margin:.2e}")
    meta = {"weights": WEIGHTS_ID, **config, "image_seed_s": seed_s, "image_seed_t": seed_t,
            "kink_margin": f"{margin:.3e}"}
    ckpt = os.path.join(tmp, f"c{channels}.safetensors")
    ref.save_checkpoint(model, ckpt, {"weights": WEIGHTS_ID})

    # Input images (committed), from the reference's own generator.
    s_png, t_png = os.path.join(out_dir, "s.png"), os.path.join(out_dir, "t.png")
    ref.write_png(ref.smooth_test_image(SIZE, channels, seed_s), s_png)
    ref.write_png(ref.smooth_test_image(SIZE, channels, seed_t), t_png)

    # forward on s.png: keep outputs.safetensors' F32 tensors, drop the PNGs.
    fwd_dir = os.path.join(tmp, f"forward_c{channels}")
    run_reference(ref, ["forward", "--ckpt", ckpt, "--input", s_png, "--out-dir", fwd_dir,
                        "--tau", str(TAU), "--threads", str(THREADS)])
    fwd = load_file(os.path.join(fwd_dir, "outputs.safetensors"))
    save({k: v.to(torch.float32).contiguous() for k, v in fwd.items()},
         os.path.join(out_dir, "forward.safetensors"),
         {**meta, "tau": TAU, "input": "s.png"})

    # tau must really threshold: composite_tau differs from composite.
    for tag in ("st", "ts"):
        if torch.equal(fwd[f"{tag}.composite"], fwd[f"{tag}.composite_tau"]):
            sys.exit(f"error: c{channels} {tag}.composite_tau equals {tag}.composite "
                     f"(tau {TAU} thresholds nothing)")

    errors, fractions = {}, {}
    for stage in (1, 2):
        tau = TAU_BY_STAGE[stage]
        omit = OMIT_PREFIXES if (channels, stage) == (OMIT_CHANNELS, OMIT_STAGE) else ()
        raw = os.path.join(tmp, f"grad_c{channels}_stage{stage}.safetensors")
        run_reference(ref, ["grad", "--ckpt", ckpt, "--input-s", s_png, "--input-t", t_png,
                            "--out", raw, "--stage", str(stage), "--tau", str(tau),
                            "--lambda", str(LAMBDA), "--threads", str(THREADS)])
        tensors = load_file(raw)
        if stage == 2:
            # Fraction of mask pixels above tau: must be well between 0 and 1.
            for k in ("a_s", "a_t"):
                frac = (tensors[f"act.{k}"] > tau).float().mean().item()
                fractions[(channels, k)] = frac
                lo, hi = MASK_FRACTION_RANGE
                if not lo <= frac <= hi:
                    m = tensors[f"act.{k}"]
                    sys.exit(f"error: c{channels} {k}: fraction {frac:.3f} above tau {tau} "
                             f"outside [{lo}, {hi}]; median {m.median().item():.4f}")
        # The exact network inputs (the scaled PNGs), so a test needs no PNG decoder.
        compact = {"input.s": ref.read_png(s_png).contiguous(), "input.t": ref.read_png(t_png).contiguous()}
        for key, value in tensors.items():
            if key.startswith(("loss.", "act.")):
                compact[key] = value.to(torch.float32).contiguous()
            elif key.startswith("grad."):
                name = key[len("grad."):]
                if name.startswith(omit):
                    continue
                q, scale = encode_gradient(value)
                compact[key] = q.contiguous()
                compact[f"gradscale.{name}"] = scale
                m = scale.item()
                err = (decode_gradient(q, scale) - value).abs().max().item()
                errors[(channels, stage, name)] = err / m if m > 0 else err
            else:
                sys.exit(f"error: unexpected tensor '{key}' in the reference's grad output")
        save(compact, os.path.join(out_dir, f"grad_stage{stage}.safetensors"),
             {**meta, "stage": stage, "tau": tau, "lambda": LAMBDA, "inputs": "s.png,t.png",
              "grad_encoding": "grad = f32(grad.<name>) * gradscale.<name>",
              "omitted": OMIT_RULE if omit else "none"})
    return errors, fractions


def main(argv: list[str]) -> int:
    ref_path = argv[1] if len(argv) > 1 else os.environ.get("AGGAN_REFERENCE")
    if not ref_path:
        sys.exit("usage: make_fixtures.py path/to/aggan_reference.py "
                 "(or set AGGAN_REFERENCE)")
    check_generator()
    ref = load_reference(ref_path)
    torch.set_num_threads(THREADS)

    errors, fractions = {}, {}
    with tempfile.TemporaryDirectory(prefix="aggan-fixtures-") as tmp:
        for c in CHANNELS:
            e, f = make_config(ref, c, tmp)
            errors.update(e)
            fractions.update(f)

    print(f"\nFraction of mask pixels above tau {TAU} (stage-2 act.a_s, act.a_t):")
    for c in CHANNELS:
        print(f"  c{c}: a_s {fractions[(c, 'a_s')]:.4f}, a_t {fractions[(c, 'a_t')]:.4f}")

    # F16 gradient encoding: max |decoded - original| / maxabs, worst per file.
    print("\nF16 gradient encoding error, max |decoded - original| / maxabs(grad):")
    for c in CHANNELS:
        for stage in (1, 2):
            errs = [e for (c2, s2, _), e in errors.items() if (c2, s2) == (c, stage)]
            print(f"  c{c} stage {stage}: {len(errs)} gradients, worst {max(errs):.3e}")
    worst_name = max(errors, key=errors.get)
    print(f"  overall worst {errors[worst_name]:.3e} ({worst_name})")
    if errors[worst_name] > 5e-4:
        sys.exit("error: F16 gradient encoding error above 5e-4")

    print("\nFixture files:")
    total = 0
    for c in CHANNELS:
        d = os.path.join(HERE, f"c{c}")
        for f in sorted(os.listdir(d)):
            size = os.path.getsize(os.path.join(d, f))
            print(f"  c{c}/{f:26s} {size:9d} bytes")
        total += folder_size(d)
    print(f"  total {total} bytes ({total / 1e6:.3f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
