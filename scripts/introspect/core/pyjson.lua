-- The library's one deterministic JSON encoder. With no options it writes exactly what Python's
-- json.dumps(obj) writes with its defaults: ", " and ": " separators, ensure_ascii (non-ASCII
-- as \uXXXX, surrogate pairs above U+FFFF), floats as repr(float), NaN/Infinity allowed. Plain
-- maps are written with sorted keys (Lua tables have no order); ordered objects are built with
-- pyjson.object{"key1", value1, "key2", value2, ...}. Numbers are always exact (integers as
-- integers, floats as the shortest text that reads back to the same double).
--
-- Options (pyjson.encode(value, opts), or a codec made once with pyjson.codec(opts)):
--   separators = {item, key}  default {", ", ": "}
--   ascii      = false        write non-ASCII UTF-8 as is (Python's ensure_ascii=False)
--   indent     = N            objects one member per line, indented N spaces (arrays stay inline)
--   floats     = "integral"   integral floats as integers ("3", not "3.0")
--   allow_nan  = false        raise on NaN and infinities instead of writing NaN/Infinity
--   empty      = "object"     an unmarked empty table is {} (default []); pyjson.array(t) and
--                             cjson's empty array always give [] (and only their items 1..n)
-- Two codecs are ready-made: pyjson.compact (the simulated API's wire format: no spaces, UTF-8
-- as is, integral floats as integers, no NaN, {} for empty) and pyjson.file (run-directory files:
-- indent 2, UTF-8 as is, integral floats as integers, no NaN, {} for empty).
local cjson = require "cjson"
local rng = require "introspect.rng"

local M = {}

local OBJECT = { __name = "introspect.pyjson.object" }  -- ordered objects
local ARRAY = { __name = "introspect.pyjson.array" }    -- tables marked as arrays
local CJSON_ARRAY = cjson.array_mt or ARRAY            -- cjson's marker, where this cjson has one
M.null = setmetatable({}, { __tostring = function() return "null" end })

local pyrepr, format, mtype, concat, sort = rng.pyrepr, string.format, math.type, table.concat, table.sort
local find, gsub, cjson_encode = string.find, string.gsub, cjson.encode

---Ordered object: the pairs are written in the order given.
---@param list any[] {"k1", v1, "k2", v2, ...}
---@return table
function M.object(list)
  if #list % 2 ~= 0 then error("pyjson.object: needs key, value pairs", 2) end
  return setmetatable({ pairs = list }, OBJECT)
end

---Marks a table as a JSON array (so an empty one is written as []).
---@param t table|nil
---@return table
function M.array(t) return setmetatable(t or {}, ARRAY) end

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

local DEFAULTS = { separators = { ", ", ": " }, ascii = true, floats = "repr", allow_nan = true, empty = "array" }

local function check(opts)
  local o = {}
  for k, v in pairs(DEFAULTS) do o[k] = v end
  for k, v in pairs(opts or {}) do
    if DEFAULTS[k] == nil and k ~= "indent" then error("pyjson: unknown option '" .. tostring(k) .. "'", 3) end
    o[k] = v
  end
  if type(o.separators) ~= "table" or type(o.separators[1]) ~= "string" or type(o.separators[2]) ~= "string" then
    error("pyjson: separators must be {item, key} strings", 3)
  end
  if o.floats ~= "repr" and o.floats ~= "integral" then error("pyjson: floats must be 'repr' or 'integral'", 3) end
  if o.empty ~= "array" and o.empty ~= "object" then error("pyjson: empty must be 'array' or 'object'", 3) end
  if o.indent ~= nil and mtype(o.indent) ~= "integer" then error("pyjson: indent must be an integer", 3) end
  return o
end

-- Builds the encoder function for checked options o.
local function encoder(o)
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

  -- quoted keys, kept for the next objects (keys repeat: field names); emptied past 4096
  local quoted, nquoted = {}, 0
  local function quote_key(k)
    local q = quoted[k]
    if q then return q end
    q = quote(k, ascii)
    if nquoted >= 4096 then quoted, nquoted = {}, 0 end
    quoted[k], nquoted = q, nquoted + 1
    return q
  end

  -- members(keys, values, out, depth, pad): an object of keys[i] = values[i]
  local function members(keys, values, out, depth, pad)
    local inner = indent and pad .. indent
    out[#out + 1] = "{"
    for i = 1, #keys do
      if i > 1 then out[#out + 1] = indent and "," or item_sep end
      if indent then out[#out + 1] = "\n" .. inner end
      out[#out + 1] = quote_key(keys[i])
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

local default_encode = encoder(check(nil))

---JSON text of a value; with no options exactly as Python's json.dumps(value) (see the top).
---@param value any
---@param opts? table separators, ascii, indent, floats, allow_nan, empty
---@return string
function M.encode(value, opts)
  if opts == nil then return default_encode(value) end
  return encoder(check(opts))(value)
end

---decode(text) -> value, or nil and the parser's message (never raises). JSON null is cjson.null.
---@param text string
---@return any|nil value
---@return string|nil err
function M.decode(text)
  local ok, v = pcall(cjson.decode, text)
  if not ok then return nil, tostring(v) end
  return v
end

---A codec for fixed options: {encode = fn(value) -> text, decode = pyjson.decode,
---array = pyjson.array, object = pyjson.object, null = cjson.null}.
---@param opts table the options of pyjson.encode
---@return table
function M.codec(opts)
  return { encode = encoder(check(opts)), decode = M.decode, array = M.array, object = M.object, null = cjson.null }
end

M.compact = M.codec({ separators = { ",", ":" }, ascii = false, floats = "integral", allow_nan = false,
  empty = "object" })
M.file = M.codec({ indent = 2, ascii = false, floats = "integral", allow_nan = false, empty = "object" })

return M
