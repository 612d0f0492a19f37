-- Starts the protocol stand-ins (tests/servers/KIND_standin.lua) as HTTP servers for specs that
-- run experiments as processes: standins.start(kind, opts) -> server {url=, pid=, log=, stop=,
-- requests(pattern) -> count of logged requests whose "METHOD PATH" matches}.
local cjson = require("cjson")
local sys = require("introspect.sys")
local util = require("introspect.core.util")

local M = {}

local BIN = os.getenv("INTROSPECT_BIN") or "build/introspect"

local Server = {}
Server.__index = Server

function M.start(kind, opts)
  local dir = os.tmpname()
  os.remove(dir)
  util.mkdir_p(dir)
  local p = io.popen(string.format("STANDIN_LOG=1 '%s' tests/servers/standin.lua %s '%s' >%s/out 2>%s/log & echo $!",
    BIN, kind, cjson.encode(opts or {}), dir, dir))
  local pid = tonumber(p:read("l"))
  p:close()
  local deadline = sys.now() + 20
  while sys.now() < deadline do
    local url = (util.read_file(dir .. "/out") or ""):match("listening on (http://%S+)")
    if url then return setmetatable({ url = url, pid = pid, dir = dir, log = dir .. "/log" }, Server) end
    sys.sleep(0.02)
  end
  sys.kill(pid, "KILL")
  error("stand-in " .. kind .. " did not start: " .. tostring(util.read_file(dir .. "/log")))
end

-- server:requests(pattern) -> number of requests logged whose "METHOD PATH" matches the Lua pattern
function Server:requests(pattern)
  local n = 0
  for line in (util.read_file(self.log) or ""):gmatch("[^\n]+") do
    local mp = line:match("^(%u+ %S+)")
    if mp and mp:match(pattern) then n = n + 1 end
  end
  return n
end

function Server:stop()
  sys.kill(self.pid, "TERM")
  os.execute("rm -rf '" .. self.dir .. "'")
end

return M
