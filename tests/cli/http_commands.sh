#!/bin/sh
# `introspect probe` and `introspect store` against tests/servers/fake_openai.py.
BIN=${INTROSPECT_BIN:-build/introspect}
SRC=${INTROSPECT_SOURCE:-.}
tmp=$(mktemp -d)
/usr/bin/python3 "$SRC/tests/servers/fake_openai.py" --port 0 --key sk-cli-test-0123456789 > "$tmp/port" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$tmp"' EXIT
i=0   # wait for the server to say its port (up to 60 s: a loaded machine starts python slowly)
while [ ! -s "$tmp/port" ] && [ $i -lt 600 ] && kill -0 "$server" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
url="http://127.0.0.1:$(sed 's/PORT //' "$tmp/port")/v1"
. "${INTROSPECT_SOURCE:-.}/tests/lib/cli.sh"
CLI_FORBID=sk-cli-test   # the API key never shows in any output
export OPENAI_API_KEY=sk-cli-test-0123456789
expect "probe" 0 "logprobs +yes" "$BIN" probe --backend="$url"
expect "probe names the model" 0 "model fake-model" "$BIN" probe --backend="$url"
expect "probe bad key" 1 "invalid_api_key" env OPENAI_API_KEY=sk-wrong-0123456789abc "$BIN" probe --backend="$url"
expect "probe unknown backend" 1 "unknown backend 'nope'" "$BIN" probe --backend=nope
cat > "$tmp/fill.lua" <<LUA
local openai = require "introspect.client.openai"
local store = require "introspect.client.store"
local st = assert(store.open("$tmp/r.sqlite", { run = "cli" }))
local c = openai.new({ base_url = "$url", store = st })
c:chat_many({ { model = "gpt-4o-mini-2024-07-18", messages = { { role = "user", content = "a" } } },
  { model = "gpt-4o-mini-2024-07-18", messages = { { role = "user", content = "b fault=400" } } } })
st:close()
LUA
"$BIN" "$tmp/fill.lua" || fail "filling the store"
expect "store summary" 0 "gpt-4o-mini-2024-07-18 +ok +1 requests" "$BIN" store "$tmp/r.sqlite"
expect "store errors" 0 "errors +1 requests" "$BIN" store "$tmp/r.sqlite"
expect "store export" 0 "exported 2 records" "$BIN" store "$tmp/r.sqlite" --export="$tmp/r.jsonl"
expect "export is JSONL" 0 "^2$" sh -c "grep -c '\"key\":' '$tmp/r.jsonl'"
expect "store missing" 1 "no such file" "$BIN" store "$tmp/none.sqlite"
finish
