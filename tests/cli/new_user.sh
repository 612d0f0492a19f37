#!/bin/sh
# A new user's path, end to end (issue 15): the first commands, `make paper`'s run interrupted
# by Ctrl-C and resumed, then the runs that must not touch runs/paper (a dry run on another
# backend, a typo'd model, an unpriced model under --max-cost, a missing API key, another
# design into the same --out, a URL backend with a typo'd model), each checked for its one-line
# message, and runs/paper checked byte for byte afterwards. Runs in a scratch working
# directory, so runs/ is its own.
BIN=${INTROSPECT_BIN:-build/introspect}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
SRC=${INTROSPECT_SOURCE:-$PWD}
case $SRC in /*) ;; *) SRC=$PWD/$SRC ;; esac
. "$SRC/tests/lib/cli.sh"
tmp=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
PAPER="$SRC/experiments/paper.lua"
unset OPENAI_API_KEY
# `make paper` is paper.lua with its defaults; the sanitizer build runs a smaller design. Each
# fine-tuning job of the subject takes a second, so Ctrl-C lands while one runs.
ARGS="--sim-job-duration=1"
[ "${INTROSPECT_SANITIZE:-0}" = 1 ] && ARGS="$ARGS --contexts=20 --trials=20 --reports=2"
SMALL="--contexts=20 --trials=10 --reports=2"   # dry runs: a plan is a plan

# First steps: help and a mistyped command.
expect "introspect --help" 0 "usage: introspect" "$BIN" --help
expect "introspect help lists the experiments" 0 "paper\.lua" "$BIN" help
expect "a mistyped subcommand gets the closest" 2 "did you mean serve\?" "$BIN" serv
expect "--model gets --models" 2 "did you mean --models\?" "$BIN" "$PAPER" --model=sim-large

# A typo'd model: refused before anything is created, naming the models there are.
expect "typo'd model" 1 "^paper\.lua: model 'sim-lrge' is not offered by the simulated subject \(available, closest first: sim-large, sim-small\)$" \
  "$BIN" "$PAPER" --models=sim-lrge
check "typo'd model created nothing" '[ ! -e runs ]'

# make paper, interrupted by Ctrl-C once the reports phase is under way, then resumed.
"$BIN" "$PAPER" $ARGS >"$tmp/first.out" 2>&1 &
run=$!
i=0
while ! grep -q "fine-tune itrained_first_50" "$tmp/first.out" 2>/dev/null && [ $i -lt 1200 ]; do
  if ! kill -0 "$run" 2>/dev/null; then break; fi
  sleep 0.1; i=$((i + 1))
done
kill -INT "$run" 2>/dev/null
wait "$run"; code=$?
check "Ctrl-C exits 130" '[ "$code" -eq 130 ] || { echo "exit $code"; cat "$tmp/first.out"; false; }'
check "Ctrl-C says how to resume, in one line" \
  '[ "$(grep -c "^interrupted; run the same command again to resume$" "$tmp/first.out")" -eq 1 ]'
check "Ctrl-C shows no traceback" '! grep "traceback\|\.lua:[0-9]" "$tmp/first.out" || { cat "$tmp/first.out"; false; }'
check "the store is checkpointed and closed" \
  '[ -f runs/paper/responses.sqlite ] && [ ! -s runs/paper/responses.sqlite-wal ]'
"$BIN" "$PAPER" $ARGS >"$tmp/resume.out" 2>&1; code=$?
check "the same command resumes and finishes" '[ "$code" -eq 0 ] || { cat "$tmp/resume.out"; false; }'
check "the headline table is printed" 'grep -q "^learned vs target (r)" "$tmp/resume.out" && grep -q "^Native, after" "$tmp/resume.out"'
check "it names the summary and report" 'grep -q "^report:  runs/paper/report.html$" "$tmp/resume.out"'
check "the report's title and columns list the models in one order" \
  'grep -q "<h1>Self-interpretability replication: sim-small, sim-large</h1>" runs/paper/report.html &&
   [ "$(grep -o "<th>sim-[a-z]*</th>" runs/paper/report.html | head -2 | tr -d "\n")" = "<th>sim-small</th><th>sim-large</th>" ]'
check "the report links the subject's docs and shows its profiles" \
  'grep -q "href=\"file://[^\"]*/docs/simulated-subject.md\"" runs/paper/report.html && grep -q "choice_noise" runs/paper/report.html'
