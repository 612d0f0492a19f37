-- Fuzz target: the analysis readers of published-layout files (introspect.analysis): read_ranges
-- (scenarios.csv or candidate_scenarios.json), read_selections, read_reports, read_weights, on the
-- same bytes as .csv and .json. Contract: a value (and a list of problems) or nil and an error
-- naming the file; never a raise for a file's content; every number read is finite.
local analysis = require("introspect.analysis")
local S = require("fuzz_support")

local function check_numbers(where, list)
  for _, v in ipairs(list) do
    if type(v) ~= "number" then S.finding("%s: %s where a number belongs", where, type(v)) end
  end
end

return function(data)
  local csv_path = S.scratch_file("csv", data)
  local json_path = S.scratch_file("json", data)
  for _, path in ipairs({ csv_path, json_path }) do
    local ok, ranges, err = pcall(analysis.read_ranges, path)
    if not ok then S.finding("read_ranges(%s) raised: %s", path, tostring(ranges)) end
    if ranges == nil then S.check_error("read_ranges", err, path) end
  end
  for _, fn in ipairs({ "read_selections", "read_reports", "read_weights" }) do
    local ok, value, problems = pcall(analysis[fn], csv_path)
    if not ok then S.finding("%s raised: %s", fn, tostring(value)) end
    if value == nil then
      S.check_error(fn, problems, csv_path)
    elseif fn == "read_selections" then
      for _, s in ipairs(value) do check_numbers(fn, s.a) check_numbers(fn, s.b) end
    elseif fn == "read_reports" then
      for _, r in ipairs(value) do check_numbers(fn, r.report) end
    end
  end
end
