-- Helpers for the specs that run experiments/paper.lua and `introspect serve` as processes.
local cjson = require "cjson"
local sys = require "introspect.sys"
local util = require "introspect.core.util"

local M = {}

M.BIN = os.getenv("INTROSPECT_BIN") or "build/introspect"
-- A small design: 20 instilled + 20 native contexts, one model, 20 choices, 3 reports.
M.SMALL = "--contexts=20 --models=sim-large --trials=20 --reports=3"

-- tmpdir() -> a fresh path that does not exist yet
function M.tmpdir()
  local p = os.tmpname()
  os.remove(p)
  return p
end

-- run(args[, env]) -> output (stdout and stderr), exit code of `introspect experiments/paper.lua ARGS`
-- env: text put before the command ("VAR=value ...").
function M.run(args, env)
  local p = io.popen(string.format("%s '%s' experiments/paper.lua %s 2>&1; echo \"exit=$?\"",
    env or "", M.BIN, args))
  local out = p:read("a")
  p:close()
  return out, tonumber(out:match("exit=(%d+)%s*$"))
end

-- read_json(path) -> decoded value (fails the test if the file is missing)
function M.read_json(path)
  local text = util.read_file(path)
  assert(type(text) == "string", "missing " .. path)
  return cjson.decode(text)
end

-- sqlite_count(path[, where]) -> number of rows in a response store's responses table
function M.sqlite_count(path, where)
  local sqlite = require "introspect.sqlite"
  local db = assert(sqlite.open(path, { readonly = true }))
  local rows = db:rows("SELECT count(*) AS n FROM responses" .. (where and (" WHERE " .. where) or ""))
  db:close()
  return rows[1].n
end

-- stored_count(path) -> the successful responses a run resuming from the store at `path` finds:
-- opening it as the client does replays its pending log (records written but not yet
-- committed when the process was killed), which a plain count of the database would miss.
function M.stored_count(path)
  local st = assert(require("introspect.client.store").open(path))
  local rows = st.db:rows("SELECT count(*) AS n FROM responses WHERE ok = 1")
  st:close()
  return rows[1].n
end

-- serve(args) -> url, pid, log path, dir: starts `introspect serve --port=0 --log ARGS` with a
-- state directory, waits until it listens. Stop it with sys.kill(pid, "TERM").
function M.serve(args)
  local dir = M.tmpdir()
  util.mkdir_p(dir)
  local p = io.popen(string.format("'%s' serve --port=0 --log --state-dir=%s/state %s >%s/out 2>%s/log & echo $!",
    M.BIN, dir, args or "", dir, dir))
  local pid = tonumber(p:read("l"))
  p:close()
  local deadline = sys.now() + 20
  while sys.now() < deadline do
    local url = (util.read_file(dir .. "/out") or ""):match("listening on (http://%S+)")
    if url then return url, pid, dir .. "/log", dir end
    sys.sleep(0.02)
  end
  sys.kill(pid, "KILL")
  error("introspect serve did not start: " .. tostring(util.read_file(dir .. "/log")))
end

-- files(dir) -> every regular file below dir
function M.files(dir)
  local p = io.popen("find '" .. dir .. "' -type f")
  local list = {}
  for f in p:lines() do list[#list + 1] = f end
  p:close()
  return list
end

return M
