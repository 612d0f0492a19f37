#!/bin/sh
# Usage: tests/coverage/run.sh BUILD_DIR [--report-only]
# `make coverage`: builds BUILD_DIR with gcov instrumentation (--coverage), runs the C tests,
# the host specs and the command-line tests (ctest -L '^(c|host|cli)$') with the Lua line counter
# tests/coverage/hook.lua (over the C hook of introspect.coverage) loaded into every host and
# lua5.4 process (LUA_INIT), then prints per-file line
# coverage: gcov's for bindings/*.c and host/*.c, the counter's for scripts/ and experiments/.
set -u
build=${1:?usage: run.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$build" && build=$(cd "$build" && pwd)
cov="$build/lua-coverage"
# --report-only: print the coverage of what already ran in BUILD_DIR (no build, no tests)
if [ "${2:-}" = --report-only ]; then status=0; else
cmake -S "$root" -B "$build" -DINTROSPECT_WERROR=OFF -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS="--coverage -O0" -DCMAKE_EXE_LINKER_FLAGS=--coverage -DCMAKE_SHARED_LINKER_FLAGS=--coverage \
  -DCMAKE_MODULE_LINKER_FLAGS=--coverage \
  >/dev/null || exit 1
cmake --build "$build" -j "${JOBS:-2}" >/dev/null || exit 1
find "$build" -name '*.gcda' -delete
rm -rf "$cov"; mkdir -p "$cov"
(cd "$build" && LUA_INIT="@$root/tests/coverage/hook.lua" INTROSPECT_COVERAGE_DIR="$cov" \
  INTROSPECT_COVERAGE_ROOT="$root" \
  INTROSPECT_COVERAGE_MODULE="$build/lua/introspect/coverage.so" ctest -j "${JOBS:-2}" -L '^(c|host|cli)$' >"$build/coverage-ctest.log" 2>&1)
status=$?
fi
tail -3 "$build/coverage-ctest.log"
echo
# C: gcov per object file; a source compiled into several objects (the host and its .so) is
# reported with the object that ran the most lines.
printf '%-52s %7s %7s %7s\n' "C file" "lines" "run" "cover"
find "$build" -name '*.gcda' | while read -r gcda; do
  (cd "$(dirname "$gcda")" && gcov -n "$gcda" 2>/dev/null) | awk '
    /^File / { f = $2; gsub(/\047/, "", f) }
    /^Lines executed:/ { split($2, a, ":"); pct = a[2]; sub(/%/, "", pct); n = $4; print f, pct, n }'
done | awk -v root="$root/" '
  index($1, root) == 1 && ($1 ~ /\/bindings\/[^\/]*\.c$/ || $1 ~ /\/host\/[^\/]*\.c$/) {
    f = substr($1, length(root) + 1); run = $2 * $3 / 100
    if (!(f in best) || run > best[f]) { best[f] = run; lines[f] = $3 }
  }
  END { for (f in best) printf "%-52s %7d %7d %6.1f%%\n", f, lines[f], best[f] + 0.5, 100 * best[f] / lines[f] }' |
  sort | awk '{ print; tl += $2; tr += $3 }
    END { if (tl > 0) printf "%-52s %7d %7d %6.1f%%\n", "C total", tl, tr, 100 * tr / tl }'
echo
"$build/introspect" "$root/tests/coverage/report.lua" "$cov" "$root"
exit $status
