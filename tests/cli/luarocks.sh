#!/bin/sh
# `luarocks make` with introspect-0.1.0-1.rockspec builds the C bindings against the system
# libraries and installs the Lua library into a temporary tree, offline; a plain lua5.4 then
# loads every module from that tree and runs the REPL helpers on the simulated subject.
# The build happens in a copy of the sources, so no object files land in the working tree.
SRC=${INTROSPECT_SOURCE:-$(pwd)}
ROCKSPEC=introspect-0.1.0-1.rockspec
. "$SRC/tests/lib/cli.sh"
if ! command -v luarocks >/dev/null 2>&1; then
  skip cli.luarocks "luarocks not installed (Debian package luarocks)"
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Every Lua file of the library is listed in the rockspec (a new module must be added there).
missing=""
for f in $(cd "$SRC/scripts" && find introspect -name '*.lua' | sort); do
  grep -q "\"scripts/$f\"" "$SRC/$ROCKSPEC" || missing="$missing $f"
done
check "rockspec lists every scripts/introspect module" '[ -z "$missing" ] || { echo "not in $ROCKSPEC:$missing"; false; }'
for f in $(cd "$SRC" && ls bindings/*.c); do
  grep -q "\"$f\"" "$SRC/$ROCKSPEC" || missing="$missing $f"
done
check "rockspec builds every binding" '[ -z "$missing" ] || { echo "not in $ROCKSPEC:$missing"; false; }'

mkdir -p "$tmp/src/experiments"
cp -R "$SRC/bindings" "$SRC/scripts" "$tmp/src/"
cp -R "$SRC/experiments/scenarios" "$tmp/src/experiments/"
cp "$SRC/$ROCKSPEC" "$tmp/src/"
(cd "$tmp/src" && luarocks --lua-version=5.4 --tree="$tmp/tree" make "$ROCKSPEC") >"$tmp/make.log" 2>&1; rc=$?
check "luarocks make succeeds" '[ $rc -eq 0 ] || { tail -20 "$tmp/make.log"; false; }'

LP="$tmp/tree/share/lua/5.4/?.lua;$tmp/tree/share/lua/5.4/?/init.lua;;"
LC="$tmp/tree/lib/lua/5.4/?.so;;"
run() { (cd "$tmp" && env -u INTROSPECT_SOURCE -u INTROSPECT_PATH LUA_PATH="$LP" LUA_CPATH="$LC" lua5.4 -e "$1" 2>&1); }

for b in rng stats http sqlite httpd sys; do
  check "binding $b installed" '[ -f "$tmp/tree/lib/lua/5.4/introspect/$b.so" ]'
done

# Every module of the library loads from the tree (and from nowhere else: cwd is the tree's parent).
out=$(run '
  local ix = require "introspect"
  for _, name in ipairs(ix.modules) do
    local path = ix.paths[name]
    local mod = require(path)
    assert(type(mod) == "table", name)
    assert(package.searchpath(path, package.path) == nil
      or package.searchpath(path, package.path):find(os.getenv("PWD") .. "/tree/", 1, true), name)
  end
  print("ok")')
check "require of every module from the tree" '[ "$out" = ok ] || { echo "$out"; false; }'

out=$(run 'print(require("introspect.stats").scale_weights({0.8, -0.4, 0.001})[2])')
check "stats binding works" '[ "$out" = "-50" ] || { echo "$out"; false; }'

# The REPL helpers find the installed scenario library without a checkout.
out=$(run '
  local ix = require "introspect"
  ix.use({ seed = 3 })
  local r = ix.choose(1)
  assert(r.choice == "A" or r.choice == "B", tostring(r.reply))
  print(#ix.contexts(400).rows)')
check "ix helpers work from the installed tree" '[ "$out" -gt 100 ] 2>/dev/null || { echo "$out"; false; }'

finish
