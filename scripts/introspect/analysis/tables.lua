-- Long-format CSV tables of an experiment's results, with a label column (a condition, a
-- replicate, a temperature) so one file holds every variant. See docs/statistics.md.
local csv = require "introspect.core.csv"

local M = {}

-- weights(by, column [, order]) -> CSV text with header column,scenario,b_attr1..k: one row per
-- label and context; by[label] = a weights map (with .order); labels sorted unless `order`.
function M.weights(by, column, order)
  if not order then
    order = {}
    for label in pairs(by) do order[#order + 1] = label end
    table.sort(order, function(a, b) return tostring(a) < tostring(b) end)
  end
  local rows, k = {}, 0
  for _, label in ipairs(order) do
    local w = by[label]
    for _, s in ipairs(w.order) do
      local row = { tostring(label), s }
      for j, v in ipairs(w[s]) do row[j + 2] = v end
      k = math.max(k, #w[s])
      rows[#rows + 1] = row
    end
  end
  local header = { column, "scenario" }
  for j = 1, k do header[j + 2] = "b_attr" .. j end
  return csv.format(header, rows)
end

-- rows(list, columns) -> CSV text: one row per table in list, the given keys as columns.
function M.rows(list, columns)
  local rows = {}
  for i, t in ipairs(list) do
    local row = {}
    for j, c in ipairs(columns) do row[j] = t[c] == nil and "" or t[c] end
    rows[i] = row
  end
  return csv.format(columns, rows)
end

return M
