-- RFC 4180 CSV: read with errors naming file and line, write with minimal quoting.
local M = {}

-- parse_line-level state machine over a whole string; returns rows (arrays of strings) and the
-- 1-based line number where each row starts. Raises nothing: returns nil, err on bad quoting.
local function parse(text, name)
  local rows, lines = {}, {}
  local pos, len, line = 1, #text, 1
  if text:sub(1, 3) == "\239\187\191" then pos = 4 end -- UTF-8 BOM
  while pos <= len do
    local row, row_line = {}, line
    while true do
      local c = text:sub(pos, pos)
      local field
      if c == '"' then
        local buf, i = {}, pos + 1
        while true do
          local q = text:find('"', i, true)
          if not q then
            return nil, string.format("%s:%d: unterminated quoted field", name, row_line)
          end
          buf[#buf + 1] = text:sub(i, q - 1)
          if text:sub(q + 1, q + 1) == '"' then
            buf[#buf + 1] = '"'
            i = q + 2
          else
            pos = q + 1
            break
          end
        end
        field = table.concat(buf)
        local _, nl = field:gsub("\n", "")
        line = line + nl
        local nc = text:sub(pos, pos)
        if nc ~= "," and nc ~= "\n" and nc ~= "\r" and nc ~= "" then
          return nil, string.format("%s:%d: unexpected character after quoted field", name, line)
        end
      else
        local e = text:find("[,\r\n]", pos)
        if not e then e = len + 1 end
        field = text:sub(pos, e - 1)
        pos = e
      end
      row[#row + 1] = field
      local d = text:sub(pos, pos)
      if d == "," then
        pos = pos + 1
      else
        if d == "\r" then pos = pos + 1 end
        if text:sub(pos, pos) == "\n" then pos = pos + 1 end
        line = line + 1
        break
      end
    end
    if not (#row == 1 and row[1] == "") then
      rows[#rows + 1] = row
      lines[#lines + 1] = row_line
    end
  end
  return rows, lines
end

-- parse(text, name) -> rows, lines | nil, err
M.parse = parse

-- read(path, opts) -> table | nil, err
-- opts.header (default true): first row names the columns.
-- Returns {header={...}, rows={{col=value,...}...}, lines={...}, path=path} where each row is
-- keyed by column name (and also by index when header=false). `required` lists columns that must
-- be present; a missing one is an error naming the file and column.
function M.read(path, opts)
  opts = opts or {}
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local text = f:read("a")
  f:close()
  local rows, lines = parse(text, path)
  if not rows then return nil, lines end
  local result = { path = path, rows = {}, lines = {} }
  if opts.header == false then
    result.rows, result.lines = rows, lines
    return result
  end
  if #rows == 0 then return nil, path .. ": empty file (no header row)" end
  local header = rows[1]
  result.header = header
  local index = {}
  for i, h in ipairs(header) do index[h] = i end
  for _, col in ipairs(opts.required or {}) do
    if not index[col] then
      return nil, string.format("%s:1: missing column '%s'", path, col)
    end
  end
  for r = 2, #rows do
    local raw, rec = rows[r], {}
    if #raw ~= #header then
      return nil, string.format("%s:%d: %d fields, header has %d", path, lines[r], #raw, #header)
    end
    for i, h in ipairs(header) do rec[h] = raw[i] end
    result.rows[#result.rows + 1] = rec
    result.lines[#result.lines + 1] = lines[r]
  end
  return result
end

-- number(result, i, column) -> number; raises "file:line: column 'c' is not a number: 'x'"
function M.number(result, i, column)
  local v = result.rows[i][column]
  local n = tonumber(v)
  if n == nil then
    error(string.format("%s:%d: column '%s' is not a number: '%s'", result.path,
      result.lines[i], column, tostring(v)), 2)
  end
  return n
end

-- Quotes a field that holds a separator, a quote or a line break, or that starts with a UTF-8
-- byte-order mark (which a reader would otherwise drop at the start of a file).
local function quote(v)
  local s = tostring(v)
  if s:find('[,"\r\n]') or s:sub(1, 3) == "\239\187\191" then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

-- field(v) -> v as written in a file: a string that needs no quotes as it is (one search), else quote(v).
local function field(v)
  if type(v) == "string" and not v:find('[,"\r\n\239]') then return v end
  return quote(v)
end

-- join(values, buf, seen) -> the fields of values 1..#values joined by commas (buf: scratch space;
-- seen: string -> its field, for strings met before).
local function join(values, buf, seen)
  local n = #values
  for i = 1, n do
    local v = values[i]
    local f = seen[v]
    if not f then
      f = field(v)
      if type(v) == "string" then seen[v] = f end
    end
    buf[i] = f
  end
  return table.concat(buf, ",", 1, n)
end

-- format_row(values) -> "a,b,c\n"
function M.format_row(values)
  return join(values, {}, {}) .. "\n"
end

-- format(header, rows) -> string; rows are arrays of values.
function M.format(header, rows)
  local buf, seen, lines = {}, {}, {}
  lines[1] = join(header, buf, seen)
  for i = 1, #rows do lines[i + 1] = join(rows[i], buf, seen) end
  lines[#rows + 2] = ""   -- the last line's newline
  return table.concat(lines, "\n")
end

return M
