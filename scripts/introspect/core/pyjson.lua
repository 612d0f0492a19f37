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
-- The options and codecs are here; the encoding is C (bindings/pyjson.c), byte for byte the Lua
-- encoder kept in tests/lib/pyjson_reference.lua.
local cjson = require "cjson"
local native = require "introspect.pyjson"

local M = {}

local OBJECT = { __name = "introspect.pyjson.object" }  -- ordered objects
local ARRAY = { __name = "introspect.pyjson.array" }    -- tables marked as arrays
local CJSON_ARRAY = cjson.array_mt or ARRAY            -- cjson's marker, where this cjson has one
M.null = setmetatable({}, { __tostring = function() return "null" end })
local TYPES = { object = OBJECT, array = ARRAY, cjson_array = CJSON_ARRAY, null = M.null, cjson_null = cjson.null }

local mtype = math.type

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

---A Lua string as a JSON string, as Python's json.dumps writes it (ensure_ascii).
---@param s string
---@return string
function M.string(s) return native.string(s) end

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

-- The encode function of checked options o, in C (bindings/pyjson.c).
local function encoder(o)
  return native.encoder(TYPES, { item = o.separators[1], key = o.separators[2],
    indent = o.indent and string.rep(" ", o.indent), ascii = o.ascii and true or false,
    integral = o.floats == "integral", allow_nan = o.allow_nan and true or false,
    empty_object = o.empty == "object" })
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
