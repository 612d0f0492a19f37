-- The Lua encoder that core/pyjson.lua used before its encoder moved to C (bindings/pyjson.c),
-- kept as the oracle of tests/spec/pyjson_native_spec.lua: the C encoder must write the same
-- bytes and raise the same errors for every value and option set. It knows pyjson's ordered
-- objects, array marks and nulls through the library's own metatables and values.
local cjson = require "cjson"
local rng = require "introspect.rng"
local pyjson = require "introspect.core.pyjson"

local M = {}

local OBJECT = getmetatable(pyjson.object({}))
local ARRAY = getmetatable(pyjson.array())
local CJSON_ARRAY = cjson.array_mt or ARRAY
M.null = pyjson.null

local pyrepr, format, mtype, concat, sort = rng.pyrepr, string.format, math.type, table.concat, table.sort
local find, gsub, cjson_encode = string.find, string.gsub, cjson.encode

local function escape_codepoint(cp)
  if cp < 0x10000 then return format("\\u%04x", cp) end
  cp = cp - 0x10000
  return format("\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF))
end

-- quote(s, ascii) -> the quoted JSON string; raises on invalid UTF-8 when ascii (naming the
-- byte where the first invalid sequence starts). cjson escapes exactly the characters Python
-- does below U+0080 (", \, controls and DEL, as \n or \u00XX), and "/" too, which Python
-- leaves as it is.
local function quote(s, ascii)
  local text = cjson_encode(s)
  if find(text, "\\/", 1, true) then text = gsub(text, "\\/", "/") end
  if not ascii then return text end
  local n, bad = utf8.len(s)
  if n == #s then return text end
  if not n then error(format("pyjson: invalid UTF-8 in string at byte %d", bad), 0) end
  local out = {}
  for _, cp in utf8.codes(text) do
    out[#out + 1] = cp < 128 and string.char(cp) or escape_codepoint(cp)
  end
  return concat(out)
end

---A Lua string as a JSON string, as Python's json.dumps writes it (ensure_ascii).
---@param s string
---@return string
function M.string(s) return quote(s, true) end

---The encoder function for complete options o (every key of pyjson.encode's options given:
---separators, ascii, floats, allow_nan, empty; indent or nil).
---@param o table
---@return fun(value: any): string
function M.encoder(o)
  local item_sep, key_sep, ascii = o.separators[1], o.separators[2], o.ascii
  local integral, allow_nan, empty_object = o.floats == "integral", o.allow_nan, o.empty == "object"
  local indent = o.indent and string.rep(" ", o.indent)

  local function number(v)
    if mtype(v) == "integer" then return format("%d", v) end
    if v ~= v or v == math.huge or v == -math.huge then
      if not allow_nan then error("pyjson.encode: cannot encode a non-finite number", 0) end
      return v ~= v and "NaN" or (v > 0 and "Infinity" or "-Infinity")
    end
    if integral and v == math.floor(v) and v > -1e15 and v < 1e15 then return format("%d", math.tointeger(v)) end
    return pyrepr(v)
  end

  local encode

  -- members(keys, values, out, depth, pad): an object of keys[i] = values[i]
  local function members(keys, values, out, depth, pad)
    local inner = indent and pad .. indent
    out[#out + 1] = "{"
    for i = 1, #keys do
      if i > 1 then out[#out + 1] = indent and "," or item_sep end
      if indent then out[#out + 1] = "\n" .. inner end
      out[#out + 1] = quote(keys[i], ascii)
      out[#out + 1] = key_sep
      encode(values[i], out, depth + 1, inner)
    end
    if indent and #keys > 0 then out[#out + 1] = "\n" .. pad end
    out[#out + 1] = "}"
  end

  local function array(t, n, out, depth, pad)
    local inner = indent and pad .. indent
    out[#out + 1] = "["
    for i = 1, n do
      if i > 1 then out[#out + 1] = item_sep end
      encode(t[i], out, depth + 1, inner)
    end
    out[#out + 1] = "]"
  end

  local function table_value(t, out, depth, pad)
    if depth > 100 then error("pyjson.encode: nesting too deep (cycle?)", 0) end
    local mt = getmetatable(t)
    if mt == OBJECT then
      local keys, values, list = {}, {}, t.pairs
      for i = 1, #list, 2 do
        local k = list[i]
        if type(k) ~= "string" then error("pyjson.encode: object keys must be strings", 0) end
        keys[#keys + 1], values[#values + 1] = k, list[i + 1]
      end
      return members(keys, values, out, depth, pad)
    end
    local n, count = #t, 0
    for _ in pairs(t) do count = count + 1 end
    if mt == ARRAY or mt == CJSON_ARRAY or (count == n and (n > 0 or not empty_object)) then
      return array(t, n, out, depth, pad)   -- a marked array: its items 1..n only
    end
    if n > 0 then error("pyjson.encode: a table mixing array items and other keys", 0) end
    -- a map: keys sorted, so the text is deterministic; integer keys as strings (as Python)
    local keys, by_name = {}, nil
    for k, v in pairs(t) do
      if type(k) ~= "string" then
        if mtype(k) ~= "integer" then error("pyjson.encode: table keys must be strings or integers", 0) end
        local name = format("%d", k)
        by_name = by_name or {}
        if t[name] ~= nil or by_name[name] ~= nil then
          error("pyjson.encode: key '" .. name .. "' given twice", 0)
        end
        k, by_name[name] = name, v
      end
      keys[#keys + 1] = k
    end
    sort(keys)
    local values = {}
    for i, k in ipairs(keys) do
      local v = by_name and by_name[k]
      if v == nil then v = t[k] end
      values[i] = v
    end
    return members(keys, values, out, depth, pad)
  end

  encode = function(v, out, depth, pad)
    local tv = type(v)
    if tv == "string" then out[#out + 1] = quote(v, ascii)
    elseif tv == "number" then out[#out + 1] = number(v)
    elseif tv == "boolean" then out[#out + 1] = v and "true" or "false"
    elseif v == nil or v == M.null or v == cjson.null then out[#out + 1] = "null"
    elseif tv == "table" then table_value(v, out, depth, pad)
    else error("pyjson.encode: cannot encode a " .. tv, 0) end
  end

  return function(value)
    local out = {}
    encode(value, out, 0, "")
    return concat(out)
  end
end

return M
