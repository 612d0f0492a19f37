#!/bin/sh
# The official OpenAI SDK for Node (npm package `openai`) against `introspect serve`: upload a
# file, create and wait for a fine-tuning job, chat with logprobs on the fine-tuned model, run a
# batch (tests/node/sdk_test.mjs). Where node/npm is missing or npm install fails it skips, saying
# so, and fails under CI=true (tests/lib/cli.sh skip).
set -u
ROOT=${INTROSPECT_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${INTROSPECT_BIN:-$ROOT/build/introspect}
. "$ROOT/tests/lib/cli.sh"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  skip cli.node_sdk "node or npm not found (Debian package nodejs, which bundles npm)"
fi
if [ ! -x "$BIN" ]; then echo "FAIL: no introspect binary at $BIN"; exit 1; fi
cd "$ROOT/tests/node" || exit 1
if [ ! -f node_modules/openai/package.json ]; then
  if ! npm install --no-audit --no-fund --no-package-lock --loglevel=error >npm-install.log 2>&1; then
    tail -5 npm-install.log
    rm -f npm-install.log
    skip cli.node_sdk "npm install of the openai package failed (no registry access?)"
  fi
  rm -f npm-install.log
fi
OUT=$(mktemp)
"$BIN" serve --port=0 --job-duration=1 --batch-duration=0.5 --key=sk-node-sdk-test >"$OUT" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; rm -f "$OUT"' EXIT
URL=""
for _ in $(seq 1 600); do   # up to 60 s on a loaded machine
  URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$OUT")
  [ -n "$URL" ] && break
  sleep 0.1
done
if [ -z "$URL" ]; then echo "FAIL: serve did not start:"; cat "$OUT"; exit 1; fi
timeout 120 node sdk_test.mjs "$URL" sk-node-sdk-test
STATUS=$?
kill -INT $PID 2>/dev/null
wait $PID 2>/dev/null
exit $STATUS
