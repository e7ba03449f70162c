#!/usr/bin/env bash
# B1 training speed at the default thread setting (--threads auto), on an otherwise idle
# machine and beside one CPU-bound process (`yes`), and the same at a fixed --threads N
# (all the cores) for comparison. Prints median ms per iteration for each and the loaded /
# idle ratio of the default (target: at most 2.5).
#
#   scripts/threads-under-load.sh [path/to/aggan]     (default: .build/release/aggan)
#
# Run it with nothing else busy: the point is one competing process, not several.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-.build/release/aggan}"
[ -x "$bin" ] || { echo "threads-under-load: no binary at $bin (make release, or pass its path)" >&2; exit 2; }
cores="$(nproc)"
b1=(bench --size 64 --channels 3 --ngf 32 --blocks 6 --ndf 64 --iters 20 --warmup 3 --identity-weight 0)
median() { "$bin" "${b1[@]}" "$@" | tee /dev/stderr | sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p'; }
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $cores cores" >&2
idle_auto="$(median 2>/dev/null)"
idle_fixed="$(median --threads "$cores" 2>/dev/null)"
yes > /dev/null &
load=$!
trap 'kill $load 2>/dev/null || true' EXIT
sleep 1
loaded_auto="$(median 2>/dev/null)"
loaded_fixed="$(median --threads "$cores" 2>/dev/null)"
kill $load; trap - EXIT
awk -v ia="$idle_auto" -v la="$loaded_auto" -v if_="$idle_fixed" -v lf="$loaded_fixed" -v c="$cores" 'BEGIN {
    printf "B1 ms/iter       idle    beside yes   ratio\n"
    printf "threads auto   %7.1f   %9.1f   %5.2f\n", ia, la, la / ia
    printf "threads %-5d  %7.1f   %9.1f   %5.2f\n", c, if_, lf, lf / if_
    printf "default (auto) loaded/idle = %.2f: %s (target <= 2.5)\n", la / ia, la / ia <= 2.5 ? "met" : "missed"
}'
