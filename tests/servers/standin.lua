-- Serves one of the protocol stand-ins (tests/servers/KIND_standin.lua) over HTTP, for tests that
-- run experiments as processes:
--   introspect tests/servers/standin.lua KIND [OPTIONS-JSON]
-- prints "listening on http://127.0.0.1:PORT/v1" once it accepts connections; stops on SIGTERM
-- or Ctrl-C. OPTIONS-JSON goes to the stand-in's new() (e.g. '{"refuse_finetune": true}').
local cjson = require("cjson")
local httpd = require("introspect.httpd")
local here = (arg[0]:match("^(.*)/[^/]*$") or ".")
package.path = here .. "/?.lua;" .. here .. "/../?.lua;" .. package.path

local kind, json_opts = arg[1], arg[2]
if not kind then
  io.stderr:write("usage: introspect tests/servers/standin.lua KIND [OPTIONS-JSON]\n")
  os.exit(2)
end
-- JSON numbers that are whole become Lua integers (the stand-ins check option types)
local function integers(v)
  if type(v) == "number" then return math.tointeger(v) or v end
  if type(v) ~= "table" then return v end
  for k, x in pairs(v) do v[k] = integers(x) end
  return v
end
local opts = json_opts and integers(cjson.decode(json_opts)) or {}
local standin = require(kind:gsub("-", "_") .. "_standin").new(opts)
local server = assert(httpd.new({ host = "127.0.0.1", port = 0 }))
io.stdout:write(string.format("listening on http://127.0.0.1:%d/v1\n", server:port()))
io.stdout:flush()
local ok, err = pcall(require("introspect.sim.server").serve, server, standin,
  { log = os.getenv("STANDIN_LOG") and function(line) io.stderr:write(line, "\n") end or nil })
server:close()
if not ok and not tostring(err):find("interrupted", 1, true) then
  io.stderr:write("standin: ", tostring(err), "\n")
  os.exit(1)
end
