-- A small JSON encoder for the simulated API: exact floats (%.17g, so persisted model state
-- round-trips bit for bit), sorted object keys (deterministic output), explicit empty arrays
-- (json.array{}) and json.null. Decoding uses cjson.
local cjson = require("cjson")

local M = {}

local ARRAY = { __name = "introspect.sim.json.array" }
M.null = cjson.null

-- array(t) -> t marked as a JSON array (so an empty table encodes as []).
function M.array(t) return setmetatable(t or {}, ARRAY) end

local encode_string = cjson.encode   -- strings only: C speed, valid JSON escapes
local format, mtype, concat, sort = string.format, math.type, table.concat, table.sort

-- number_text(x) -> JSON text of a number (integers exact, floats round-trip, no NaN/inf).
local function number_text(x)
  if mtype(x) == "integer" then return format("%d", x) end
  if x ~= x or x == math.huge or x == -math.huge then
    error("json: cannot encode a non-finite number", 3)
  end
  if x == math.floor(x) and x > -1e15 and x < 1e15 then return format("%d", math.tointeger(x)) end
  return format("%.17g", x)
end
M.number = number_text

local function encode(v, out)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = encode_string(v)
  elseif t == "number" then
    out[#out + 1] = number_text(v)
  elseif t == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif v == nil or v == cjson.null then
    out[#out + 1] = "null"
  elseif t == "table" then
    if getmetatable(v) == ARRAY or v[1] ~= nil then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode(v[i], out)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do
        if type(k) ~= "string" then error("json: object keys must be strings", 3) end
        keys[#keys + 1] = k
      end
      sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = encode_string(k)
        out[#out + 1] = ":"
        encode(v[k], out)
      end
      out[#out + 1] = "}"
    end
  else
    error("json: cannot encode a " .. t, 3)
  end
end

-- encode(v) -> JSON text.
function M.encode(v)
  local out = {}
  encode(v, out)
  return concat(out)
end

-- decode(text) -> value | nil, err (never raises).
function M.decode(text)
  local ok, v = pcall(cjson.decode, text)
  if not ok then return nil, tostring(v) end
  return v
end

return M
