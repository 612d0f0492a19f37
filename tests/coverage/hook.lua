-- tests/coverage/hook.lua: Lua line coverage for `make coverage` (luacov is not in Debian).
-- Loaded through LUA_INIT=@tests/coverage/hook.lua by every host or lua5.4 process a test
-- starts. The line counter is the C hook of introspect.coverage (bindings/coverage.c; this file
-- is its policy): it is set on every thread, the lines run in files under
-- $INTROSPECT_COVERAGE_ROOT are appended to $INTROSPECT_COVERAGE_DIR/lua-PID-N.txt
-- ("path<TAB>line" per line) when the process ends (at lua_close, or in os.exit, which is
-- wrapped so no line is lost). Under stock lua5.4 without the build's modules on LUA_CPATH the
-- binding is loaded from $INTROSPECT_COVERAGE_MODULE. It changes os.exit, require and
-- coroutine.create/wrap of the processes it runs in: a coverage run only.
local root = os.getenv("INTROSPECT_COVERAGE_ROOT")
local dir = os.getenv("INTROSPECT_COVERAGE_DIR")
-- LUA_INIT is read by every Lua (luarocks runs on lua5.1): this file parses under 5.1 and counts
-- under 5.4 only
if not root or not dir or _VERSION ~= "Lua 5.4" then return end
local prefix = "@" .. root .. "/"
local sub = string.sub

local ok, cov = pcall(require, "introspect.coverage")
if not ok then
  local so = os.getenv("INTROSPECT_COVERAGE_MODULE")
  local open = so and package.loadlib(so, "luaopen_introspect_coverage")
  if not open then
    io.stderr:write("tests/coverage/hook.lua: introspect.coverage not found (set INTROSPECT_COVERAGE_MODULE)\n")
    os.exit(3)
  end
  cov = open()
  package.loaded["introspect.coverage"] = cov
end

-- flush(): writes the lines recorded so far (files under root, and relative "@" paths) and
-- forgets them; a line event the recorder could not keep is written as "lost<TAB>N", which
-- report.lua refuses.
local function flush()
  local lines, lost = cov.lines()
  cov.clear()
  local out = {}
  if lost > 0 then out[1] = "lost\t" .. lost .. "\n" end
  for src, set in pairs(lines) do
    if sub(src, 1, #prefix) == prefix or (sub(src, 1, 1) == "@" and sub(src, 2, 2) ~= "/") then
      local path = sub(src, 2)
      for line in pairs(set) do out[#out + 1] = path .. "\t" .. line .. "\n" end
    end
  end
  if #out == 0 then return end
  local pid = 0
  local has_sys, sys = pcall(require, "introspect.sys")
  if has_sys and sys.getpid then pid = sys.getpid() end
  local name = string.format("%s/lua-%d-%d.txt", dir, pid, math.random(1, 1073741824))
  local file = io.open(name, "w")
  if not file then
    io.stderr:write("tests/coverage/hook.lua: cannot write " .. name .. "\n")
    return
  end
  file:write(table.concat(out))
  file:close()
end

cov.start()
local exit = os.exit
os.exit = function(...)   -- luacheck: ignore 122
  flush()
  return exit(...)
end
-- At lua_close: a sentinel whose __gc flushes. It is marked for finalization after the
-- recorder (made by cov.start above), so it is finalized first, while the recorder still holds
-- the lines.
debug.getregistry()["tests/coverage/hook.lua"] = setmetatable({}, { __gc = flush })
-- A thread inherits the hook of the thread that creates it; threads made while the hook was
-- off (after a Ctrl-C: the host's interrupt hook replaces it) get it here.
local create, wrap = coroutine.create, coroutine.wrap
coroutine.create = function(f)   -- luacheck: ignore 122
  local co = create(f)
  cov.start(co)
  return co
end
coroutine.wrap = function(f)   -- luacheck: ignore 122
  if type(f) ~= "function" then return wrap(f) end
  return wrap(function(...)
    cov.start()
    return f(...)
  end)
end
-- Re-armed by any require after something replaced or removed the hook (a Ctrl-C, a
-- debug.sethook).
local require_ = require
require = function(...)   -- luacheck: ignore 121
  if not cov.active() then cov.start() end
  return require_(...)
end
