#!/bin/sh
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS [NAME...]
# Runs each libFuzzer harness BUILD_DIR/tests/fuzz/fuzz_NAME (all of them by default) for SECONDS,
# starting from its seed corpus tests/fuzz/corpus/NAME (copied to BUILD_DIR/fuzz-corpus/NAME, where
# the corpus grows between runs). A crash, leak, sanitizer report, timeout (10 s per input) or
# out-of-memory (1 GB) is a finding: its input is saved as BUILD_DIR/fuzz-findings/NAME-*, the
# log as BUILD_DIR/fuzz-logs/NAME.log. Prints one line per fuzzer; exits 1 if any had a finding.
set -u
build=${1:?usage: run.sh BUILD_DIR SECONDS [NAME...]}
seconds=${2:?usage: run.sh BUILD_DIR SECONDS [NAME...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
bin="$build/tests/fuzz"
mkdir -p "$build/fuzz-corpus" "$build/fuzz-findings" "$build/fuzz-logs"
if [ $# -eq 0 ]; then
  set --
  for f in "$bin"/fuzz_*; do [ -x "$f" ] && set -- "$@" "${f##*/fuzz_}"; done
fi
[ $# -gt 0 ] || { echo "no fuzzers in $bin (build the 'fuzzers' target first)" >&2; exit 1; }
status=0
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
for name in "$@"; do
  seeds="$here/corpus/$name"
  work="$build/fuzz-corpus/$name"
  log="$build/fuzz-logs/$name.log"
  mkdir -p "$work"
  [ -d "$seeds" ] || { echo "fuzz $name: no seed corpus $seeds" >&2; status=1; continue; }
  "$bin/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$build/fuzz-findings/$name-" "$work" "$seeds" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  if [ $rc -eq 0 ]; then
    echo "fuzz $name: ok, ${runs:-?} inputs in ${seconds}s, ${cov:-cov: ?}, corpus $(ls "$work" | wc -l) files"
  else
    status=1
    echo "fuzz $name: FINDING (exit $rc), see $log and $build/fuzz-findings/$name-*"
    grep -m3 -E 'ERROR|FINDING|raised|runtime error|SUMMARY' "$log" | sed 's/^/  /'
  fi
done
exit $status
