-- Fuzz target: joining Batch API output and error files (introspect.client.openai batch_join). Input:
-- "output file\0error file". Contract: a map custom_id -> {status, response | error}; a line that
-- is not a batch result raises "openai.batch_join: <file> file line N: ..." (the documented
-- raise); nothing else may raise. Every entry has a response (2xx with a body) or an error.
local openai = require("introspect.client.openai")
local S = require("fuzz_support")

return function(data)
  local parts = S.split(data, 2)
  local ok, out = pcall(openai.batch_join, parts[1], parts[2])
  if not ok then
    if type(out) ~= "string" or not out:find("openai.batch_join: %a+ file line %d+: ") then
      S.finding("batch_join raised outside its contract: %s", tostring(out))
    end
    return
  end
  for id, e in pairs(out) do
    if type(id) ~= "string" then S.finding("custom_id of type %s", type(id)) end
    if (e.response == nil) == (e.error == nil) then
      S.finding("entry %s has %s", id, e.response and "both a response and an error" or "neither response nor error")
    end
    if e.error then
      local text = tostring(e.error)
      if type(text) ~= "string" or text == "" then S.finding("entry %s: error without text", id) end
    end
  end
end
