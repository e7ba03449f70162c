#!/usr/bin/env bash
# Files per second of `aggan translate` over 1,000 64x64 PNG files, with the pipeline
# (inputs read and outputs written on threads of their own while as many files as
# threads are translated at once, one compute thread each) and without it (--no-pipeline:
# one file at a time on this thread, at --threads). Not a test: it prints numbers. Time
# it on an idle machine.
#
#   scripts/translate-throughput.sh                          # builds (release), then runs
#   AGGAN_BIN=path/to/aggan scripts/translate-throughput.sh  # skip the build
#   FILES=2000 ROUNDS=3 THREADS=2 scripts/translate-throughput.sh
#   SIZE=512 FILES=100 scripts/translate-throughput.sh       # larger images (needs Pillow)
#
# The checkpoint: 2 steps of `--preset tiny` on samples/nuclei (the weights do not change
# the cost). The inputs: copies of the bundled 64x64 blocks (resized to SIZE x SIZE with
# Python's Pillow when SIZE is given). Each round translates all
# files into a fresh folder both ways (the order alternating between rounds); the rate
# is files / wall-clock seconds of the whole command (the checkpoint's loading included),
# and each setting's best round is reported.
set -eu

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
FILES="${FILES:-1000}"
ROUNDS="${ROUNDS:-2}"
THREADS="${THREADS:-$(nproc)}"
SIZE="${SIZE:-64}"

if [ -z "${AGGAN_BIN:-}" ]; then
    swift build -c release --product aggan >/dev/null
    AGGAN_BIN="$(swift build -c release --show-bin-path)/aggan"
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/aggan-throughput.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

"$AGGAN_BIN" train --data samples/nuclei --preset tiny --max-steps 2 --checkpoint-every 2 --headless \
    --no-tensorboard --run-dir "$WORK/run" >/dev/null 2>&1
CK="$(ls "$WORK"/run/checkpoints/step-*.safetensors | tail -n 1)"
SOURCES=(samples/nuclei/trainA/*.png samples/nuclei/trainB/*.png)
mkdir -p "$WORK/in"
for i in $(seq 0 $((FILES - 1))); do
    cp "${SOURCES[$((i % ${#SOURCES[@]}))]}" "$WORK/in/f$(printf %05d "$i").png"
done
if [ "$SIZE" != 64 ]; then
    python3 -c 'import PIL' 2>/dev/null || { echo "SIZE=$SIZE needs python3 with Pillow" >&2; exit 1; }
    python3 - "$WORK/in" "$SIZE" <<'EOF'
import pathlib, sys
from PIL import Image
size = int(sys.argv[2])
for path in pathlib.Path(sys.argv[1]).glob("*.png"):
    Image.open(path).resize((size, size), Image.BILINEAR).save(path)
EOF
fi

# Prints files/s of one batch.
measure() {
    rm -rf "$WORK/out"
    local t0 t1
    t0=$(date +%s.%N)
    "$AGGAN_BIN" translate --checkpoint "$CK" "$WORK/in" --output "$WORK/out" --threads "$THREADS" "$@" >/dev/null
    t1=$(date +%s.%N)
    awk -v n="$FILES" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n / (b - a) }'
}
best() { printf '%s\n' "$@" | sort -g | tail -n 1; }

WITH=()
WITHOUT=()
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then
        WITHOUT+=("$(measure --no-pipeline)"); WITH+=("$(measure)")
    else
        WITH+=("$(measure)"); WITHOUT+=("$(measure --no-pipeline)")
    fi
    echo "round $r: pipeline ${WITH[-1]} files/s, --no-pipeline ${WITHOUT[-1]} files/s"
done
B1=$(best "${WITH[@]}")
B0=$(best "${WITHOUT[@]}")
echo "$FILES files of ${SIZE}x${SIZE}, --preset tiny, --threads $THREADS, best of $ROUNDS: pipeline $B1 files/s, --no-pipeline $B0 files/s, ratio $(awk -v a="$B1" -v b="$B0" 'BEGIN { printf "%.2f", a / b }')"
