#!/usr/bin/env bash
# Training speed with the dashboard open versus headless: the same run (bundled nuclei,
# tiny preset, seed 0, --max-steps STEPS) in alternating rounds, the dashboard one inside
# a tmux pane of 160x50. Prints it/s of every run and the ratio of the medians.
# A benchmark, not a test: run it on a quiet machine.
#   AGGAN_BIN=.build/release/aggan STEPS=300 ROUNDS=3 THREADS=2 scripts/dashboard-throughput.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${AGGAN_BIN:-.build/release/aggan}")
STEPS=${STEPS:-300} ROUNDS=${ROUNDS:-3} THREADS=${THREADS:-2}
SESSION=aggan-throughput-$$
tmp=$(mktemp -d)
trap 'tmux kill-session -t "$SESSION" 2>/dev/null || true; rm -rf "$tmp"' EXIT
args=(train --data samples/nuclei --preset tiny --seed 0 --max-steps "$STEPS" --threads "$THREADS")

rate() { awk -v s="$STEPS" -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", s / (b - a) }'; }

headless() {
    local start end
    start=$(date +%s.%N)
    "$BIN" "${args[@]}" --headless --run-dir "$tmp/h$1" >/dev/null 2>&1
    end=$(date +%s.%N)
    rate "$start" "$end"
}

dashboard() {
    rm -f "$tmp/start" "$tmp/end"
    tmux new-session -d -s "$SESSION" -x 160 -y 50 \
        "date +%s.%N > '$tmp/start'; '$BIN' ${args[*]} --run-dir '$tmp/d$1'; echo \$? > '$tmp/rc'; date +%s.%N > '$tmp/end'"
    while [ ! -s "$tmp/end" ]; do sleep 0.5; done
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    [ "$(cat "$tmp/rc")" = 0 ] || { echo "dashboard run failed" >&2; exit 1; }
    rate "$(cat "$tmp/start")" "$(cat "$tmp/end")"
}

h=() d=()
for i in $(seq "$ROUNDS"); do
    h+=("$(headless "$i")"); d+=("$(dashboard "$i")")
    echo "round $i: headless ${h[-1]} it/s, dashboard ${d[-1]} it/s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mh=$(median "${h[@]}") md=$(median "${d[@]}")
echo "median headless=$mh dashboard=$md ratio=$(awk -v a="$md" -v b="$mh" 'BEGIN { printf "%.3f", a / b }') (steps $STEPS, threads $THREADS, rounds $ROUNDS)"
