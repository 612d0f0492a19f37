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
-- lines[func] = {line = true}: keyed by function (getinfo "f" is half the cost of "S"); the
-- source of each function is looked up once, when the counts are written
local lines = {}

local function hook(_, line)
  local f = getinfo(2, "f").func
  local t = lines[f]
  if not t then t = {}; lines[f] = t end
  t[line] = true
end

local function flush()
  debug.sethook()
  local pid = 0
  local ok, sys = pcall(require, "introspect.sys")
  if ok and sys.getpid then pid = sys.getpid() end
  local out = {}
  for f, set in pairs(lines) do
    local src = getinfo(f, "S").source
    if sub(src, 1, #prefix) == prefix or (sub(src, 1, 1) == "@" and sub(src, 2, 2) ~= "/") then
      local path = sub(src, 2)
      for line in pairs(set) do out[#out + 1] = path .. "\t" .. line .. "\n" end
    end
  end
  lines = {}
  if #out == 0 then return end
  local file = io.open(string.format("%s/lua-%d-%d.txt", dir, pid, math.random(1, 1 << 30)), "w")
  if not file then return end
  file:write(table.concat(out))
  file:close()
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
