#!/bin/sh
# Usage: tests/run-ctest.sh BUILD_DIR [CTEST ARGS...]
# Runs ctest in BUILD_DIR (output on failure), then prints every skipped test and why (what the
# tests appended to BUILD_DIR/skipped.log through tests/lib/skip.lua or cli.sh's skip) and, as
# the very last line, "N passed, N failed, N skipped". Exits with ctest's status.
set -u
build=${1:?usage: run-ctest.sh BUILD_DIR [CTEST ARGS...]}
shift
log="$build/skipped.log"
: >"$log"
{ (cd "$build" && ctest --output-on-failure "$@") 2>&1; echo $? >"$build/ctest.status"; } | tee "$build/ctest.out"
status=$(cat "$build/ctest.status")
total=$(sed -n 's/.*tests failed out of \([0-9][0-9]*\).*/\1/p' "$build/ctest.out" | tail -1)
failed=$(sed -n 's/.*, \([0-9][0-9]*\) tests failed out of.*/\1/p' "$build/ctest.out" | tail -1)
total=${total:-0}; failed=${failed:-0}
skipped=$(sed -n 's/^\([^:]*\): .*/\1/p' "$log" | sort -u | wc -l)
if [ "$skipped" -gt 0 ]; then
  printf 'skipped: %s\n' "$(sort -u "$log" | awk 'BEGIN{ORS=""} {if (NR > 1) print "; "; print}')"
else
  echo "skipped: none"
fi
passed=$((total - failed - skipped))
[ "$passed" -lt 0 ] && passed=0
echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" = 0 ] && [ "$total" -gt 0 ]
