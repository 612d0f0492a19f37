-- The selection and standardisation rules of the paper authors' R effects script, in Lua, so a
-- spec can check that the script would accept a run directory unchanged (docs/reproducing-the-
-- paper.md, "The authors' R scripts"). What it emulates, step by step:
--   * learned weights: DIR/BASE_regression_results.csv, standardised within base model;
--     native: DIR/BASE_latent_regression_results.csv, standardised within model;
--   * reports: the six DIR/BASE_*weight_reports.csv files; explaining_model renamed model; mean
--     per (model, version, scenario, attr); standardised within (model, version); base_model =
--     the text between "ft:" and the next ":" for fine-tuned models, else the model;
--   * instilled data: version == "instilled_100", inner-joined with the learned weights by
--     (base_model, scenario, attr); instilled reports: model contains "instilled"; control:
--     model == base_model; trained: model contains "itrained";
--   * native data: model matches "100-instilled|itrained-all-100"; itrained = contains
--     "itrained"; base_model = "gpt-4o-mini-2024-07-18" if the model contains "mini", else
--     "gpt-4o-2024-08-06" (opts.native_base replaces this rule for other names), joined with the
--     native weights by (base_model = model, scenario, attr).
-- Accuracy = least-squares slope of standardized_b ~ standardized_reports (the brms posterior
-- median agrees to 3 decimals, method.md section 4).
local csv = require "introspect.core.csv"
local stats = require "introspect.stats"

local M = {}

local REPORT_FILES = { "_weight_reports.csv", "_instilled_weight_reports.csv",
  "_itrained_first_50_of_100_50ex_weight_reports.csv", "_itrained_last_50_of_100_50ex_weight_reports.csv",
  "_instilled_latent_weight_reports.csv", "_itrained_all_100_50ex_latent_weight_reports.csv" }

-- scale(list, get, set): R's scale() of get(x) over the list, stored with set(x, z).
local function scale(list, get, set)
  local v = {}
  for i, x in ipairs(list) do v[i] = get(x) end
  local z = assert(stats.zscore(v))
  for i, x in ipairs(list) do set(x, z[i]) end
end

local function group_by(list, key)
  local groups, order = {}, {}
  for _, x in ipairs(list) do
    local k = key(x)
    if not groups[k] then groups[k] = {}; order[#order + 1] = k end
    table.insert(groups[k], x)
  end
  return groups, order
end

local function weights(path, owner)
  local t = assert(csv.read(path))
  local rows = {}
  for _, row in ipairs(t.rows) do
    for j = 1, 5 do
      rows[#rows + 1] = { owner = owner, scenario = row.scenario, attr = j, b = tonumber(row["b_attr" .. j]) }
    end
  end
  scale(rows, function(x) return x.b end, function(x, z) x.standardized_b = z end)
  local by = {}
  for _, r in ipairs(rows) do by[owner .. "\0" .. r.scenario .. "\0" .. r.attr] = r.standardized_b end
  return by
end

local function slope(rows)
  if #rows < 4 then return nil end
  local X, y = {}, {}
  for i, r in ipairs(rows) do X[i], y[i] = { r.standardized_reports }, r.standardized_b end
  local fit = stats.ols(X, y)
  return fit and fit.coef[1]
end

-- effects(dir, bases [, opts]) -> {[base] = {base=, instilled=, itrained=, native_instilled=,
-- native_itrained= (slopes), rows = {condition = count}}}, mean_reports
-- opts.native_base(model) -> base model name (default: the script's "mini" rule).
function M.effects(dir, bases, opts)
  opts = opts or {}
  local native_base = opts.native_base or function(model)
    return model:find("mini", 1, true) and "gpt-4o-mini-2024-07-18" or "gpt-4o-2024-08-06"
  end
  local learned, native = {}, {}
  for _, base in ipairs(bases) do
    for k, v in pairs(weights(dir .. "/" .. base .. "_regression_results.csv", base)) do learned[k] = v end
    for k, v in pairs(weights(dir .. "/" .. base .. "_latent_regression_results.csv", base)) do native[k] = v end
  end
  local long = {}
  for _, base in ipairs(bases) do
    for _, f in ipairs(REPORT_FILES) do
      local t = csv.read(dir .. "/" .. base .. f)
      for _, row in ipairs(t and t.rows or {}) do
        for j = 1, 5 do
          long[#long + 1] = { model = row.explaining_model, version = row.version, scenario = row.scenario,
            attr = j, report = tonumber(row["report_attr" .. j]) }
        end
      end
    end
  end
  local cells, order = group_by(long, function(x)
    return table.concat({ x.model, x.version, x.scenario, x.attr }, "\0")
  end)
  local mean_reports = {}
  for _, k in ipairs(order) do
    local list, s = cells[k], 0
    for _, x in ipairs(list) do s = s + x.report end
    local x = list[1]
    mean_reports[#mean_reports + 1] = { model = x.model, version = x.version, scenario = x.scenario,
      attr = x.attr, mean_report = s / #list, base_model = x.model:match("^ft:(.-):") or x.model }
  end
  local groups = group_by(mean_reports, function(x) return x.model .. "\0" .. x.version end)
  for _, g in pairs(groups) do
    scale(g, function(x) return x.mean_report end, function(x, z) x.standardized_reports = z end)
  end
  local out = {}
  for _, base in ipairs(bases) do out[base] = { rows = {} } end
  local buckets = {}
  local function add(base, cond, x, b)
    if not out[base] then return end
    buckets[base] = buckets[base] or {}
    buckets[base][cond] = buckets[base][cond] or {}
    table.insert(buckets[base][cond], { standardized_reports = x.standardized_reports, standardized_b = b })
  end
  for _, x in ipairs(mean_reports) do
    if x.version == "instilled_100" then
      local b = learned[x.base_model .. "\0" .. x.scenario .. "\0" .. x.attr]
      if b then
        if x.model:find("instilled", 1, true) then add(x.base_model, "instilled", x, b) end
        if x.model == x.base_model then add(x.base_model, "base", x, b) end
        if x.model:find("itrained", 1, true) then add(x.base_model, "itrained", x, b) end
      end
    end
    if x.model:find("100-instilled", 1, true) or x.model:find("itrained-all-100", 1, true) then
      local base = native_base(x.model)
      local b = native[base .. "\0" .. x.scenario .. "\0" .. x.attr]
      if b then
        add(base, x.model:find("itrained", 1, true) and "native_itrained" or "native_instilled", x, b)
      end
    end
  end
  for base, conds in pairs(buckets) do
    for cond, rows in pairs(conds) do
      out[base][cond] = slope(rows)
      out[base].rows[cond] = #rows
    end
  end
  return out, mean_reports
end

return M
