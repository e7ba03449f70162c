#!/usr/bin/env bash
# Builds the four datasets of the README's attention tables from samples/sources:
#   scripts/attention-datasets.sh [OUT_DIR]   (default datasets/; needs a release build)
# then, for example:
#   aggan experiment --data datasets/he --steps 2250 --seeds 3 --first-seed 1 --threads 1 --variants aggan
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-datasets}
bin=${AGGAN_BIN:-.build/release/aggan}
[ -x "$bin" ] || { echo "no $bin: run 'make release' first (or set AGGAN_BIN)" >&2; exit 1; }
src=samples/sources
build() { "$bin" samples --image "$src/$2.png" --mask "$src/$2_mask.png" --out "$out/$1" --force; }
build nuclei nuclei_fluo        # the same blocks as samples/nuclei
build he skin_he
build scratch scratch_hoechst
build large nuclei_fluo_x3.5
