-- JSON text exactly as Python's json.dumps(obj) writes it with its defaults: ", " and ": "
-- separators, ensure_ascii (non-ASCII as \uXXXX, surrogate pairs above U+FFFF), floats as
-- repr(float), objects in insertion order. Lua tables have no key order, so ordered objects are
-- built with pyjson.object{"key1", value1, "key2", value2, ...}.
local rng = require "introspect.rng"

local M = {}

local OBJECT = {}  -- metatable marking ordered objects
M.null = setmetatable({}, { __tostring = function() return "null" end })

-- object(pairs_list) -> ordered object: {"k1", v1, "k2", v2, ...}
function M.object(list)
  if #list % 2 ~= 0 then error("pyjson.object: needs key, value pairs", 2) end
  return setmetatable({ pairs = list }, OBJECT)
end

local ESC = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
  ["\b"] = "\\b", ["\f"] = "\\f",
}

local function escape_codepoint(cp)
  if cp < 0x10000 then return string.format("\\u%04x", cp) end
  cp = cp - 0x10000
  return string.format("\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF))
end

-- string(s) -> the quoted JSON string; raises on invalid UTF-8.
function M.string(s)
  local ascii = s:gsub('[%c"\\]', function(c)
    return ESC[c] or string.format("\\u%04x", c:byte())
  end)
  if not ascii:find("[\128-\255]") then return '"' .. ascii .. '"' end
  local out = {}
  local ok, err = pcall(function()
    for _, cp in utf8.codes(ascii) do
      out[#out + 1] = cp < 128 and string.char(cp) or escape_codepoint(cp)
    end
  end)
  if not ok then error("pyjson: invalid UTF-8 in string: " .. tostring(err), 2) end
  return '"' .. table.concat(out) .. '"'
end

local function number(v)
  if math.type(v) == "integer" then return string.format("%d", v) end
  if v ~= v then return "NaN" end
  if v == math.huge then return "Infinity" end
  if v == -math.huge then return "-Infinity" end
  return rng.pyrepr(v)
end

local encode

local function encode_table(t, depth)
  if depth > 100 then error("pyjson.encode: nesting too deep (cycle?)", 0) end
  if getmetatable(t) == OBJECT then
    local parts = {}
    for i = 1, #t.pairs, 2 do
      local k = t.pairs[i]
      if type(k) ~= "string" then error("pyjson.encode: object keys must be strings", 0) end
      parts[#parts + 1] = M.string(k) .. ": " .. encode(t.pairs[i + 1], depth + 1)
    end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  if next(t) == nil then return "[]" end
  local n = #t
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  if count == n then
    local parts = {}
    for i = 1, n do parts[i] = encode(t[i], depth + 1) end
    return "[" .. table.concat(parts, ", ") .. "]"
  end
  -- a plain map: keys sorted, so the text is deterministic
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= "string" then error("pyjson.encode: mixed or non-string table keys", 0) end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = M.string(k) .. ": " .. encode(t[k], depth + 1) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

encode = function(v, depth)
  local tv = type(v)
  if tv == "string" then return M.string(v) end
  if tv == "number" then return number(v) end
  if tv == "boolean" then return v and "true" or "false" end
  if v == nil or v == M.null then return "null" end
  if tv == "table" then return encode_table(v, depth) end
  error("pyjson.encode: cannot encode a " .. tv, 0)
end

-- encode(value) -> text as Python's json.dumps(value)
function M.encode(value)
  return encode(value, 0)
end

return M
