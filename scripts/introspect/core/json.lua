-- JSON decoding: json.decode(text) is cjson.decode(text), value for value (numbers as floats,
-- null as cjson.null, plain tables) and error for error, faster on the responses a run reads
-- on every request: strict JSON goes through introspect.jsondecode (each table sized once),
-- anything else through cjson itself.
local cjson = require "cjson"
local native = require "introspect.jsondecode"

local M = {}

local fast, slow = native.decode, cjson.decode

---decode(text) -> the value of a JSON text, as cjson.decode returns it; raises cjson's error on
---text that is not JSON, word for word what pcall(cjson.decode, text) returns (cjson called
---through pcall, so its message names no Lua caller's line).
---@param text string
---@return any
function M.decode(text)
  if type(text) == "string" then
    local value = fast(text)
    if value ~= nil then return value end
  end
  local ok, value = pcall(slow, text)
  if not ok then error(value, 0) end
  return value
end

return M
