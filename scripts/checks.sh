# PASS/FAIL bookkeeping shared by the test scripts (sourced, not run): `pass` and `fail`
# print a line and count it, `finish` prints "N passed, M failed" and exits non-zero
# when anything failed.
PASSED=0
FAILED=0
pass() { echo "PASS $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $*"; FAILED=$((FAILED + 1)); }
finish() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
    exit $?
}
