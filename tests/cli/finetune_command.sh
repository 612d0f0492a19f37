#!/bin/sh
# paper.lua --finetune-command: the command gets the files and hyperparameters as options, its
# last output line names the served model, and a resumed run does not run it again.
BIN=${INTROSPECT_BIN:-build/introspect}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. "${INTROSPECT_SOURCE:-.}/tests/lib/cli.sh"
export FAKE_FINETUNE_LOG="$tmp/calls.log"
args="--contexts=20 --models=sim-large --trials=10 --reports=2 --out=$tmp/run --n-epochs=2"
"$BIN" experiments/paper.lua $args --finetune-command="$PWD/tests/fixtures/fake-finetune.sh" >"$tmp/out" 2>&1
check "run succeeds" '[ $? -eq 0 ] || { cat "$tmp/out"; false; }'
check "four fine-tunes" '[ "$(wc -l < "$tmp/calls.log")" -eq 4 ]'
check "instill gets its files" 'grep -q -- "--base-model=sim-large --training-file=$tmp/run/instill_20_prefs.jsonl --suffix=20-instilled-prefs-50ex --seed=4 --validation-file=$tmp/run/instill_20_prefs_val.jsonl --n-epochs=2" "$tmp/calls.log"'
check "trained from the served instilled model" 'grep -q -- "--base-model=sim-large --training-file=$tmp/run/instilled_weights_10_training_test_last.jsonl --suffix=itrained-first-10-of-20-50ex" "$tmp/calls.log"'
check "no validation file for all_100" 'grep -- "--suffix=itrained-all-20-50ex" "$tmp/calls.log" | grep -vq -- "--validation-file"'
check "served model recorded" 'grep -q "\"model\": \"sim-large\"" "$tmp/run/state.json"'
"$BIN" experiments/paper.lua $args --finetune-command="$PWD/tests/fixtures/fake-finetune.sh" >"$tmp/out2" 2>&1
check "resume succeeds" '[ $? -eq 0 ] || { cat "$tmp/out2"; false; }'
check "command not run again" '[ "$(wc -l < "$tmp/calls.log")" -eq 4 ]'
"$BIN" experiments/paper.lua $args --out="$tmp/run2" --finetune-command=false >"$tmp/out3" 2>&1
check "failing command is an error" '[ $? -eq 1 ] && grep -q "finetune-command failed" "$tmp/out3"'
finish
