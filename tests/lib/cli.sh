# Helpers sourced by the shell tests in tests/cli/ (not a test itself):
#   check NAME 'SHELL CONDITION'           counts a pass or prints FAIL: NAME
#   expect NAME CODE REGEX -- COMMAND...   runs COMMAND; its exit code must be CODE and its output
#                                          (stdout+stderr) match REGEX; with CLI_FORBID set, the
#                                          output must not contain that fixed string (a secret)
#   finish                                 prints "N passed, N failed" and exits non-zero on failures
passed=0; failed=0
ok()   { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { if eval "$2"; then ok; else fail "$1"; fi; }
expect() {
  name=$1; want_code=$2; pattern=$3; shift 3
  out=$("$@" 2>&1); code=$?
  if [ "$code" != "$want_code" ]; then fail "$name: exit $code, want $want_code; output: $out"; return; fi
  if ! printf '%s\n' "$out" | grep -Eq -- "$pattern"; then fail "$name: output lacks /$pattern/: $out"; return; fi
  if [ -n "${CLI_FORBID:-}" ] && printf '%s\n' "$out" | grep -qF -- "$CLI_FORBID"; then
    fail "$name: output shows $CLI_FORBID"; return
  fi
  ok
}
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
# skip TEST WHY [OPTIONAL_WHY]: a missing prerequisite. Under CI=true it fails (exit 1) naming
# what is missing, unless OPTIONAL_WHY says why it may be absent; otherwise prints "SKIP: WHY",
# appends "TEST: WHY" to $INTROSPECT_SKIP_LOG (listed at the end of `make test`) and exits 0.
skip() {
  if [ -n "${3:-}" ]; then line="$2 (optional: $3)"; else line=$2; fi
  if { [ "${CI:-}" = true ] || [ "${CI:-}" = 1 ]; } && [ -z "${3:-}" ]; then
    echo "FAIL: $1: prerequisite missing under CI=true: $2"
    exit 1
  fi
  echo "SKIP: $line"
  [ -n "${INTROSPECT_SKIP_LOG:-}" ] && echo "$1: $line" >>"$INTROSPECT_SKIP_LOG"
  exit 0
}
