-- Benchmark: core/pyjson's encoder (bindings/pyjson.c) on the study's JSON: 4,000 decision
-- requests (as the client sends them) and the simulated subject's 4,000 replies to them (decoded,
-- with logprobs), each encoded with Python's defaults, as pyjson.compact and as pyjson.file.
-- Peer: cjson.encode on the same values in the same run (it sorts nothing and writes floats with
-- 14 digits, so it does less). Also the Lua encoder it replaced (tests/lib/pyjson_reference.lua).
-- Each figure is the best CPU time of 5 passes (the machine is shared).
local cjson = require "cjson"
local sys = require "introspect.sys"

package.path = "tests/?.lua;" .. package.path
local S = require "sim_support"
local sim = require "introspect.sim"
local pyjson = require "introspect.core.pyjson"
local ref = require "lib.pyjson_reference"

local N, PASSES = 4000, 5
local values = {}
local api = sim.api({})
local headers = { ["content-type"] = "application/json", authorization = "Bearer sk-sim" }
local contexts = S.contexts(20)
for c = 1, 20 do
  local t = S.trials(contexts[c], N // 20, 40 + c)
  for j = 1, N // 20 do
    local body = { model = "sim-large", temperature = 0, logprobs = true, top_logprobs = 2,
      messages = { { role = "system", content = S.SYSTEM },
        { role = "user", content = S.decision(contexts[c], t, j) } } }
    local res = api:handle({ method = "POST", path = "/v1/chat/completions", headers = headers,
      body = cjson.encode(body) })
    values[#values + 1] = body
    values[#values + 1] = assert(cjson.decode(res.body))
  end
end

-- best CPU seconds per value of PASSES passes of encode over every value; the bytes written
local function measure(encode)
  local best, bytes = math.huge, 0
  for _ = 1, PASSES do
    bytes = 0
    local c0 = sys.cputime()
    for i = 1, #values do bytes = bytes + #encode(values[i]) end
    best = math.min(best, sys.cputime() - c0)
  end
  return best / #values, bytes / #values
end

local peer = measure(cjson.encode)
print(string.format("%d values (requests and sim replies); cjson.encode (peer): %.2f us per value",
  #values, peer * 1e6))
local lua_default = ref.encoder({ separators = { ", ", ": " }, ascii = true, floats = "repr", allow_nan = true,
  empty = "array" })
for _, case in ipairs({
  { "pyjson.encode (Python's defaults)", pyjson.encode, lua_default },
  { "pyjson.compact", pyjson.compact.encode, ref.encoder({ separators = { ",", ":" }, ascii = false,
    floats = "integral", allow_nan = false, empty = "object" }) },
  { "pyjson.file", pyjson.file.encode, ref.encoder({ separators = { ", ", ": " }, ascii = false,
    floats = "integral", allow_nan = false, empty = "object", indent = 2 }) },
}) do
  local c, bytes = measure(case[2])
  local l = measure(case[3])
  print(string.format("%-34s C %.2f us per value (%.0f bytes): ratio %.2f against cjson.encode; "
    .. "the Lua encoder %.2f us (%.1fx the C)", case[1], c * 1e6, bytes, c / peer, l * 1e6, l / c))
end
