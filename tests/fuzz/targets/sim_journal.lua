-- Fuzz target: the simulated subject's state journal (DIR/journal.jsonl, replayed when
-- `introspect serve --state-dir=DIR` or a sim run resumes). Contract (docs/serve.md): a last
-- line torn by a kill is dropped; anything else unreadable makes sim.api raise "sim.api: ..."
-- naming the journal file and line; no other error, and a loaded api answers GET /v1/models.
local sim = require("introspect.sim")
local util = require("introspect.core.util")
local S = require("fuzz_support")

local dir = os.tmpname()
os.remove(dir)
util.mkdir_p(dir)

return function(data)
  assert(util.write_file_atomic(dir .. "/journal.jsonl", data))
  local ok, api = pcall(sim.api, { state_dir = dir, profiles = { "sim-small" } })
  if not ok then
    if type(api) ~= "string" or not api:find("^sim%.api: ") then
      S.finding("sim.api raised outside its contract: %s", tostring(api))
    end
    return
  end
  local res = api:handle({ method = "GET", path = "/v1/models", headers = {}, body = "" })
  if res.status ~= 200 then S.finding("GET /v1/models answered %s after loading", tostring(res.status)) end
end
