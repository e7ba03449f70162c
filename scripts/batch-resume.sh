#!/usr/bin/env bash
# A batch of 200 small files killed and resumed, and split into shards: `aggan translate`
# over a folder ends with every output exactly once and byte-identical to a batch never
# stopped, whatever happened in between.
#
#   scripts/batch-resume.sh                              # builds (release), then runs
#   AGGAN_BIN=path/to/aggan scripts/batch-resume.sh      # skip the build
#   KEEP=1 scripts/batch-resume.sh                       # keep the work folder
#
# The checkpoint: 2 steps of the `tiny` preset shrunk (32 px crops, ngf 4, 1 block,
# ndf 8) on samples/nuclei. The inputs: 200 64x64 PNG files (copies of the bundled
# blocks) in 4 subfolders, translated with --recursive; the 101st in sorted order is a
# truncated PNG.
#
# Checks:
# - the batch never stopped: exit 1, "199 done, 0 skipped, 1 failed", one line naming
#   the bad file;
# - the same batch SIGKILLed twice (once at a random moment after 60 outputs, before the
#   bad file; once past it, after 110 outputs, while a file is half written:
#   AGGAN_TEST_SLOW_WRITE_MS pauses each atomic write halfway, a test-only hook in
#   Basics.AtomicFile) and run again to the end: its output folder
#   equals the uninterrupted one byte for byte (`diff -r`, the hidden records included),
#   199 outputs, every item whose record said done skipped, no temporary file left, no
#   input logged `done` twice, the bad file reported by each run that reached it;
# - a rerun translates nothing (199 skipped), --force redoes all 199 identically,
#   --fail-fast stops at the bad file with the 100 before it written;
# - shards: for N = 1, 3, 4 (the 4 run two at a time by xargs -P 2 into the same folder,
#   as the README shows) and 7, the N tasks together log every input exactly once and
#   write exactly the uninterrupted batch's files.
#
# Prints PASS/FAIL lines and ends with "N passed, M failed"; exits non-zero on failure.
set -u

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
. "$ROOT/scripts/checks.sh"

if [ -z "${AGGAN_BIN:-}" ]; then
    swift build -c release --product aggan >/dev/null || { fail "release build"; finish; }
    AGGAN_BIN="$(swift build -c release --show-bin-path)/aggan"
