-- Aligned text tables for the REPL: a value with a __tostring, so the REPL (introspect.repl.pretty)
-- prints it as columns. Used by the ix.* helpers (introspect.repl.helpers, introspect.run.runview).
--
--   local tabular = require "introspect.core.tabular"
--   local t = tabular.new({"attribute", "weight"}, {{"price", -100}, {"size", 42.5}})
--   print(t)   -->  attribute  weight
--                   ---------  ------
--                   price        -100
--                   size        42.50
local M = {}

local Table = {}
Table.__index = Table
Table.__name = "introspect.core.tabular"
M.Table = Table

-- cell(v, decimals) -> text of one cell: integers as they are, floats with `decimals` places,
-- nil as "", anything else through tostring.
local function cell(v, decimals)
  if v == nil then return "" end
  if math.type(v) == "integer" then return tostring(v) end
  if math.type(v) == "float" then
    if v ~= v then return "nan" end
    if v == math.huge then return "inf" end
    if v == -math.huge then return "-inf" end
    return string.format("%." .. decimals .. "f", v)
  end
  return tostring(v)
end

-- new(header, rows [, opts]) -> Table
-- header: list of column names; rows: list of lists (cells: numbers, strings, booleans, nil).
-- opts: title (a line above the table), notes (list of lines below it), decimals (places for
-- float cells, default 2), max_rows (rows shown when printed; the rest are counted in a last
-- line; default all). Raises when header or rows are not lists.
function M.new(header, rows, opts)
  if type(header) ~= "table" then error("tabular.new: argument 1 (header) must be a list", 2) end
  if type(rows) ~= "table" then error("tabular.new: argument 2 (rows) must be a list", 2) end
  opts = require("introspect.core.util").check_options("tabular.new", opts,
    { title = "string", notes = "table", decimals = "integer", max_rows = "integer" })
  for i, row in ipairs(rows) do
    if type(row) ~= "table" then error(string.format("tabular.new: row %d is not a list", i), 2) end
  end
  return setmetatable({ header = header, rows = rows, title = opts.title, notes = opts.notes or {},
    decimals = opts.decimals or 2, max_rows = opts.max_rows }, Table)
end

-- t:column(name) -> list of the cells of the named column (nil if no such column).
function Table:column(name)
  for j, h in ipairs(self.header) do
    if h == name then
      local out = {}
      for i, row in ipairs(self.rows) do out[i] = row[j] end
      return out
    end
  end
  return nil
end

-- t:format() -> the table as text: title, header, a rule, one line per row (numbers
-- right-aligned, text left-aligned), then the notes. Lines have no trailing spaces.
function Table:format()
  local ncol = #self.header
  local text, numeric, width = {}, {}, {}
  for j = 1, ncol do
    width[j] = #tostring(self.header[j])
    numeric[j] = true
  end
  local shown = math.min(#self.rows, self.max_rows or #self.rows)
  for i = 1, shown do
    local row = self.rows[i]
    text[i] = {}
    for j = 1, ncol do
      local s = cell(row[j], self.decimals)
      text[i][j] = s
      if #s > width[j] then width[j] = #s end
      if row[j] ~= nil and type(row[j]) ~= "number" and not (type(row[j]) == "string" and tonumber(row[j])) then
        numeric[j] = false
      end
    end
  end
  local function line(cells)
    local parts = {}
    for j = 1, ncol do
      local s = cells[j]
      local pad = string.rep(" ", width[j] - #s)
      parts[j] = numeric[j] and (pad .. s) or (s .. pad)
    end
    return (table.concat(parts, "  "):gsub("%s+$", ""))
  end
  local out = {}
  if self.title then out[#out + 1] = self.title end
  local head, rule = {}, {}
  for j = 1, ncol do
    head[j] = tostring(self.header[j])
    rule[j] = string.rep("-", width[j])
  end
  out[#out + 1] = line(head)
  out[#out + 1] = line(rule)
  for i = 1, shown do out[#out + 1] = line(text[i]) end
  if shown < #self.rows then
    out[#out + 1] = string.format("... %d more rows (%d in all; t.rows holds them)", #self.rows - shown, #self.rows)
  end
  for _, n in ipairs(self.notes) do out[#out + 1] = n end
  return table.concat(out, "\n")
end

Table.__tostring = Table.format

-- t:print() : writes the formatted table and a newline to standard output.
function Table:print()
  io.stdout:write(self:format(), "\n")
end

return M