requests=$(cat runs/paper/replies/*.jsonl | wc -l)
check "the summary counts the whole run's requests (both sessions)" \
  'grep -q "\"requests\": $requests," runs/paper/summary.json || { grep requests runs/paper/summary.json; false; }'
check "the manifest remembers the run's backend and models" \
  'grep -q "\"backend\": \"sim\"" runs/paper/manifest.json && grep -q "\"identity\"" runs/paper/manifest.json'
before=$(find runs -type f | LC_ALL=C sort | xargs sha256sum)

# A dry run on another backend: a plan with dollars, nothing created or written (no key needed).
expect "dry run on OpenAI" 0 "total \(dry run: nothing was sent\) +\\\$[0-9]+\.[0-9][0-9]$" \
  "$BIN" "$PAPER" --backend=openai --models=gpt-4o-mini-2024-07-18 $SMALL --dry-run
check "the plan prices the fine-tunes" 'printf "%s\n" "$out" | grep -Eq "^fine-tune instill .*\\\$[0-9]"'
# An unpriced model: unpriced rows, never $0.00, and what to do.
expect "dry run of an unpriced model" 0 "no price for model 'gpt-4o-2024-11-20'.*--prices=FILE" \
  "$BIN" "$PAPER" --backend=openai --models=gpt-4o-2024-11-20 $SMALL --dry-run --max-cost=5
check "unpriced rows say so" 'printf "%s\n" "$out" | grep -Eq "^total \(dry run: nothing was sent\) +unpriced$"'
check "no unpriced row reads \$0.00" '! printf "%s\n" "$out" | grep -q "gpt-4o-2024-11-20.*\$0\.00"'
check "under --max-cost it says the run would refuse" 'printf "%s\n" "$out" | grep -q "under --max-cost the run would refuse to start"'
printf '{"gpt-4o-2024-11-20": {"input": 2.5, "cached_input": 1.25, "output": 10, "training": 25}}\n' >"$tmp/prices.json"
expect "a prices file prices it" 0 "total \(dry run: nothing was sent\) +\\\$[0-9]" \
  "$BIN" "$PAPER" --backend=openai --models=gpt-4o-2024-11-20 $SMALL --dry-run --prices="$tmp/prices.json"
expect "the estimate over --max-cost is said" 0 "exceeds --max-cost \\\$0\.50" \
  "$BIN" "$PAPER" --backend=openai --models=gpt-4o-mini-2024-07-18 $SMALL --dry-run --max-cost=0.5
# Not a dry run: an unpriced model under --max-cost stops before anything is sent or created.
expect "unpriced model under --max-cost" 1 \
  "^paper\.lua: --max-cost is set but there is no price for model 'gpt-4o-2024-11-20' \(did you mean gpt-4o\?\)" \
  env OPENAI_API_KEY=sk-new-user-test-0000 "$BIN" "$PAPER" --backend=openai --models=gpt-4o-2024-11-20 --max-cost=5 --out="$tmp/unpriced"
check "the unpriced run created nothing" '[ ! -e "$tmp/unpriced" ]'
# A missing API key: one line naming the variable, nothing created.
expect "missing API key" 1 "^paper\.lua: backend 'openai' needs an API key: set the environment variable OPENAI_API_KEY$" \
  "$BIN" "$PAPER" --backend=openai --out="$tmp/nokey"
check "the keyless run created nothing" '[ ! -e "$tmp/nokey" ]'
# Another design or other models into runs/paper: refused, naming the run there and --out.
expect "other models into runs/paper" 1 "runs/paper holds another run \(models sim-small, sim-large, started .*this one has models sim-large\. Use --out=DIR" \
  "$BIN" "$PAPER" $ARGS --models=sim-large
expect "another design into runs/paper" 1 "runs/paper holds another run \(design: contexts [0-9]+[,)].*this one has design: contexts 50.*--out=DIR" \
  "$BIN" "$PAPER" --contexts=50
# A URL backend: the server's models are its own; a typo'd one is refused naming them.
"$BIN" serve --port=0 --state-dir="$tmp/serve-state" >"$tmp/serve.out" 2>&1 &
server=$!
i=0
while ! grep -q "listening on" "$tmp/serve.out" && [ $i -lt 600 ] && kill -0 "$server" 2>/dev/null; do
  sleep 0.1; i=$((i + 1))
done
url=$(sed -n 's/^introspect serve: listening on \(http[^ ]*\).*/\1/p' "$tmp/serve.out")
expect "URL backend, typo'd model" 1 "model 'sim-lrge' is not offered by $url \(available, closest first: sim-large, sim-small\)" \
  "$BIN" "$PAPER" --backend="$url" --models=sim-lrge --out="$tmp/url"
check "the URL run created nothing" '[ ! -e "$tmp/url" ]'
expect "URL backend into runs/paper" 1 "runs/paper holds another run \(backend sim, .*this one has backend $url" \
  "$BIN" "$PAPER" $ARGS --backend="$url"
after=$(find runs -type f | LC_ALL=C sort | xargs sha256sum)
check "runs/paper is untouched by the runs that should not touch it" '[ "$before" = "$after" ]'
finish
