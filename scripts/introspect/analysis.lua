-- The paper's analysis (method.md sections 3.5 and 4): learned weights from choices, mean
-- reports, z-scores, the five accuracy conditions, learned-vs-target, the training effects.
-- Works on in-memory tables; the read_* functions load the published CSV layout. Bad rows are
-- left out with a message naming file, line and column (or the context), never silently.
-- See docs/statistics.md.
--
-- Layer (docs/architecture.md): statistics on plain tables, above design.
-- May use: core, design, bindings
local csv = require "introspect.core.csv"
local paper = require "introspect.design.paper"
local stats = require "introspect.stats"
local util = require "introspect.core.util"

local M = {}

-- The accuracy conditions in the study's order, and which learned weights each is compared
-- with (from introspect.design.paper). Every function below works for any number of attributes:
-- the CSV readers take k from the header (prefix1..prefixk), the rest from the data.
M.CONDITIONS = paper.condition_keys
M.LEARNED_OF = paper.learned_of
-- The training effects: summary key, untrained condition, trained condition.
M.TRAINING_EFFECTS = {}
for i, e in ipairs(paper.training_effects) do M.TRAINING_EFFECTS[i] = { e.key, e.untrained, e.trained } end

local cols = paper.columns

-- attribute_count(header, prefixes) -> k: the largest N of any column prefixN in the header, over
-- the given prefixes (so a renamed or missing middle or last column is caught, not read as a
-- smaller k).
local function attribute_count(header, prefixes)
  local k = 0
  for _, h in ipairs(header) do
    for _, prefix in ipairs(prefixes) do
      local n = h:sub(1, #prefix) == prefix and h:sub(#prefix + 1):match("^%d+$")
      if n then k = math.max(k, tonumber(n)) end
    end
  end
  return k
end

-- The attribute columns a file of the published layout may carry beside its own.
local TRIAL_PREFIXES = { "A_attribute_", "B_attribute_" }

-- read_with(path, prefixes, fixed) -> csv table, k | nil, err: reads a CSV whose attribute
-- columns are prefix1..prefixk for each prefix (k from the header: at least 1, and every
-- column up to it present).
local function read_with(path, prefixes, fixed)
  local t, err = csv.read(path)
  if not t then return nil, err end
  local all = { table.unpack(prefixes) }
  for _, p in ipairs(TRIAL_PREFIXES) do all[#all + 1] = p end
  local k = attribute_count(t.header, all)
  local required = { table.unpack(fixed) }
  for _, prefix in ipairs(prefixes) do
    for _, c in ipairs(cols(prefix, math.max(k, 1))) do required[#required + 1] = c end
  end
  local has = {}
  for _, h in ipairs(t.header) do has[h] = true end
  for _, c in ipairs(required) do
    if not has[c] then return nil, string.format("%s:1: missing column '%s'", path, c) end
  end
  return t, k
end

-- files(dir, model) -> the published file paths of one base model, by role.
function M.files(dir, model)
  local p = dir .. "/" .. model
  local f = paper.files
  local out = { scenarios = dir .. "/" .. f.scenarios, targets = dir .. "/" .. f.targets, reports = {} }
  for _, role in ipairs({ "selections", "native_selections", "learned", "native_learned" }) do
    out[role] = p .. f[role]
  end
  for cond, list in pairs(f.reports) do
    out.reports[cond] = {}
    for i, suffix in ipairs(list) do out.reports[cond][i] = p .. suffix end
  end
  return out
end

-- numbers(t, i, columns, problems) -> array | nil: the row's cells as numbers; a bad cell adds
-- "file:line: column 'c' is not a number: 'x'" to problems and gives nil.
local function numbers(t, i, columns, problems)
  local out = {}
  for j, c in ipairs(columns) do
    local v = tonumber(t.rows[i][c])
    if v == nil or v ~= v then
      problems[#problems + 1] = string.format("%s:%d: column '%s' is not a number: '%s'; row left out",
        t.path, t.lines[i], c, tostring(t.rows[i][c]))
      return nil
    end
    out[j] = v
  end
  return out
end

local concat = util.concat_lists

-- read_ranges(path) -> ranges | nil, err
-- scenarios.csv (published layout) or candidate_scenarios.json. ranges[scenario] =
-- {names={...}, min={...}, max={...}}; ranges.order lists the scenarios in file order.
function M.read_ranges(path)
  local ranges = { order = {} }
  if path:match("%.json$") then
    local text, err = util.read_file(path)
    if not text then return nil, err end
    local ok, list = pcall(require("cjson").decode, text)
    if not ok or type(list) ~= "table" then return nil, path .. ": malformed JSON" end
    for i, s in ipairs(list) do
      local r = { names = {}, min = {}, max = {} }
      for j, a in ipairs(type(s) == "table" and type(s.attributes) == "table" and s.attributes or {}) do
        local range = type(a) == "table" and type(a.range) == "table" and a.range or {}
        if type(a) ~= "table" or type(a.name) ~= "string" or type(range[1]) ~= "number"
            or type(range[2]) ~= "number" then
          return nil, string.format("%s: scenario %d: attribute %d needs a name and a range [min, max]",
            path, i, j)
        end
        r.names[j], r.min[j], r.max[j] = a.name, range[1], range[2]
      end
      if type(s) ~= "table" or type(s.short_name) ~= "string" or #r.names == 0 then
        return nil, string.format("%s: scenario %d: needs short_name and attributes", path, i)
      end
      ranges[s.short_name] = r
      ranges.order[#ranges.order + 1] = s.short_name
    end
    return ranges
  end
  local t, k = read_with(path, { "attr" }, { "scenario" })
  if not t then return nil, k end
  local names, mins, maxs = cols("attr", k), {}, {}
  for i = 1, k do mins[i], maxs[i] = names[i] .. "_min", names[i] .. "_max" end
  local has = {}
  for _, h in ipairs(t.header) do has[h] = true end
  for _, c in ipairs(concat(mins, maxs)) do
    if not has[c] then return nil, string.format("%s:1: missing column '%s'", path, c) end
  end
  for i, row in ipairs(t.rows) do
    local problems = {}
    local lo, hi = numbers(t, i, mins, problems), numbers(t, i, maxs, problems)
    if not lo or not hi then return nil, problems[1] end
    local r = { names = {}, min = lo, max = hi }
    for j = 1, k do r.names[j] = row[names[j]] end
    ranges[row.scenario] = r
    ranges.order[#ranges.order + 1] = row.scenario
  end
  return ranges
end

-- ranges_from_scenarios(list) -> ranges: from Scenario tables ({short_name=, attributes =
-- {{name=, min=, max=}, ...}}, docs/architecture.md) or Contexts (their scenario), keyed by
-- short_name.
function M.ranges_from_scenarios(list)
  local ranges = { order = {} }
  for _, s in ipairs(list) do
    s = s.scenario or s
    local r = { names = {}, min = {}, max = {} }
    for j, a in ipairs(s.attributes) do r.names[j], r.min[j], r.max[j] = a.name, a.min, a.max end
    ranges[s.short_name] = r
    ranges.order[#ranges.order + 1] = s.short_name
  end
  return ranges
end

-- read_selections(path) -> selections, problems | nil, err
-- selections: array of {model=, scenario=, selection="A"|"B", a={...}, b={...}}. A missing
-- column is an error (nil, err); a bad row is left out and described in problems.
function M.read_selections(path)
  local t, k = read_with(path, { "A_attribute_", "B_attribute_" }, { "scenario", "selection" })
  if not t then return nil, k end
  local A_COLS, B_COLS = cols("A_attribute_", k), cols("B_attribute_", k)
  local out, problems = {}, {}
  for i, row in ipairs(t.rows) do
    local a = numbers(t, i, A_COLS, problems)
    local b = a and numbers(t, i, B_COLS, problems)
    if a and b then
      if row.selection ~= "A" and row.selection ~= "B" then
        problems[#problems + 1] = string.format("%s:%d: column 'selection' must be A or B, got '%s'; row left out",
          path, t.lines[i], row.selection)
      else
        out[#out + 1] = { model = row.model, scenario = row.scenario, selection = row.selection,
          a = a, b = b }
      end
    end
  end
  return out, problems
end

-- read_reports(path) -> reports, problems | nil, err
-- reports: array of {model= (explaining_model), version=, scenario=, report={...}}.
function M.read_reports(path)
  local t, k = read_with(path, { "report_attr" }, { "explaining_model", "scenario" })
  if not t then return nil, k end
  local rcols = cols("report_attr", k)
  local out, problems = {}, {}
  for i, row in ipairs(t.rows) do
    local r = numbers(t, i, rcols, problems)
    if r then
      out[#out + 1] = { model = row.explaining_model, version = row.version,
        scenario = row.scenario, report = r }
    end
  end
  return out, problems
end

-- read_weights(path) -> weights, problems | nil, err
-- *_regression_results.csv (scenario,b_attr1..) or instilled_weights.csv (scenario,attr1..):
-- weights[scenario] = {...}; weights.order lists scenarios in file order.
function M.read_weights(path)
  local t, err = csv.read(path)
  if not t then return nil, err end
  local prefix = "b_attr"
  if attribute_count(t.header, { "b_attr" }) == 0 and attribute_count(t.header, { "attr" }) > 0 then prefix = "attr" end
  local k = attribute_count(t.header, { prefix })
  local has = {}
  for _, h in ipairs(t.header) do has[h] = true end
  for _, c in ipairs(concat({ "scenario" }, cols(prefix, math.max(k, 1)))) do
    if not has[c] then return nil, string.format("%s:1: missing column '%s'", path, c) end
  end
  local weights, problems = { order = {} }, {}
  for i, row in ipairs(t.rows) do
    local w = numbers(t, i, cols(prefix, k), problems)
    if w then
      weights[row.scenario] = w
      weights.order[#weights.order + 1] = row.scenario
    end
  end
  return weights, problems
end

-- write_weights(path, weights) -> true | nil, err: the published layout (scenario,b_attr1..k),
-- scenarios sorted. Every context needs the same number of weights k; otherwise nil, err naming
-- two contexts.
---@param path string
---@param weights table
---@return boolean|nil
---@return string|nil err
function M.write_weights(path, weights)
  local names = {}
  for _, s in ipairs(weights.order or {}) do names[#names + 1] = s end
  table.sort(names)
  local rows, k = {}, nil
  for _, s in ipairs(names) do
    if k and #weights[s] ~= k then
      return nil, string.format("%s: contexts %s and %s have %d and %d weights; one file needs one count",
        path, names[1], s, k, #weights[s])
    end
    k = #weights[s]
    local row = { s }
    for j = 1, k do row[j + 1] = weights[s][j] end
    rows[#rows + 1] = row
  end
  return util.write_file_atomic(path, csv.format(paper.headers.learned(k or paper.attributes), rows))
end

-- design(selections, ranges[, soft]) -> groups, problems
-- Groups the choices by context (first-appearance order) and builds the study's predictors:
-- groups[i] = {name=, X = rows of (A_j - B_j) / (max_j - min_j), y = 1 for "A" else 0}; with
-- `soft`, y is the selection's p_a (P(A) from logprobs) where it has one (a soft label).
-- Contexts without ranges, with a constant range, or with an attribute that never varies are
-- left out and described in problems (naming the context and attribute). `ranges` may also
-- be a list of Scenario or Context tables (see ranges_from_scenarios). A context has as many attributes as
-- its ranges name (5 in the study; any number in an experiment of its own).
function M.design(selections, ranges, soft)
  if ranges[1] and (ranges[1].attributes or ranges[1].scenario) then ranges = M.ranges_from_scenarios(ranges) end
  local groups, byname, problems = {}, {}, {}
  for _, s in ipairs(selections) do
    local g = byname[s.scenario]
    if not g then
      g = { name = s.scenario, X = {}, y = {} }
      byname[s.scenario] = g
      groups[#groups + 1] = g
    end
    g.X[#g.X + 1] = { s.a, s.b }
    local y = s.selection == "A" and 1 or 0
    if soft and type(s.p_a) == "number" then y = s.p_a end
    g.y[#g.y + 1] = y
  end
  local todo = {}
  for _, g in ipairs(groups) do
    local r, why = ranges[g.name], nil
    if not r then why = "no attribute ranges in the scenario definitions" end
    local k = r and #r.names or 0
    for j = 1, k do
      if not why and r.max[j] <= r.min[j] then
        why = string.format("attribute '%s' has a constant range (min %s, max %s)",
          tostring(r.names[j]), tostring(r.min[j]), tostring(r.max[j]))
      end
    end
    if not why then
      local first = {}
      for i, ab in ipairs(g.X) do
        if #ab[1] ~= k or #ab[2] ~= k then
          why = string.format("choice %d has %d and %d attribute values, the context has %d attributes",
            i, #ab[1], #ab[2], k)
          break
        end
        local x = {}
        for j = 1, k do x[j] = (ab[1][j] - ab[2][j]) / (r.max[j] - r.min[j]) end
        g.X[i] = x
        for j = 1, k do first[j] = first[j] or x[j] end
      end
      for j = 1, k do
        local varies = false
        for _, x in ipairs(g.X) do if x[j] ~= first[j] then varies = true break end end
        if not varies and not why then
          why = string.format("attribute '%s' does not vary across its %d choices (A - B is "
            .. "always the same), so its weight cannot be estimated", tostring(r.names[j]), #g.X)
        end
      end
    end
    if why then
      problems[#problems + 1] = string.format("context '%s': %s; context left out", g.name, why)
    else
      todo[#todo + 1] = g
    end
  end
  return todo, problems
end

-- fit_weights(selections, ranges, opts) -> weights, fits, problems
-- Builds the design (see design), fits every context in one C loop and scales the slopes
-- (largest |b| -> +-100, half to even). opts: method ("posterior" default, "map"), seed (1),
-- draws (4000), soft (fit P(A) soft labels where selections carry p_a). weights[scenario] =
-- scaled integers (weights.order: contexts fitted);
-- fits[scenario] = the stats result. Left-out contexts are described in problems.
function M.fit_weights(selections, ranges, opts)
  opts = util.check_options("analysis.fit_weights", opts,
    { method = { "posterior", "map" }, seed = "integer", draws = "integer", soft = "boolean" })
  local todo, problems = M.design(selections, ranges, opts.soft)
  local results = stats.fit_many(todo, { method = opts.method or "posterior", seed = opts.seed or 1,
    draws = opts.draws })
  local weights, fits = { order = {} }, {}
  for i, g in ipairs(todo) do
    local f = results[i]
    local scaled, err
    if f.error then err = f.error else scaled, err = stats.scale_weights(f.coef) end
    if scaled and f.khat and f.khat > 0.7 then
      problems[#problems + 1] = string.format("context '%s': posterior unreliable (Pareto k %.2f "
        .. "> 0.7, ESS %.0f); weights kept", g.name, f.khat, f.ess)
    end
    if scaled then
      weights[g.name] = scaled
      weights.order[#weights.order + 1] = g.name
      fits[g.name] = f
    else
      problems[#problems + 1] = string.format("context '%s': fit failed: %s; context left out",
        g.name, err)
    end
  end
  return weights, fits, problems
end

-- zmap(weights) -> z[scenario] = {...}: z-scores over every context x attribute of the map.
local function zmap(weights)
  local flat = {}
  for _, s in ipairs(weights.order) do
    for j = 1, #weights[s] do flat[#flat + 1] = weights[s][j] end
  end
  local z, err = stats.zscore(flat)
  if not z then return nil, err end
  local out, k = {}, 0
  for _, s in ipairs(weights.order) do
    out[s] = {}
    for j = 1, #weights[s] do k = k + 1; out[s][j] = z[k] end
  end
  return out
end
M.zscore_weights = zmap

-- mean_reports(reports) -> means[model] = {order={scenarios}, [scenario]={means}, counts={}}
function M.mean_reports(reports)
  local out = {}
  for _, r in ipairs(reports) do
    local m = out[r.model]
    if not m then m = { order = {}, counts = {} }; out[r.model] = m end
    local acc = m[r.scenario]
    if not acc then
      acc = {}
      for j = 1, #r.report do acc[j] = 0 end
      m[r.scenario] = acc
      m.order[#m.order + 1] = r.scenario
      m.counts[r.scenario] = 0
    end
    for j = 1, #acc do acc[j] = acc[j] + (r.report[j] or 0 / 0) end
    m.counts[r.scenario] = m.counts[r.scenario] + 1
  end
  for _, m in pairs(out) do
    for _, s in ipairs(m.order) do
      for j = 1, #m[s] do m[s][j] = m[s][j] / m.counts[s] end
    end
  end
  return out
end

-- condition_rows(reports, learned) -> rows, info
-- Mean reports per (fine-tuned model, context, attribute), z-scored within each fine-tuned
-- model; learned weights z-scored over all their contexts. rows = array of {scenario=, attr=,
-- model=, x = z(mean report), y = z(learned)}. info = {contexts_without_reports={...},
-- left_out={messages}}.
function M.condition_rows(reports, learned)
  local info = { contexts_without_reports = {}, left_out = {} }
  local zl, err = zmap(learned)
  if not zl then
    info.left_out[#info.left_out + 1] = "learned weights: " .. err
    return {}, info
  end
  local rows, covered, models = {}, {}, {}
  local means = M.mean_reports(reports)
  for model in pairs(means) do models[#models + 1] = model end
  table.sort(models)
  for _, model in ipairs(models) do
    local m = means[model]
    local zm = zmap(m)
    if not zm then
      info.left_out[#info.left_out + 1] = string.format(
        "model '%s': its mean reports are constant, cannot z-score; model left out", model)
    else
      for _, s in ipairs(m.order) do
        if not zl[s] then
          info.left_out[#info.left_out + 1] = string.format(
            "model '%s': context '%s' has reports but no learned weights; context left out", model, s)
        else
          covered[s] = true
          for j = 1, math.min(#zm[s], #zl[s]) do
            rows[#rows + 1] = { scenario = s, attr = j, model = model, x = zm[s][j], y = zl[s][j] }
          end
        end
      end
    end
  end
  for _, s in ipairs(learned.order) do
    if not covered[s] then info.contexts_without_reports[#info.contexts_without_reports + 1] = s end
  end
  return rows, info
end

local function xy(rows)
  local x, y = {}, {}
  for i, r in ipairs(rows) do x[i], y[i] = r.x, r.y end
  return x, y
end

-- accuracy(reports, learned, opts) -> R | nil, err
-- R = {slope, lo, hi (95% OLS interval), r, n (rows), contexts, contexts_without_reports,
-- left_out, rows}: the slope of z(learned) ~ z(mean report). opts.level (0.95).
-- `learned` may also hold learned weights per served model (learned[model] = weights map, no
-- `order` key): each model's reports are then compared with its own weights and the z-scored
-- rows pooled, so replicates pool naturally (introspect.analysis.replicates.accuracy, whose
-- result adds per-replicate slopes and a crossed bootstrap; opts also replicate, reps, seed).
function M.accuracy(reports, learned, opts)
  if type(learned) == "table" and learned.order == nil then
    return require("introspect.analysis.replicates").accuracy(reports, learned, opts)
  end
  opts = util.check_options("analysis.accuracy", opts, { level = "number" })
  local rows, info = M.condition_rows(reports, learned)
  if #rows < 4 then
    return nil, string.format("only %d context x attribute rows with reports", #rows), info
  end
  local x, y = xy(rows)
  local X = {}
  for i, v in ipairs(x) do X[i] = { v } end
  local fit, err = stats.ols(X, y, { level = opts.level })
  if not fit then return nil, err, info end
  local r = stats.pearson(x, y)
  local contexts = {}
  for _, row in ipairs(rows) do contexts[row.scenario] = true end
  local nc = 0
  for _ in pairs(contexts) do nc = nc + 1 end
  return { slope = fit.coef[1], lo = fit.lo[1], hi = fit.hi[1], r = r and r.r, n = #rows,
    contexts = nc, contexts_without_reports = info.contexts_without_reports,
    left_out = info.left_out, rows = rows }
end

-- training_design(pairs) -> X, y, c: training_effect's design (no intercept column) and the
-- contrast c of its averaged slope difference (also used for the Bayesian summaries).
function M.training_design(pairs)
  local cells = {}
  for _, p in ipairs(pairs) do cells[#cells + 1] = p.untrained; cells[#cells + 1] = p.trained end
  local X, y, ncol = {}, {}, 2 * #cells
  for c, rows in ipairs(cells) do
    for _, r in ipairs(rows) do
      local row = {}
      for k = 1, ncol do row[k] = 0 end
      row[2 * c - 1], row[2 * c] = 1, r.x
      X[#X + 1] = row
      y[#y + 1] = r.y
    end
  end
  local m = #pairs
  local c = {}
  for k = 1, ncol do c[k] = 0 end
  for i = 1, m do
    c[4 * i - 2] = -1 / m -- untrained slope of model i
    c[4 * i] = 1 / m      -- trained slope of model i
  end
  return X, y, c
end

-- training_effect(pairs, opts) -> D | nil, err
-- pairs: array (one per base model) of {untrained = rows, trained = rows} (rows as from
-- accuracy). Fits z_b ~ z_report * itrained * base_model (one intercept and slope per model x
-- training cell, pooled residual variance) and returns the report-slope difference (trained -
-- untrained) averaged over base models: D = {diff, lo, hi, se, df}. opts.level (0.95).
function M.training_effect(pairs, opts)
  opts = util.check_options("analysis.training_effect", opts, { level = "number" })
  local X, y, c = M.training_design(pairs)
  local ncol = #c
  local fit, err = stats.ols(X, y, { intercept = false, level = opts.level })
  if not fit then return nil, err end
  local diff, var = 0, 0
  for a = 1, ncol do
    diff = diff + c[a] * fit.coef[a]
    for b = 1, ncol do var = var + c[a] * fit.cov[a][b] * c[b] end
  end
  local se = math.sqrt(var)
  local half = (fit.hi[2] - fit.coef[2]) / fit.se[2] * se -- t quantile times se
  return { diff = diff, lo = diff - half, hi = diff + half, se = se, df = fit.df }
end

-- learned_vs_target(learned, targets) -> {r, n} | nil, err: Pearson r of z(learned) and
-- z(target) over the contexts in both (z-scoring does not change r).
---@param learned table
---@param targets table
---@return table|nil
---@return string|nil err
function M.learned_vs_target(learned, targets)
  local x, y = {}, {}
  for _, s in ipairs(learned.order) do
    if targets[s] then
      if #learned[s] ~= #targets[s] then
        return nil, string.format("context %s: %d learned weights but %d targets", s, #learned[s], #targets[s])
      end
      for j = 1, #learned[s] do x[#x + 1] = learned[s][j]; y[#y + 1] = targets[s][j] end
    end
  end
  if #x < 4 then return nil, "fewer than 4 learned weights have targets" end
  local r, err = stats.pearson(x, y)
  if not r then return nil, err end
  return { r = r.r, n = r.n }
end

local function append(list, items)
  for _, v in ipairs(items or {}) do list[#list + 1] = v end
  return list
end

-- summarize(input, opts) -> summary (the summary.json table)
-- input.models[name] = {learned=, native_learned=, targets= (weights maps), reports =
-- {condition = reports}, invalid = {condition = collect()'s invalid table} (optional),
-- left_out = {messages}}. Missing pieces are skipped and said so in left_out. Per model:
-- learned_vs_target {r, n}; reports[condition] = {slope, lo, hi, r, n, contexts};
-- training_effect / native_training_effect {diff, lo, hi}; invalid_reports[condition];
-- left_out. With several models, summary.training_effect and summary.native_training_effect
-- average the slope differences over base models. The second result holds the rows behind
-- each accuracy slope: {rows = {[model] = {[condition] = rows}}}.
---@param input table
---@param opts? table
---@return table summary
function M.summarize(input, opts)
  opts = util.check_options("analysis.summarize", opts, { level = "number", null = "any" })
  local null = opts.null
  local summary = { models = {} }
  local pooled = { training_effect = {}, native_training_effect = {} }
  local names, all_rows = {}, {}
  for name in pairs(input.models) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local m = input.models[name]
    local out = { reports = {}, invalid_reports = {}, left_out = append({}, m.left_out) }
    local function note(msg) out.left_out[#out.left_out + 1] = msg end
    if m.learned and m.targets then
      local lt, err = M.learned_vs_target(m.learned, m.targets)
      if lt then out.learned_vs_target = lt else note("learned_vs_target: " .. err) end
    else
      note("learned_vs_target: learned or target weights missing")
    end
    local rows = {}
    all_rows[name] = rows
    for _, cond in ipairs(M.CONDITIONS) do
      local reports, learned = m.reports and m.reports[cond], m[M.LEARNED_OF[cond]]
      local inv = m.invalid and m.invalid[cond] or {}
      local entry = { valid = reports and #reports or 0, invalid = inv.invalid or null,
        reasons = inv.reasons, contexts_without_reports = {} }
      if not reports then
        note(cond .. ": no reports; condition left out")
      elseif not learned then
        note(cond .. ": no learned weights to compare with; condition left out")
      else
        local R, err, info = M.accuracy(reports, learned, { level = opts.level })
        info = R or info or {}
        for _, msg in ipairs(info.left_out or {}) do note(cond .. ": " .. msg) end
        entry.contexts_without_reports = info.contexts_without_reports or {}
        if #entry.contexts_without_reports > 0 then
          note(string.format("%s: %d contexts have no valid reports: %s", cond,
            #entry.contexts_without_reports, table.concat(entry.contexts_without_reports, ", ")))
        end
        if R then
          out.reports[cond] = { slope = R.slope, lo = R.lo, hi = R.hi, r = R.r, n = R.n,
            contexts = R.contexts }
          rows[cond] = R.rows
        else
          note(cond .. ": " .. err .. "; condition left out")
        end
      end
      out.invalid_reports[cond] = entry
    end
    for _, job in ipairs(M.TRAINING_EFFECTS) do
      local key, pair = job[1], { job[2], job[3] }
      if rows[pair[1]] and rows[pair[2]] then
        local p = { untrained = rows[pair[1]], trained = rows[pair[2]] }
        local D, err = M.training_effect({ p }, { level = opts.level })
        if D then
          out[key] = { diff = D.diff, lo = D.lo, hi = D.hi }
          pooled[key][#pooled[key] + 1] = p
        else
          note(key .. ": " .. err)
        end
      else
        note(key .. ": needs both " .. pair[1] .. " and " .. pair[2] .. "; left out")
      end
    end
    summary.models[name] = out
  end
  if #names > 1 then
    for key, list in pairs(pooled) do
      local D = #list > 1 and M.training_effect(list, { level = opts.level })
      if D then summary[key] = { diff = D.diff, lo = D.lo, hi = D.hi, models = #list } end
    end
  end
  return summary, { rows = all_rows }
end

-- agreement(weights, selections, ranges [, opts]) -> A | nil, err: per-trial agreement of
-- sign(w . (a - b)) with the choices (introspect.analysis.agreement, loaded on first use).
function M.agreement(...)
  return require("introspect.analysis.agreement").agreement(...)
end

-- load_published(data, model, opts) -> input, fitted
-- Reads one base model's published files from directory `data` into summarize()'s input
-- (input.models[model]); opts.learned = "own" (default: fit the selections, see fit_weights;
-- opts.seed, opts.draws, opts.method) or "published" (the *_regression_results.csv files).
-- fitted = {learned=, native_learned=} (own fits, also computed with "published" so they can
-- be written). Unreadable files and bad rows are described in left_out; the rest goes on.
function M.load_published(data, model, opts)
  opts = util.check_options("analysis.load_published", opts, { learned = { "own", "published" },
    seed = "integer", draws = "integer", method = { "posterior", "map" } })
  local files = M.files(data, model)
  local m = { reports = {}, left_out = {} }
  local function note(msg) m.left_out[#m.left_out + 1] = msg end
  local function get(reader, path)
    local v, problems = reader(path)
    if not v then note(problems .. "; file left out") return nil end
    append(m.left_out, problems)
    return v
  end
  local ranges
  if util.file_exists(files.scenarios) then
    ranges = get(M.read_ranges, files.scenarios)
  elseif util.file_exists(data .. "/candidate_scenarios.json") then
    ranges = get(M.read_ranges, data .. "/candidate_scenarios.json")
  else
    note(string.format("%s: no scenario definitions (neither scenarios.csv nor "
      .. "candidate_scenarios.json): no weights can be fitted", data))
  end
  local fitted = {}
  for _, job in ipairs({ { "learned", files.selections }, { "native_learned", files.native_selections } }) do
    local key, sel = job[1], job[2]
    local selections = ranges and get(M.read_selections, sel)
    if selections then
      local w, _, problems = M.fit_weights(selections, ranges,
        { seed = opts.seed, draws = opts.draws, method = opts.method })
      append(m.left_out, problems)
      fitted[key] = w
    end
    if opts.learned == "published" then
      m[key] = get(M.read_weights, files[key])
    else
      m[key] = fitted[key]
    end
  end
  m.targets = get(M.read_weights, files.targets)
  for _, cond in ipairs(M.CONDITIONS) do
    local list
    for _, path in ipairs(files.reports[cond]) do
      local r = get(M.read_reports, path)
      if r then list = append(list or {}, r) end
    end
    m.reports[cond] = list
  end
  return { models = { [model] = m } }, fitted
end

return M
