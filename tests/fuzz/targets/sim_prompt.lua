-- Fuzz target: the simulated subject's prompt parser (introspect.sim.prompt). One parser is kept
-- across inputs, so its caches (by question, by instruction) are exercised too. Input: a user
-- message. Contract: parse(text) never raises; it returns nil or a decision/report with two
-- option vectors of ctx.k finite numbers. message_text never raises on any decoded JSON value.
local prompt = require("introspect.sim.prompt")
local cjson = require("cjson")
local S = require("fuzz_support")

local parser = prompt.new()
local KIND = { decision = true, report = true }

return function(data)
  local p = parser:parse(data)
  if p ~= nil then
    if not KIND[p.kind] then S.finding("kind %s", tostring(p.kind)) end
    local k = p.ctx.k
    if k < 1 or #p.a ~= k or #p.b ~= k or #p.ctx.names ~= k or #p.ctx.units ~= k then
      S.finding("option vectors of %d and %d values for k = %d", #p.a, #p.b, k)
    end
    for t = 1, k do
      if not S.finite(p.a[t]) or not S.finite(p.b[t]) then S.finding("value %d not finite", t) end
    end
  end
  local ok, value = pcall(cjson.decode, data)
  if ok then
    local text = prompt.message_text(value)
    if text ~= nil and type(text) ~= "string" then S.finding("message_text gave a %s", type(text)) end
  end
end
