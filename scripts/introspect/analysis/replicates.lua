-- Accuracy pooled over replicate fine-tunes (each with its own learned weights), with a
-- crossed replicate x context cluster bootstrap beside the naive interval, and the spread of
-- headline statistics between replicates. See docs/statistics.md ("Replicates").
local analysis = require "introspect.analysis"
local bootstrap = require "introspect.analysis.bootstrap"
local stats = require "introspect.stats"
local util = require "introspect.core.util"

local M = {}

-- spread(values) -> {mean, sd, min, max, n}: sd is the sample SD (n - 1); nil sd for n < 2.
function M.spread(values)
  local n, sum = #values, 0
  if n == 0 then return { n = 0 } end
  local lo, hi = math.huge, -math.huge
  for _, v in ipairs(values) do sum = sum + v; lo = math.min(lo, v); hi = math.max(hi, v) end
  local mean, ss = sum / n, 0
  for _, v in ipairs(values) do ss = ss + (v - mean) ^ 2 end
  return { mean = mean, sd = n > 1 and math.sqrt(ss / (n - 1)) or nil, min = lo, max = hi, n = n }
end

-- ols_slope(rows) -> {slope, lo, hi, r, n} | nil, err: z(learned) ~ z(report), naive t interval.
local function ols_slope(rows, level)
  local X, x, y = {}, {}, {}
  for i, r in ipairs(rows) do X[i], x[i], y[i] = { r.x }, r.x, r.y end
  if #rows < 4 then return nil, string.format("only %d context x attribute rows with reports", #rows) end
  local fit, err = stats.ols(X, y, { level = level })
  if not fit then return nil, err end
  local r = stats.pearson(x, y)
  return { slope = fit.coef[1], lo = fit.lo[1], hi = fit.hi[1], r = r and r.r, n = #rows }
end

-- accuracy(reports, learned [, opts]) -> R | nil, err
-- reports: array of {model=, scenario=, report=} from any number of served models; learned:
-- learned[model] = the weights map the reports of `model` are compared with (learned weights
-- per served model). opts.replicate: table or function model -> replicate label (default: the
-- model); every model of one replicate must share one weights map. Each replicate is z-scored
-- on its own (analysis.condition_rows), then the rows are pooled. R = {slope, lo, hi (naive
-- OLS t interval over the pooled rows), r, n, contexts, boot = crossed replicate x context
-- bootstrap {estimate, se, lo, hi, ...} (context-only when there is one replicate),
-- replicates = {label = {slope, lo, hi, r, n}}, order = {labels}, between_sd (SD of the
-- per-replicate slopes), rows (with .replicate), left_out}. opts: level, reps, seed.
function M.accuracy(reports, learned, opts)
  opts = util.check_options("replicates.accuracy", opts, { replicate = "any", level = "number",
    reps = "integer", seed = "integer" })
  local label_of = opts.replicate
  if type(label_of) == "table" then
    local map = label_of
    label_of = function(m) return map[m] end
  end
  label_of = label_of or function(m) return m end
  local groups, order, left_out, warned = {}, {}, {}, {}
  for _, r in ipairs(reports) do
    local w = learned[r.model]
    local label = label_of(r.model)
    if not w then
      if not warned[r.model] then
        warned[r.model] = true
        left_out[#left_out + 1] = string.format("model '%s': no learned weights; its reports left out",
          tostring(r.model))
      end
    elseif label == nil then
      error(string.format("replicates.accuracy: model '%s' has no replicate label", tostring(r.model)), 2)
    else
      local g = groups[label]
      if not g then
        g = { reports = {}, learned = w }
        groups[label] = g
        order[#order + 1] = label
      elseif g.learned ~= w then
        error(string.format("replicates.accuracy: replicate '%s' has models with different learned weights",
          tostring(label)), 2)
      end
      g.reports[#g.reports + 1] = r
    end
  end
  local rows, per, slopes = {}, {}, {}
  for _, label in ipairs(order) do
    local g = groups[label]
    local grows, info = analysis.condition_rows(g.reports, g.learned)
    for _, msg in ipairs(info.left_out) do left_out[#left_out + 1] = tostring(label) .. ": " .. msg end
    local R, err = ols_slope(grows, opts.level)
    if R then
      per[label] = R
      slopes[#slopes + 1] = R.slope
    else
      left_out[#left_out + 1] = tostring(label) .. ": " .. err
    end
    for _, row in ipairs(grows) do row.replicate = label; rows[#rows + 1] = row end
  end
  local R, err = ols_slope(rows, opts.level)
  if not R then return nil, err end
  local x, y, rep, ctx, seen, contexts = {}, {}, {}, {}, {}, 0
  for i, row in ipairs(rows) do
    x[i], y[i], rep[i], ctx[i] = row.x, row.y, row.replicate, row.scenario
    if not seen[row.scenario] then seen[row.scenario] = true; contexts = contexts + 1 end
  end
  local boot_opts = { reps = opts.reps, seed = opts.seed, level = opts.level }
  local clusters = #order > 1 and { crossed = { rep, ctx } } or ctx
  R.boot = bootstrap.clusters(x, y, clusters, boot_opts)
  R.contexts, R.replicates, R.order, R.rows, R.left_out = contexts, per, order, rows, left_out
  R.between_sd = M.spread(slopes).sd
  return R
end

-- headline_spread(summaries) -> {reports = {condition = spread of slopes}, training_effect =,
-- native_training_effect = (spreads of diff)}: summaries is an array of summary.models[NAME]
-- tables (one per replicate), as analysis.summarize writes them.
function M.headline_spread(summaries)
  local out = { reports = {} }
  for _, cond in ipairs(analysis.CONDITIONS) do
    local v = {}
    for _, s in ipairs(summaries) do
      if s.reports and s.reports[cond] then v[#v + 1] = s.reports[cond].slope end
    end
    if #v > 0 then out.reports[cond] = M.spread(v) end
  end
  for _, key in ipairs({ "training_effect", "native_training_effect" }) do
    local v = {}
    for _, s in ipairs(summaries) do if s[key] then v[#v + 1] = s[key].diff end end
    if #v > 0 then out[key] = M.spread(v) end
  end
  return out
end

-- pooled(inputs [, opts]) -> {condition = {slope, lo, hi, boot_lo, boot_hi, boot_se, r, n,
-- replicates, between_sd}}: each condition's accuracy pooled over replicate lineages. inputs:
-- one summarize() input per replicate ({reports = {condition = reports}, learned=,
-- native_learned=}); each replicate's reports are compared with its own learned weights
-- (analysis.LEARNED_OF) and z-scored on their own; the interval beside the naive one is the
-- crossed replicate x context bootstrap. opts: reps, seed.
function M.pooled(inputs, opts)
  opts = util.check_options("replicates.pooled", opts, { reps = "integer", seed = "integer" })
  local out = {}
  for _, cond in ipairs(analysis.CONDITIONS) do
    local reports, learned, label = {}, {}, {}
    for r, input in ipairs(inputs) do
      local w = input[analysis.LEARNED_OF[cond]]
      for _, x in ipairs(w and input.reports and input.reports[cond] or {}) do
        -- the same served model (the base model) may report in every replicate: key it by both
        local key = tostring(x.model) .. " #" .. r
        reports[#reports + 1] = { model = key, scenario = x.scenario, report = x.report }
        learned[key], label[key] = w, r
      end
    end
    local R = #reports > 0 and M.accuracy(reports, learned, { replicate = label, reps = opts.reps, seed = opts.seed })
    if R then
      out[cond] = { slope = R.slope, lo = R.lo, hi = R.hi, r = R.r, n = R.n, boot_lo = R.boot and R.boot.lo,
        boot_hi = R.boot and R.boot.hi, boot_se = R.boot and R.boot.se, replicates = #R.order,
        between_sd = R.between_sd }
    end
  end
  return out
end

-- study(summary, inputs, lineages [, opts]) -> summary.json's `replicates` entry: for each base
-- model with replicate lineages (lineages[base] = the summary keys of its replicates, the first
-- the base model itself), {models = keys, between = headline_spread (the SD of each headline
-- slope and effect between replicates), pooled = pooled (each condition over the replicates,
-- with the crossed replicate x context interval)}. inputs[key]: the summarize() input.
function M.study(summary, inputs, lineages, opts)
  local out = {}
  for base, keys in pairs(lineages) do
    local summaries, list = {}, {}
    for _, key in ipairs(keys) do
      summaries[#summaries + 1] = summary.models[key]
      list[#list + 1] = inputs[key]
    end
    out[base] = { models = keys, between = M.headline_spread(summaries), pooled = M.pooled(list, opts) }
  end
  return out
end

return M
