#!/usr/bin/env bash
# `aggan translate` of large 16-bit TIFFs: memory must follow the tile size and the
# image's width, not its area. Makes square uint16 TIFFs of the given sides (tifffile),
# trains a tiny-preset checkpoint for 2 steps, translates each image and prints its peak
# RSS (/usr/bin/time -v) and wall time, checks the output with tifffile (uint16, same
# shape, values beyond 0..255), prints a table (side, peak RSS, float size, ratio) and
# fails when the largest image's RSS is not under half its float size (4 bytes a pixel;
# checked once that is 200 MiB or more) or is more than 1.5 x the smallest image's RSS.
#
#   scripts/large-tiff.sh [SIDE...]        default: 5000 10000 (about 15 min on 2 cores)
#   scripts/large-tiff.sh 1500 3000        the quick version
#
# AGGAN_BIN (default .build/release/aggan), THREADS (default 2), KEEP=1 keeps the
# folder. Skips (exit 0, with the reason) without python3, numpy, tifffile or
# /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
AGGAN_BIN="${AGGAN_BIN:-.build/release/aggan}"
THREADS="${THREADS:-2}"
SIDES=("$@")
[ ${#SIDES[@]} -gt 0 ] || SIDES=(5000 10000)

skip() { echo "large-tiff: skipped: $1"; exit 0; }
command -v python3 >/dev/null || skip "python3 is not installed"
python3 -c "import numpy, tifffile" 2>/dev/null || skip "python3 lacks numpy or tifffile (pip install tifffile)"
[ -x /usr/bin/time ] || skip "/usr/bin/time is not installed (Debian package 'time')"
[ -x "$AGGAN_BIN" ] || { echo "large-tiff: $AGGAN_BIN not found (swift build -c release)"; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/aggan-large.XXXXXX")"
cleanup() { [ -n "${KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"; }
trap cleanup EXIT

# A checkpoint of the tiny preset at scale 1 (the networks see the image as it is).
"$AGGAN_BIN" train --data samples/nuclei --preset tiny --scale 1 --max-steps 2 --checkpoint-every 2 \
    --headless --no-tensorboard --threads "$THREADS" --run-dir "$WORK/run" >"$WORK/train.log" 2>&1 \
    || { cat "$WORK/train.log"; exit 1; }
CHECKPOINT="$(ls "$WORK"/run/checkpoints/*.safetensors | tail -n 1)"

declare -A RSS WALL
for side in "${SIDES[@]}"; do
    input="$WORK/in-$side.tif"
    # Dark noisy background (~1000) with bright round cells (~20000), 64-row strips.
    python3 - "$input" "$side" <<'PY'
import sys, numpy as np, tifffile
path, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(15)
image = np.empty((n, n), np.uint16)
x = np.arange(n)
cells = rng.uniform(0, n, size=(n * n // 4000, 2))
for r0 in range(0, n, 500):
    y = np.arange(r0, min(n, r0 + 500))[:, None]
    block = 1000 + 150 * rng.standard_normal((len(y), n))
    # Cells on a 64-pixel lattice, jittered by the row and column.
    d2 = ((y + 7 * np.sin(x / 53.0)) % 64 - 32) ** 2 + ((x + 7 * np.cos(y / 41.0)) % 64 - 32) ** 2
    block += 19000 * np.exp(-d2 / 120.0)
    image[r0:r0 + len(y)] = np.clip(block, 0, 65535).astype(np.uint16)
tifffile.imwrite(path, image, rowsperstrip=64, metadata=None)
PY
    out="$WORK/out-$side"
    /usr/bin/time -v -o "$WORK/time-$side.txt" "$AGGAN_BIN" translate --checkpoint "$CHECKPOINT" --output "$out" \
        --threads "$THREADS" "$input" >"$WORK/translate-$side.log" 2>&1 || { cat "$WORK/translate-$side.log"; exit 1; }
    rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time-$side.txt")
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time-$side.txt")
    RSS[$side]=$rss_kb
    WALL[$side]=$wall
    python3 - "$input" "$out/in-$side.tif" <<'PY'
import sys, numpy as np, tifffile
a, b = tifffile.imread(sys.argv[1]), tifffile.imread(sys.argv[2])
assert b.dtype == np.uint16 and b.shape == a.shape, (b.dtype, b.shape)
assert int(b.max()) > 255, "output squashed to 8 bits"
print(f"  output: {b.dtype} {b.shape}, values {int(b.min())}..{int(b.max())} (input {int(a.min())}..{int(a.max())}), "
      f"{np.count_nonzero(a != b) / a.size:.1%} of pixels changed")
PY
    float_mib=$(( side * side * 4 / 1048576 ))
    echo "large-tiff: ${side} x ${side} uint16: peak RSS $(( rss_kb / 1024 )) MiB (the image as float32: ${float_mib} MiB), wall ${wall}, $(tail -n 1 "$WORK/translate-$side.log" | sed 's/.*(//; s/)//')"
done

rows=()
for side in "${SIDES[@]}"; do rows+=("$side" "${RSS[$side]}" "${WALL[$side]}"); done
python3 - "${rows[@]}" <<'PY'
import sys
args = sys.argv[1:]
rows = [(int(args[i]), int(args[i + 1]), args[i + 2]) for i in range(0, len(args), 3)]
print("large-tiff: | side | peak RSS MiB | float32 size MiB | RSS / float size | wall |")
print("large-tiff: |---:|---:|---:|---:|---:|")
for side, rss_kb, wall in rows:
    rss, flt = rss_kb / 1024, side * side * 4 / 2**20
    print(f"large-tiff: | {side} | {rss:.0f} | {flt:.0f} | {rss / flt:.2f} | {wall} |")
(small, rs, _), (large, rl, _) = rows[0], rows[-1]
growth, area = rl / rs, (large / small) ** 2
float_kb = large * large * 4 / 1024
print(f"large-tiff: RSS {large}/{small} = {growth:.2f} for {area:.1f}x the pixels; "
      f"the largest's RSS is {rl / float_kb:.0%} of its float size")
ok = True
# Not area-like: at most 1.5 x the smallest's RSS (the binary and the model dominate small images).
if area >= 2:
    flat = growth <= 1.5
    ok &= flat
    print("large-tiff: " + ("ok: RSS(largest) <= 1.5 x RSS(smallest)" if flat else "FAILED: RSS(largest) > 1.5 x RSS(smallest)"))
# Under half the float size, once that is large enough to say something.
if float_kb >= 200 * 1024:
    small_enough = rl < 0.5 * float_kb
    ok &= small_enough
    print("large-tiff: " + ("ok: under half the float size" if small_enough else "FAILED: not under half the float size"))
else:
    print("large-tiff: (the float-size check needs a side of 7241 or more)")
sys.exit(0 if ok else 1)
PY
