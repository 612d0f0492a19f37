#!/bin/sh
# Ctrl-C during pool:perform inside the host: the transfers (to a server that accepts but never
# answers) are cleaned up and the script stops with "interrupted!" long before its 30 s are up.
# Synchronised on events, not sleeps: Ctrl-C is sent once the listener has accepted a
# connection (so the host is inside pool:perform's C loop), or, for http.sleep, once the process
# sleeps in the kernel (state S in /proc/PID/stat).
BIN=${INTROSPECT_BIN:-build/introspect}
tmp=$(mktemp -d)
/usr/bin/python3 -c "
import socket, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
held = []
while True:
    held.append(s.accept()[0])
    print('accepted', len(held), flush=True)
time.sleep(30)" > "$tmp/port" &
listener=$!
trap 'kill $listener 2>/dev/null; rm -rf "$tmp"' EXIT
# wait_for FILE REGEX: polls (up to 30 s) until FILE has a line matching REGEX
wait_for() {
  i=0
  while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt 3000 ]; do sleep 0.01; i=$((i + 1)); done
}
# sleeping PID: waits (up to 30 s) until the process sleeps in the kernel
wait_sleeping() {
  i=0
  while [ -e /proc/$1 ] && [ "$(sed 's/.*) //' /proc/$1/stat 2>/dev/null | cut -c1)" != S ] && [ $i -lt 3000 ]; do
    sleep 0.01; i=$((i + 1))
  done
}
wait_for "$tmp/port" '^[0-9]'
port=$(head -1 "$tmp/port")
cat > "$tmp/hang.lua" <<LUA
local http = require "introspect.http"
local reqs = {}
for i = 1, 8 do reqs[i] = { url = "http://127.0.0.1:$port/" } end
io.stdout:write("started\n") io.stdout:flush()
http.pool({ concurrency = 8, timeout = 30 }):perform(reqs)
print("not interrupted")
LUA
"$BIN" "$tmp/hang.lua" > "$tmp/out" 2>&1 &
pid=$!
wait_for "$tmp/port" "accepted 1"
wait_sleeping $pid
kill -INT $pid
t0=$(date +%s%N)
wait $pid
code=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
passed=0; failed=0
if [ "$code" -ne 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: exit code 0"; fi
if grep -q "interrupted!" "$tmp/out"; then passed=$((passed + 1));
else failed=$((failed + 1)); echo "FAIL: no 'interrupted!' in: $(cat "$tmp/out")"; fi
if grep -q "not interrupted" "$tmp/out"; then failed=$((failed + 1)); echo "FAIL: perform returned";
else passed=$((passed + 1)); fi
if [ "$ms" -lt 10000 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: took $ms ms"; fi
# the same for http.sleep (used by the fine-tuning and batch waiters)
printf 'io.stdout:write("started\\n") io.stdout:flush()\nrequire("introspect.http").sleep(30)\nprint("not interrupted")\n' > "$tmp/sleep.lua"
"$BIN" "$tmp/sleep.lua" > "$tmp/out2" 2>&1 &
pid=$!
wait_for "$tmp/out2" started
wait_sleeping $pid
kill -INT $pid
t0=$(date +%s%N)
wait $pid
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if grep -q "interrupted!" "$tmp/out2" && ! grep -q "not interrupted" "$tmp/out2" && [ "$ms" -lt 10000 ]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAIL: http.sleep not interrupted within 10 s ($ms ms): $(cat "$tmp/out2")"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
