#!/usr/bin/env bash
# A full disk and a read-only disk under a real run: a small tmpfs holds the run folder.
#
#   scripts/disk-faults.sh                              # builds (release), then runs
#   AGGAN_BIN=path/to/aggan scripts/disk-faults.sh      # skip the build
#
# Full: a 14 MiB tmpfs holds two checkpoints of the shrunk `tiny` model (5.4 MiB each)
# and no third. Read-only: a read-only tmpfs is mounted over checkpoints/ after the first
# checkpoints.
# Each time the run must go on, report the failing checkpoint once (not at every
# checkpoint), leave the earlier checkpoints whole (they still load) and no temporary
# file, and exit non-zero with an error naming its last good checkpoint.
#
# Needs root and mount namespaces (`unshare -m`); prints SKIP and exits 0 without them.
# Prints PASS/FAIL lines and ends with "N passed, M failed"; exits non-zero on failure.
set -u

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

if [ "${1:-}" != "--inside" ]; then
    if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null 2>&1 || ! unshare -m true 2>/dev/null; then
        echo "SKIP disk-faults: needs root and mount namespaces (unshare -m) to mount a small tmpfs"
        exit 0
    fi
    if [ -z "${AGGAN_BIN:-}" ]; then
        swift build -c release --product aggan >/dev/null || { echo "FAIL release build"; exit 1; }
        AGGAN_BIN="$(swift build -c release --show-bin-path)/aggan"
    fi
    # A private mount namespace: the tmpfs is gone when the script ends, however it ends.
    AGGAN_BIN="$AGGAN_BIN" exec unshare -m --propagation private bash "$0" --inside
fi

. "$ROOT/scripts/checks.sh"

[ -x "${AGGAN_BIN:-}" ] || { fail "no executable at ${AGGAN_BIN:-}"; finish; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/aggan-disk.XXXXXX")"
trap 'umount "$WORK/ro/checkpoints" "$WORK/disk" 2>/dev/null; [ -n "${KEEP:-}" ] && cp "$WORK"/*.err "$KEEP"; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/disk"
mount -t tmpfs -o size=14m tmpfs "$WORK/disk" || { echo "SKIP disk-faults: cannot mount a tmpfs"; exit 0; }
mkdir -p "$WORK/ro"

TRAIN=(train --data samples/nuclei --preset tiny --size 32 --ngf 4 --blocks 1 --ndf 8 --epochs 4 --seed 7
       --headless --threads 1 --checkpoint-every 5 --preview-png-every 1000)

# Checks a run that ended on a failing disk. $1: label, $2: exit code, $3: stderr file,
# $4: run folder, $5: the reason expected ("no space left on device", ...).
check() {
    local label=$1 rc=$2 err=$3 dir=$4 reason=$5
    [ "$rc" -ne 0 ] && pass "$label: exit code $rc" || fail "$label: exit code 0 without a final checkpoint"
    local failures
    failures=$(grep -c "checkpoint failed: .*$reason" "$err")
    [ "$failures" -eq 1 ] && pass "$label: the failing checkpoints reported once" \
        || { cat "$err"; fail "$label: the failing checkpoints reported $failures times"; }
    local good last
    good=$(ls "$dir/checkpoints" | grep -c '^step-[0-9]*\.safetensors$')
    last=$(ls "$dir/checkpoints" | tail -1 | sed 's/^step-0*\([0-9]*\)\.safetensors$/\1/')
    grep -q "^aggan: the final checkpoint was not written (the last good checkpoint is step $last): .*$reason" "$err" \
        && pass "$label: its error names the last good checkpoint, step $last" || { cat "$err"; fail "$label: no error naming step $last"; }
    local loaded=0
    for c in "$dir"/checkpoints/step-*.safetensors; do
        "$AGGAN_BIN" export --checkpoint "$c" --output "$WORK/export.safetensors" >/dev/null 2>&1 && loaded=$((loaded + 1))
    done
    [ "$good" -ge 1 ] && [ "$loaded" -eq "$good" ] && pass "$label: $good earlier checkpoint(s) load" \
        || fail "$label: $loaded of $good checkpoints load"
    [ "$(find "$dir" -name '*.tmp' | wc -l)" -eq 0 ] && pass "$label: no temporary file" || fail "$label: temporary files left"
}

# Full disk: the third checkpoint does not fit.
"$AGGAN_BIN" "${TRAIN[@]}" --max-steps 30 --run-dir "$WORK/disk/full" 2>"$WORK/full.err" >/dev/null
check "full disk" $? "$WORK/full.err" "$WORK/disk/full" "no space left on device"

# Read-only: once the first checkpoints are there, a read-only tmpfs is mounted over
# checkpoints/ (a file system with open writers cannot be remounted read-only).
"$AGGAN_BIN" "${TRAIN[@]}" --max-steps 60 --run-dir "$WORK/ro" 2>"$WORK/ro.err" >/dev/null &
pid=$!
until ls "$WORK/ro/checkpoints/step-0000010.safetensors" >/dev/null 2>&1 || ! kill -0 $pid 2>/dev/null; do sleep 0.01; done
mount -t tmpfs -o ro,size=1m tmpfs "$WORK/ro/checkpoints"
wait $pid
rc=$?
umount "$WORK/ro/checkpoints"
[ "$(grep -c '^{' "$WORK/ro/metrics.jsonl")" -eq 60 ] && pass "read-only disk: training went on to step 60" \
    || fail "read-only disk: $(grep -c '^{' "$WORK/ro/metrics.jsonl") steps logged"
check "read-only disk" $rc "$WORK/ro.err" "$WORK/ro" "read-only file system"
finish
