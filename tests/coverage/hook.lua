-- tests/coverage/hook.lua: Lua line coverage for `make coverage` (luacov is not in Debian).
-- Loaded through LUA_INIT=@tests/coverage/hook.lua by every host process a test starts; counts
-- the lines executed in files under $INTROSPECT_COVERAGE_ROOT with a debug.sethook line hook
-- and appends them to $INTROSPECT_COVERAGE_DIR/lua-PID.txt ("path<TAB>line" per line) when the
-- process ends (at lua_close, or in os.exit, which the hook wraps so no count is lost). It
-- changes os.exit, require and coroutine.create/wrap of the processes it runs in: a coverage run
-- only.
local root = os.getenv("INTROSPECT_COVERAGE_ROOT")
local dir = os.getenv("INTROSPECT_COVERAGE_DIR")
if not root or not dir then return end
local prefix = "@" .. root .. "/"
local getinfo, sub = debug.getinfo, string.sub
local hits, wanted = {}, {}

local function hook(_, line)
  local src = getinfo(2, "S").source
  local keep = wanted[src]
  if keep == nil then
    keep = sub(src, 1, #prefix) == prefix or sub(src, 1, 2) == "@." or (sub(src, 1, 1) == "@" and sub(src, 2, 2) ~= "/")
    wanted[src] = keep
  end
  if keep then
    local t = hits[src]
    if not t then t = {}; hits[src] = t end
    t[line] = true
  end
end

local function flush()
  debug.sethook()
  local pid = 0
  local ok, sys = pcall(require, "introspect.sys")
  if ok and sys.getpid then pid = sys.getpid() end
  local f = io.open(string.format("%s/lua-%d-%d.txt", dir, pid, math.random(1, 1 << 30)), "w")
  if not f then return end
  for src, lines in pairs(hits) do
    local path = sub(src, 2)
    for line in pairs(lines) do f:write(path, "\t", line, "\n") end
  end
  f:close()
  hits = {}
end

local exit = os.exit
os.exit = function(...)   -- luacheck: ignore 122
  flush()
  return exit(...)
end
-- at lua_close: a sentinel whose __gc flushes
_G.__introspect_coverage = setmetatable({}, { __gc = flush })
-- hooks are per coroutine: every new one gets the counter too
local create = coroutine.create
coroutine.create = function(f)   -- luacheck: ignore 122
  local co = create(f)
  debug.sethook(co, hook, "l")
  return co
end
coroutine.wrap = function(f)   -- luacheck: ignore 122
  local co = create(f)
  debug.sethook(co, hook, "l")
  return function(...)
    local r = table.pack(coroutine.resume(co, ...))
    if not r[1] then error(r[2], 2) end
    return table.unpack(r, 2, r.n)
  end
end
-- The host clears hooks when the LUA_INIT chunk returns (its Ctrl-C handling, as lua.c's), so
-- the counter is armed again by the script's first require (and re-armed by any later one).
local require_ = require
require = function(...)   -- luacheck: ignore 121
  if debug.gethook() ~= hook then debug.sethook(hook, "l") end
  return require_(...)
end
debug.sethook(hook, "l")
