-- Fuzz target: report-reply parsing (introspect.design.replies). Input: "name1,name2,...\0reply" (or a
-- reply alone, checked against the study's five names). Contract: parse(text, names) never
-- raises for a string; it returns one finite number per name, or nil, a known reason, a detail
-- string. collect() counts every reply exactly once.
local replies = require("introspect.design.replies")
local S = require("fuzz_support")

local REASON = {}
for _, r in ipairs(replies.REASONS) do REASON[r] = true end
local DEFAULT = { "Price", "Distance", "Rating", "Size", "Noise level" }

return function(data)
  local parts = S.split(data, 2)
  local names, text = DEFAULT, parts[1]
  if #parts == 2 then
    names = {}
    for n in parts[1]:gmatch("[^,]+") do names[#names + 1] = n end
    text = parts[2]
  end
  local values, reason, detail = replies.parse(text, names)
  if values then
    if #values ~= #names then S.finding("%d values for %d names", #values, #names) end
    for i, v in ipairs(values) do
      if not S.finite(v) then S.finding("value %d is not a finite number: %s", i, tostring(v)) end
    end
  else
    if not REASON[reason] then S.finding("unknown reason %s", tostring(reason)) end
    if type(detail) ~= "string" then S.finding("detail is %s", type(detail)) end
  end
  local stripped = replies.strip_fences(text)
  if type(stripped) ~= "string" or #stripped > #text then S.finding("strip_fences grew the text") end
  local reports, invalid = replies.collect({ { scenario = "s", text = text, model = "m" },
    { scenario = "unknown", text = text, model = "m" } }, { s = names })
  if invalid.total ~= 2 or invalid.valid + invalid.invalid ~= 2 or #reports ~= invalid.valid then
    S.finding("collect miscounted: %d valid, %d invalid", invalid.valid, invalid.invalid)
  end
end
