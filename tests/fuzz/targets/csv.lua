-- Fuzz target: the CSV reader (introspect.core.csv). Contract: parse(text, name) returns rows and
-- their line numbers, or nil and an error naming the file and line; writing the rows back with
-- format_row and parsing again gives the same rows. read(path) returns a table or nil, err naming
-- the file.
local csv = require("introspect.core.csv")
local S = require("fuzz_support")

local function same(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do
    if #a[i] ~= #b[i] then return false end
    for j = 1, #a[i] do if a[i][j] ~= b[i][j] then return false end end
  end
  return true
end

return function(data)
  local rows, lines = csv.parse(data, "fuzz.csv")
  if rows == nil then
    S.check_error("csv.parse", lines, "fuzz.csv:")
  else
    if #lines ~= #rows then S.finding("%d rows, %d line numbers", #rows, #lines) end
    for i = 2, #lines do
      if lines[i] <= lines[i - 1] then S.finding("line numbers not increasing at row %d", i) end
    end
    local out = {}
    for i, row in ipairs(rows) do out[i] = csv.format_row(row) end
    local again, err = csv.parse(table.concat(out), "again.csv")
    if again == nil then S.finding("written rows do not parse: %s", err) end
    if not same(rows, again) then S.finding("rows changed by a write and read") end
  end
  local path = S.scratch_file("csv", data)
  local t, err = csv.read(path, { required = { "id" } })
  if t == nil then S.check_error("csv.read", err, path) end
end
