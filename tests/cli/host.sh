#!/bin/sh
# Command-line behaviour of the introspect host: scripts and arg, -e, -l, -v, -E, stdin,
# LUA_INIT, shebang, subcommands, error messages with tracebacks and exit codes.
BIN=${INTROSPECT_BIN:-build/introspect}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. "${INTROSPECT_SOURCE:-.}/tests/lib/cli.sh"

printf 'print("args", #arg, arg[0], arg[1], arg[2], ...)\n' > "$tmp/args.lua"
expect "script args" 0 "^args	2	$tmp/args.lua	x	y z	x	y z$" "$BIN" "$tmp/args.lua" x "y z"
expect "-e" 0 "^3$" "$BIN" -e "print(1+2)"
expect "-e twice in order" 0 "^ab$" "$BIN" -e "io.write('a')" -e "print('b')"
expect "-l mod" 0 "^table$" "$BIN" -l introspect.repl.pretty -e "print(type(package.loaded['introspect.repl.pretty']))"
expect "-l g=mod" 0 "^function$" "$BIN" -l pp=introspect.repl.pretty -e "print(type(pp.format))"
expect "-v" 0 "^introspect [0-9.]+  Lua 5\.4\.[0-9]+  libcurl [0-9.]+  GSL [0-9.]+" "$BIN" -v
expect "version" 0 "Lua library: " "$BIN" version
expect "version --json" 0 '"lua":"Lua 5\.4' "$BIN" version --json
expect "help lists commands" 0 "repl +interactive" "$BIN" help
expect "stdin script" 0 "^from stdin$" sh -c "echo 'print(\"from stdin\")' | '$BIN'"
expect "- reads stdin" 0 "^dash	1$" sh -c "echo 'print(\"dash\", ...)' | '$BIN' - 1"
expect "-i: REPL after the script" 0 "^42$" sh -c "echo 'X = 41' > '$tmp/i.lua'; echo 'X + 1' | '$BIN' -i '$tmp/i.lua'"
expect "LUA_INIT" 0 "^init first$" env LUA_INIT="io.write('init ')" "$BIN" -e "print('first')"
expect "LUA_INIT @file" 0 "^from file$" sh -c "echo 'X=\"from file\"' > '$tmp/init.lua'; LUA_INIT=@$tmp/init.lua '$BIN' -e 'print(X)'"
expect "-E ignores LUA_INIT" 0 "^nil$" env LUA_INIT="X=1" "$BIN" -E -e "print(X)"
expect "LUA_INIT before a subcommand" 0 "^init introspect" env LUA_INIT="io.write('init ')" "$BIN" version
expect "a debug hook set by LUA_INIT stays" 0 "^true$" env LUA_INIT="debug.sethook(function() end, 'l')" "$BIN" -e "print(debug.gethook() ~= nil)"
expect "cjson preloaded" 0 '^\[1,2\]$' "$BIN" -e "print(require('cjson').encode({1,2}))"
expect "cjson.safe preloaded" 0 "^nil" "$BIN" -e "print(require('cjson.safe').decode('{'))"
expect "host module" 0 "^string$" "$BIN" -e "print(type(require('introspect.host').library_dir))"
expect "generational collector (lalloc_gc_mode)" 0 "^generational$" "$BIN" -e "print(collectgarbage('incremental'))"

printf '#!/usr/bin/env introspect\nprint("shebang", arg[1])\n' > "$tmp/sb"; chmod +x "$tmp/sb"
bindir=$(cd "$(dirname "$BIN")" && pwd)
expect "shebang" 0 "^shebang	q$" env PATH="$bindir:$PATH" "$tmp/sb" q

printf 'local function inner() error("deep failure") end\nlocal function outer() inner() end\nouter()\n' > "$tmp/err.lua"
expect "error file:line" 1 "^$tmp/err.lua:1: deep failure$" "$BIN" "$tmp/err.lua"
expect "error traceback" 1 "in (local|upvalue) 'outer'" "$BIN" "$tmp/err.lua"
expect "syntax error" 1 "$tmp/bad.lua:1: .*near" sh -c "echo 'x = = 1' > '$tmp/bad.lua'; '$BIN' '$tmp/bad.lua'"
expect "missing script" 1 "cannot open $tmp/none.lua" "$BIN" "$tmp/none.lua"
expect "structured error" 1 "^status 429$" "$BIN" -e "error(setmetatable({}, {__tostring=function() return 'status 429' end}))"
expect "os.exit code" 0 "" sh -c "'$BIN' -e 'os.exit(7)'; test \$? -eq 7"
expect "bad option exit 2" 2 "unrecognized option '--bogus'" "$BIN" --bogus
expect "-e needs argument" 2 "'-e' needs argument" "$BIN" -e
expect "usage printed" 2 "^usage: introspect" "$BIN" -x

# Subcommands are Lua modules: a new file in introspect/cmd/ is a new command.
mkdir -p "$tmp/lib/introspect/cmd"
cp -r scripts/introspect/. "$tmp/lib/introspect/"
printf 'return { summary = "test command", main = function(args) print("hello", #args, args[1]); return 5 end }\n' \
  > "$tmp/lib/introspect/cmd/hello.lua"
expect "subcommand dispatch" 5 "^hello	2	a$" env INTROSPECT_PATH="$tmp/lib" "$BIN" hello a b
expect "subcommand in help" 0 "hello +test command" env INTROSPECT_PATH="$tmp/lib" "$BIN" help
expect "INTROSPECT_PATH used" 0 "^$tmp/lib$" env INTROSPECT_PATH="$tmp/lib" "$BIN" -e "print(require('introspect.host').library_dir)"
expect "a word that is neither command nor file" 2 "'nosuchword' is neither a command nor a file" "$BIN" nosuchword
expect "a mistyped command gets the closest" 2 "did you mean serve\?" "$BIN" serv
expect "--help is help" 0 "^commands:" "$BIN" --help
expect "repl rejects args" 2 "usage: introspect repl" "$BIN" repl extra
expect "options: unknown rejected" 2 "unknown option '--nope'" "$BIN" version --nope
# libmicrohttpd's version as installed (its MHD_VERSION digits are hex: 0.9.75, not 0.9.117)
if mhd=$(pkg-config --modversion libmicrohttpd 2>/dev/null); then
  expect "libmicrohttpd version as installed" 0 "libmicrohttpd $mhd " "$BIN" version
fi

finish
