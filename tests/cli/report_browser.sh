#!/bin/sh
# Opens the report.html of a small paper run in Debian's headless Chromium (driven by
# playwright-core from npm): no console errors, no network requests, every plot rendered with
# the expected number of points; at 1400 and 800 px wide nothing scrolls sideways, every scatter
# plot has tick values and its slope and r, the training-effect chart has an axis. Screenshots of
# both widths go to $REPORT_SHOTS when set (to look at). Skips, saying so, where node, npm or
# chromium is missing (fails under CI=true).
BIN=${INTROSPECT_BIN:-build/introspect}
here=$(cd "$(dirname "$0")/../browser" && pwd)
. "${INTROSPECT_SOURCE:-.}/tests/lib/cli.sh"
for tool in node npm chromium; do
  if ! command -v $tool >/dev/null 2>&1; then
    echo "0 passed, 0 failed, 1 skipped"
    skip cli.report_browser "$tool not installed (report.html browser check not run)"
  fi
done
if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm install --no-audit --no-fund --silent) || { echo "FAIL: npm install playwright-core"; exit 1; }
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$BIN" experiments/paper.lua --contexts=20 --models=sim-large --trials=20 --reports=3 --out="$tmp/run" \
  >"$tmp/log" 2>&1 || { cat "$tmp/log"; echo "FAIL: paper run"; exit 1; }
if out=$(REPORT_WIDTHS=1400,800 SCREENSHOTS=${REPORT_SHOTS:-} node "$here/check_report.js" "$tmp/run/report.html"); then
  plots=$(printf '%s' "$out" | grep -o '"id"' | wc -l)
  echo "report.html: $plots plots rendered, no console errors, fits 1400 and 800 px"
  # 5 conditions + learned-vs-target + training effects
  [ "$plots" -eq 7 ] || { echo "FAIL: expected 7 plots: $out"; echo "0 passed, 1 failed"; exit 1; }
  echo "1 passed, 0 failed"
else
  echo "$out"
  echo "0 passed, 1 failed"
  exit 1
fi
