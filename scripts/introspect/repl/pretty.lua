-- Pretty-printing of Lua values for the REPL: nested tables, sorted keys, cycles marked,
-- __tostring honoured, long tables shortened.
local M = {}

local DEFAULTS = { depth = 6, width = 100, items = 200 }

local function is_identifier(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil
end

local function key_order(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

local function scalar(v)
  local t = type(v)
  if t == "string" then return string.format("%q", v):gsub("\\\n", "\\n") end
  if t == "number" then
    if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 1e15 then
      return string.format("%.1f", v)
    end
    return tostring(v)
  end
  return tostring(v)
end

local function has_tostring(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__tostring ~= nil
end

-- format(value[, opts]) -> string
-- opts: depth (nesting shown, default 6), width (line width before breaking, default 100),
-- items (entries shown per table, default 200), indent (string, default "").
function M.format(value, opts)
  opts = opts or {}
  local depth_max = opts.depth or DEFAULTS.depth
  local width = opts.width or DEFAULTS.width
  local items_max = opts.items or DEFAULTS.items
  local seen = {}

  local function fmt(v, indent, depth)
    if type(v) ~= "table" then return scalar(v) end
    if has_tostring(v) then return tostring(v) end
    if seen[v] then return "<cycle: " .. tostring(v) .. ">" end
    if depth >= depth_max then return "{...}" end
    seen[v] = true
    local parts, n = {}, #v
    for i = 1, math.min(n, items_max) do
      parts[#parts + 1] = fmt(v[i], indent .. "  ", depth + 1)
    end
    local keys = {}
    for k in pairs(v) do
      if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
    end
    table.sort(keys, key_order)
    for i = 1, #keys do
      if #parts >= items_max then break end
      local k = keys[i]
      local ks = is_identifier(k) and k or "[" .. scalar(k) .. "]"
      parts[#parts + 1] = ks .. " = " .. fmt(v[k], indent .. "  ", depth + 1)
    end
    local total = n + #keys
    if total > #parts then parts[#parts + 1] = string.format("... (%d more)", total - #parts) end
    seen[v] = nil
    if #parts == 0 then return "{}" end
    local one_line = "{ " .. table.concat(parts, ", ") .. " }"
    if #one_line + #indent <= width and not one_line:find("\n") then return one_line end
    local inner = indent .. "  "
    return "{\n" .. inner .. table.concat(parts, ",\n" .. inner) .. "\n" .. indent .. "}"
  end

  return fmt(value, opts.indent or "", 0)
end

-- print(...) : prints each value formatted, separated by tabs, like the REPL does.
function M.print(...)
  local n = select("#", ...)
  local out = {}
  for i = 1, n do out[i] = M.format((select(i, ...))) end
  io.stdout:write(table.concat(out, "\t"), "\n")
  io.stdout:flush()
end

return M
