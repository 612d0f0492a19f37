-- Fuzz target: the simulated API's request handling (api:handle, behind `introspect serve`).
-- Input: "METHOD PATH\nname: value\n...\n\nbody" (a request line, headers, a blank line, the
-- body). Contract (docs/serve.md): handle never raises for anything a client sends, answers with
-- a status between 200 and 599, a string body, and, with no faults configured, never a 500 (an
-- internal error). A JSON body is valid JSON. One api is kept for 500 inputs, so uploads, jobs
-- and batches created by earlier inputs are visible to later ones.
local sim = require("introspect.sim")
local cjson = require("cjson")
local S = require("fuzz_support")

local api, used = nil, 0

local function request(data)
  local head, body = data:match("^(.-)\n\n(.*)$")
  if not head then head, body = data, "" end
  local line, rest = head:match("^([^\n]*)\n?(.*)$")
  local method, path = line:match("^(%S+)%s+(%S+)")
  local headers = {}
  for h in rest:gmatch("[^\n]+") do
    local k, v = h:match("^([^:]+):%s*(.-)%s*$")
    if k then headers[k:lower()] = v end
  end
  return { method = method or "GET", path = path or line, headers = headers, body = body }
end

return function(data)
  if api == nil or used >= 500 then
    api, used = sim.api{ job_duration = 0, batch_duration = 0, max_body = 1 << 16 }, 0
  end
  used = used + 1
  local req = request(data)
  local res = api:handle(req)
  if math.type(res.status) ~= "integer" or res.status < 200 or res.status > 599 then
    S.finding("status %s", tostring(res.status))
  end
  if res.status == 500 then S.finding("internal error on %s %s", req.method, req.path) end
  if type(res.body) ~= "string" then S.finding("body of type %s", type(res.body)) end
  if (res.headers["content-type"] or ""):find("json", 1, true) and res.body ~= "" then
    local ok = pcall(cjson.decode, res.body)
    if not ok then S.finding("invalid JSON body for %s %s", req.method, req.path) end
  end
end
