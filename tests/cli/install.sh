#!/bin/sh
# `cmake --install` puts the executable, the C modules and the Lua library where the installed
# host and stock lua5.4 find them.
BUILD=${INTROSPECT_BUILD:-build}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. "${INTROSPECT_SOURCE:-.}/tests/lib/cli.sh"

cmake --install "$BUILD" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1; rc=$?
check "install succeeds" '[ $rc -eq 0 ] || { cat "$tmp/install.log"; false; }'
check "executable installed" '[ -x "$tmp/prefix/bin/introspect" ]'
check "library installed" '[ -f "$tmp/prefix/share/lua/5.4/introspect/init.lua" ]'
libdir=$(find "$tmp/prefix" -type d -path '*/lua/5.4/introspect' -not -path '*/share/*' | head -1)
check "modules installed" '[ -n "$libdir" ] || [ -z "$(ls "$BUILD/lua/introspect" 2>/dev/null)" ]'

# The installed host finds its installed library, from anywhere, without INTROSPECT_PATH.
out=$(cd "$tmp" && env -u INTROSPECT_PATH "$tmp/prefix/bin/introspect" -e \
  'require "introspect"; print(require("introspect.host").library_dir)' 2>&1)
check "installed host uses installed library" '[ "$out" = "$(cd "$tmp/prefix/share/lua/5.4" && pwd -P)" ] || { echo "$out"; false; }'

if [ "${INTROSPECT_SANITIZE:-0}" != 1 ] && [ -n "$libdir" ]; then
  cpath="$(dirname "$libdir")/?.so"
  for so in "$libdir"/*.so; do
    [ -e "$so" ] || continue
    name=$(basename "$so" .so)
    out=$(cd "$tmp" && LUA_CPATH="$cpath" LUA_PATH="$tmp/prefix/share/lua/5.4/?.lua;$tmp/prefix/share/lua/5.4/?/init.lua;;" \
      lua5.4 -e "assert(type(require 'introspect.$name') == 'table'); require 'introspect'; print 'ok'" 2>&1)
    check "stock lua5.4 loads installed introspect.$name" '[ "$out" = ok ] || { echo "$out"; false; }'
  done
fi

finish
