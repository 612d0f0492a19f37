-- Starts and stops tests/servers/fake_openai.py for specs: fake.start(args) -> server
-- server = {port=, base_url=, key=, pid=}; server:stats() -> table; server:stop().
local cjson = require("cjson")
local http = require("introspect.http")

local M = {}
M.KEY = "sk-test-SECRET-0123456789"

local function source_dir()
  return os.getenv("INTROSPECT_SOURCE") or "."
end

local Server = {}
Server.__index = Server

-- start(extra_args) -> server. Raises when the server does not come up.
function M.start(extra_args)
  local cmd = string.format("/usr/bin/python3 %s/tests/servers/fake_openai.py --port 0 %s & echo PID $!",
    source_dir(), extra_args or "")
  local pipe = assert(io.popen(cmd, "r"))
  local pid = pipe:read("l"):match("^PID (%d+)")
  local port = (pipe:read("l") or ""):match("^PORT (%d+)")
  assert(pid and port, "fake_openai.py did not start")
  local s = setmetatable({pid = pid, port = tonumber(port), pipe = pipe, key = M.KEY}, Server)
  s.root = "http://127.0.0.1:" .. port
  s.base_url = s.root .. "/v1"
  return s
end

-- server:get(path) -> decoded JSON of a control endpoint.
function Server:get(path)
  local r = http.request({url = self.root .. path})
  assert(r.status == 200, r.error or r.body)
  return cjson.decode(r.body)
end

function Server:stats() return self:get("/_stats") end
function Server:reset() return self:get("/_reset") end

function Server:stop()
  if self.pid then os.execute("kill " .. self.pid .. " 2>/dev/null") end
  self.pid = nil
  if self.pipe then self.pipe:close() end
  self.pipe = nil
end

-- tmpdb() -> a fresh temporary database path; cleanup_db(path) removes it, its WAL files and
-- the store's pending log.
function M.tmpdb()
  local p = os.tmpname()
  os.remove(p)
  return p .. ".db"
end

function M.cleanup_db(p)
  for _, s in ipairs({ "", "-wal", "-shm", "-pending" }) do os.remove(p .. s) end
end

-- interpreter() -> shell command running a Lua script with the introspect modules: the host
-- ($INTROSPECT_BIN) when it exists, else lua5.4 (with the inherited LUA_PATH / LUA_CPATH).
function M.interpreter()
  local bin = os.getenv("INTROSPECT_BIN")
  if bin and io.open(bin, "rb") then return bin end
  return "lua5.4"
end

-- spawn(code [, env]) -> pid, pipe, script: runs Lua `code` in a background process
-- (package.path gets the source tree's scripts/ and tests/), its stdout readable from pipe;
-- env is a shell prefix of variable assignments ("http_proxy=...").
function M.spawn(code, env)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  local src = source_dir()
  f:write(string.format("package.path = %q .. package.path\n",
    src .. "/scripts/?.lua;" .. src .. "/tests/?.lua;"), code)
  f:close()
  local pipe = assert(io.popen((env and env .. " " or "") .. M.interpreter() .. " " .. path
    .. " & echo PID $!", "r"))
  local pid = pipe:read("l"):match("^PID (%d+)")
  return pid, pipe, path
end

-- kill9(pid): kill -9 and wait (up to 10 s) until the process is gone or a zombie (its files,
-- and so its locks, released).
function M.kill9(pid)
  os.execute(string.format("kill -9 %s; for i in $(seq 1000); do s=$(ps -o stat= -p %s) || break; "
    .. "case $s in Z*) break;; esac; sleep 0.01; done", pid, pid))
end

return M
