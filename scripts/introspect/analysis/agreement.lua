-- Per-trial agreement of weights with choices, and paired per-context differences with
-- intervals. See docs/statistics.md ("Agreement" and "Paired differences").
local bootstrap = require "introspect.analysis.bootstrap"
local stats = require "introspect.stats"
local util = require "introspect.core.util"

local M = {}

-- t_interval(values, level) -> mean, lo, hi: the t interval of a mean (OLS on a constant).
local function t_interval(values, level)
  local X = {}
  for i = 1, #values do X[i] = { 1 } end
  local fit = stats.ols(X, values, { intercept = false, level = level })
  if not fit then return values[1], values[1], values[1] end
  return fit.coef[1], fit.lo[1], fit.hi[1]
end

-- utility_difference(w, r, a, b) -> d = sum_j w_j (a_j - b_j) / (max_j - min_j): how much the
-- study's utility with weights w prefers option A's values a over B's b (d > 0: A). r: a ranges
-- entry {min=, max=}, a Scenario table (attributes with min/max) or a Context (its scenario).
function M.utility_difference(w, r, a, b)
  if r.scenario then r = r.scenario end
  local d = 0
  if r.attributes then
    for j, attr in ipairs(r.attributes) do d = d + w[j] * (a[j] - b[j]) / (attr.max - attr.min) end
  else
    for j = 1, #w do d = d + w[j] * (a[j] - b[j]) / (r.max[j] - r.min[j]) end
  end
  return d
end

-- agreement(weights, selections, ranges [, opts]) -> A | nil, err
-- For each selection {scenario=, selection="A"|"B", a=, b=} with weights w (weights[scenario],
-- or weights(selection, i) when weights is a function; nil = no weights, trial skipped and
-- counted in `missing`): the utility difference d = sum_j w_j (a_j - b_j) / (max_j - min_j)
-- (ranges as for analysis.design: a ranges map or a list of Scenario tables). The trial agrees
-- when sign(d) names the choice made (d > 0 and "A", d < 0 and "B"); d = 0 counts as half
-- (chance). A = {agreement (share over trials), n, ties, missing, per_context = {scenario =
-- {agreement, n}}, order, lo, hi (cluster bootstrap over contexts, percentile), se, level}.
-- opts: level (0.95), reps (2000), seed (1).
function M.agreement(weights, selections, ranges, opts)
  opts = util.check_options("analysis.agreement", opts, { level = "number", reps = "integer",
    seed = "integer" })
  if type(ranges) ~= "table" then
    error("analysis.agreement: ranges are required (the sign of w . (a - b) depends on each "
      .. "attribute's range)", 2)
  end
  if ranges[1] and (ranges[1].attributes or ranges[1].scenario) then
    ranges = require("introspect.analysis").ranges_from_scenarios(ranges)
  end
  local lookup = weights
  if type(weights) == "table" then lookup = function(s) return weights[s.scenario] end end
  local scores, ids, per, order = {}, {}, {}, {}
  local ties, missing = 0, 0
  for i, s in ipairs(selections) do
    local w, r = lookup(s, i), ranges[s.scenario]
    if not r then
      error(string.format("analysis.agreement: selection %d: no ranges for context '%s'", i,
        tostring(s.scenario)), 2)
    end
    if not w then
      missing = missing + 1
    else
      if #w ~= #r.names or #s.a ~= #r.names or #s.b ~= #r.names then
        error(string.format("analysis.agreement: selection %d (context '%s'): %d weights, %d and %d "
          .. "values, %d attributes", i, tostring(s.scenario), #w, #s.a, #s.b, #r.names), 2)
      end
      if s.selection ~= "A" and s.selection ~= "B" then
        error(string.format("analysis.agreement: selection %d: choice must be A or B, got %s", i,
          tostring(s.selection)), 2)
      end
      local d = M.utility_difference(w, r, s.a, s.b)
      local score
      if d == 0 then
        score, ties = 0.5, ties + 1
      else
        score = ((d > 0) == (s.selection == "A")) and 1 or 0
      end
      scores[#scores + 1], ids[#ids + 1] = score, s.scenario
      local c = per[s.scenario]
      if not c then c = { sum = 0, n = 0 }; per[s.scenario] = c; order[#order + 1] = s.scenario end
      c.sum, c.n = c.sum + score, c.n + 1
    end
  end
  if #scores == 0 then return nil, "analysis.agreement: no selection has weights" end
  local total = 0
  for _, v in ipairs(scores) do total = total + v end
  local out = { agreement = total / #scores, n = #scores, ties = ties, missing = missing,
    per_context = {}, order = order, level = opts.level or 0.95 }
  for _, s in ipairs(order) do out.per_context[s] = { agreement = per[s].sum / per[s].n, n = per[s].n } end
  if #order >= 2 then
    local b = bootstrap.clusters(nil, scores, ids, { statistic = "mean", reps = opts.reps,
      seed = opts.seed, level = opts.level })
    if b then out.lo, out.hi, out.se = b.lo, b.hi, b.se end
  end
  return out
end

-- paired(a, b [, opts]) -> P | nil, err
-- a, b: per-context values (maps scenario -> number, e.g. A.per_context agreements mapped to
-- numbers, or per-context accuracies). Over the contexts present in both: differences
-- d = a - b; P = {mean, lo, hi (t interval of the mean, n - 1 df), sd, n, boot = {lo, hi, se}
-- (percentile bootstrap over contexts), differences = {scenario = d}, order}.
-- opts: level (0.95), reps (2000), seed (1).
function M.paired(a, b, opts)
  opts = util.check_options("analysis.paired", opts, { level = "number", reps = "integer", seed = "integer" })
  local names = {}
  for s, v in pairs(a) do
    if type(v) == "number" and type(b[s]) == "number" then names[#names + 1] = s end
  end
  table.sort(names, function(p, q) return tostring(p) < tostring(q) end)
  if #names < 2 then return nil, string.format("analysis.paired: %d contexts in both", #names) end
  local d, diffs = {}, {}
  for i, s in ipairs(names) do d[i] = a[s] - b[s]; diffs[s] = d[i] end
  local mean, lo, hi = t_interval(d, opts.level)
  local ss = 0
  for _, v in ipairs(d) do ss = ss + (v - mean) ^ 2 end
  local out = { mean = mean, lo = lo, hi = hi, sd = math.sqrt(ss / (#d - 1)), n = #d,
    differences = diffs, order = names, level = opts.level or 0.95 }
  local boot = bootstrap.clusters(nil, d, names, { statistic = "mean", reps = opts.reps,
    seed = opts.seed, level = opts.level })
  if boot then out.boot = { lo = boot.lo, hi = boot.hi, se = boot.se } end
  return out
end

-- values(per_context) -> map scenario -> number: the `agreement` field of each entry.
function M.values(per_context)
  local out = {}
  for s, v in pairs(per_context) do out[s] = type(v) == "table" and v.agreement or v end
  return out
end

return M