fi
[ -x "$AGGAN_BIN" ] || { fail "no executable at $AGGAN_BIN"; finish; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/aggan-batch.XXXXXX")"
PID=""
cleanup() {
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
    [ -n "${KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

"$AGGAN_BIN" train --data samples/nuclei --preset tiny --size 32 --ngf 4 --blocks 1 --ndf 8 --seed 7 \
    --max-steps 2 --checkpoint-every 2 --headless --threads 1 --no-tensorboard --run-dir "$WORK/run" \
    >"$WORK/train.log" 2>&1 || { cat "$WORK/train.log"; fail "training the checkpoint"; finish; }
CK="$(ls "$WORK"/run/checkpoints/step-*.safetensors | tail -n 1)"

IN="$WORK/in"
SOURCES=(samples/nuclei/trainA/*.png samples/nuclei/trainB/*.png samples/nuclei/testA/*.png)
for i in $(seq 0 199); do
    mkdir -p "$IN/plate$((i % 4))"
    cp "${SOURCES[$((i % ${#SOURCES[@]}))]}" "$IN/plate$((i % 4))/img$(printf %03d "$i").png"
done
# plate2/img002.png is the 101st path in sorted order.
BAD="$IN/plate2/img002.png"
head -c 300 "${SOURCES[0]}" >"$BAD"

TRANSLATE=(translate --checkpoint "$CK" --recursive "$IN" --threads 1)
summary() { grep -E '^(shard [0-9]+/[0-9]+ \()?[0-9]+ files?' "$1" | tail -n 1; }
outputs() { (cd "$1" && find . -type f -not -name '.*' | sort); }

# The batch never stopped.
"$AGGAN_BIN" "${TRANSLATE[@]}" --output "$WORK/ref" >"$WORK/ref.out" 2>"$WORK/ref.err"
RC=$?
S="$(summary "$WORK/ref.out")"
[ "$RC" = 1 ] && [[ "$S" == "200 files: 199 done, 0 skipped, 1 failed"* ]] \
    && pass "uninterrupted batch: exit 1, $S" || fail "uninterrupted batch: exit $RC, '$S'"
if [ "$(grep -c failed "$WORK/ref.err")" = 1 ] && grep -q "failed: cannot read '$BAD': " "$WORK/ref.err"; then
    pass "the bad file is reported in one line: $(grep failed "$WORK/ref.err" | sed "s|$WORK/||g")"
else
    fail "the bad file's report: $(cat "$WORK/ref.err")"
fi
[ "$(outputs "$WORK/ref" | wc -l)" = 199 ] && pass "199 outputs" || fail "$(outputs "$WORK/ref" | wc -l) outputs"

# Killed twice, then run to the end.
OUT="$WORK/out"
LOG="$WORK/out.jsonl"
start() {
    env AGGAN_TEST_SLOW_WRITE_MS="$1" "$AGGAN_BIN" "${TRANSLATE[@]}" --output "$OUT" --log "$LOG" \
        >>"$WORK/out.log" 2>&1 &
    PID=$!
}
count() { [ -d "$OUT" ] && outputs "$OUT" | wc -l || echo 0; }
temporary() { [ -d "$OUT" ] && find "$OUT" -name '.*.tmp' | head -n 1; }
# Waits (up to 3 minutes) until `$1` succeeds or the batch ends; 0 when it succeeded.
wait_for() {
    local i
    for i in $(seq 1 1800); do
        eval "$1" && return 0
        kill -0 "$PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
start 10
wait_for '[ "$(count)" -ge 60 ]'
sleep "0.$((RANDOM % 10))"
kill -9 "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
N1=$(count)
[ "$N1" -ge 60 ] && [ "$N1" -lt 199 ] && pass "first kill after $N1 outputs" || fail "first kill after $N1 outputs"
# Stops the batch (SIGSTOP) while a temporary file is there, so the kill cannot come just
# after its rename; 1 (the batch continued) when the file was renamed before the stop.
stopped_half_written() {
    [ "$(count)" -ge 110 ] && [ -n "$(temporary)" ] || return 1
    kill -STOP "$PID" 2>/dev/null
    [ -n "$(temporary)" ] && return 0
    kill -CONT "$PID" 2>/dev/null
    return 1
}
start 100
if wait_for stopped_half_written; then
    HALF="$(temporary)"
    kill -9 "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    pass "second kill after $(count) outputs, '$(basename "$HALF")' half written"
else
    kill -9 "$PID" 2>/dev/null; wait "$PID" 2>/dev/null
    fail "second kill: no half-written file seen"
fi
PID=""
# The items whose record says done: the rest (one of them half written) are redone.
N2=$(find "$OUT" -name '.*.aggan.json' -exec grep -l '"state":"done"' {} + | wc -l)
[ -n "$(temporary)" ] && pass "the kill left a temporary file" || fail "no temporary file after the kill"
"$AGGAN_BIN" "${TRANSLATE[@]}" --output "$OUT" --log "$LOG" >"$WORK/last.out" 2>"$WORK/last.err"
RC=$?
S="$(summary "$WORK/last.out")"
[ "$RC" = 1 ] && [[ "$S" == "200 files: $((199 - N2)) done, $N2 skipped, 1 failed"* ]] \
    && pass "resumed batch: exit 1, $S" || fail "resumed batch: exit $RC, '$S' (expected $N2 skipped)"
diff -r "$WORK/ref" "$OUT" >"$WORK/diff" 2>&1 && pass "resumed output folder equals the uninterrupted one byte for byte (records included)" \
    || fail "resumed output differs: $(head -n 5 "$WORK/diff")"
[ "$(count)" = 199 ] && pass "every output exactly once (199)" || fail "$(count) outputs"
[ -z "$(temporary)" ] && pass "no temporary file left" || fail "temporary file left: $(temporary)"
TWICE="$(grep '"status":"done"' "$LOG" | sed 's/.*"input":"\([^"]*\)".*/\1/' | sort | uniq -d | head -n 3)"
[ -z "$TWICE" ] && pass "no input logged done twice over the three runs ($(grep -c '"status":"done"' "$LOG") done lines)" \
    || fail "logged done twice: $TWICE"
REPORTS="$(grep -c "failed: cannot read '$BAD'" "$WORK/out.log") $(grep -c "failed: cannot read '$BAD'" "$WORK/last.err")"
[ "$REPORTS" = "1 1" ] && pass "the bad file reported once by the killed run that got past it and once by the last run" \
    || fail "the bad file reported '$REPORTS' times by the killed runs and the last run"

# Rerun, --force, --fail-fast.
"$AGGAN_BIN" "${TRANSLATE[@]}" --output "$OUT" >"$WORK/again.out" 2>/dev/null
S="$(summary "$WORK/again.out")"
[[ "$S" == "200 files: 0 done, 199 skipped, 1 failed"* ]] && pass "rerun: $S" || fail "rerun: '$S'"
"$AGGAN_BIN" "${TRANSLATE[@]}" --output "$OUT" --force >"$WORK/force.out" 2>/dev/null
S="$(summary "$WORK/force.out")"
[[ "$S" == "200 files: 199 done, 0 skipped, 1 failed"* ]] && diff -r -q "$WORK/ref" "$OUT" >/dev/null \
    && pass "--force: $S, identical" || fail "--force: '$S'"
"$AGGAN_BIN" "${TRANSLATE[@]}" --output "$WORK/fast" --fail-fast >"$WORK/fast.out" 2>/dev/null
RC=$?
S="$(summary "$WORK/fast.out")"
[ "$RC" = 1 ] && [[ "$S" == "200 files: 100 done, 0 skipped, 1 failed"*"stopped"* ]] && [ "$(outputs "$WORK/fast" | wc -l)" = 100 ] \
    && pass "--fail-fast: exit 1, $S" || fail "--fail-fast: exit $RC, '$S'"

# Shards.
ALL="$(cd "$IN" && find . -name '*.png' | sed "s|^\.|$IN|" | sort)"
for N in 1 3 4 7; do
    SH="$WORK/shards$N"
    if [ "$N" = 4 ]; then
        seq 0 3 | xargs -P 2 -I{} sh -c '"$0" "$@" --output "'"$SH"'" --log "'"$SH.jsonl"'" --shard {}/4 >/dev/null 2>&1' \
            "$AGGAN_BIN" "${TRANSLATE[@]}"
    else
        for K in $(seq 0 $((N - 1))); do
            "$AGGAN_BIN" "${TRANSLATE[@]}" --output "$SH" --log "$SH.jsonl" --shard "$K/$N" >/dev/null 2>&1
        done
    fi
    LOGGED="$(sed 's/.*"input":"\([^"]*\)".*/\1/' "$SH.jsonl" | sort)"
    if [ "$LOGGED" = "$ALL" ] && diff -r -q "$WORK/ref" "$SH" >/dev/null; then
        pass "$N shard(s): every one of the 200 inputs logged exactly once, outputs identical to the single batch"
    else
        fail "$N shards: $(echo "$LOGGED" | wc -l) log lines, $(echo "$LOGGED" | uniq -d | wc -l) repeated; $(diff -r -q "$WORK/ref" "$SH" | head -n 3)"
    fi
done

finish
