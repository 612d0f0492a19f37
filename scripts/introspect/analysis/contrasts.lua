-- Bayesian summaries beside the headline statistics of analysis.summarize: each accuracy
-- slope, each base model's training effects and the effects pooled over base models
-- (z_learned ~ z_report * trained * base_model, slope differences averaged with equal weights
-- over base models, as emmeans::emtrends does). See docs/statistics.md.
local analysis = require "introspect.analysis"
local bayes = require "introspect.analysis.bayes"
local util = require "introspect.core.util"

local M = {}

local function brief(B)
  return { median = B.median, lo = B.lo, hi = B.hi, pd = B.pd, rope = B.rope }
end

-- posterior(extra [, opts]) -> P: extra is analysis.summarize's second result. P = {prior
-- (words), level, rope = {lo, hi}, models = {NAME = {reports = {condition = {median, lo, hi,
-- pd, rope}}, training_effect =, native_training_effect =}}, training_effect =,
-- native_training_effect = (pooled over base models, with `models`, when 2+ have them),
-- left_out = {messages}}. opts: level (0.95), prior_sd (Normal(0, sd) on every slope and
-- slope difference's coefficients; absent: flat), rope ({-0.1, 0.1}).
function M.posterior(extra, opts)
  opts = util.check_options("contrasts.posterior", opts, { level = "number", prior_sd = "number",
    rope = "table" })
  local rope = opts.rope or { -0.1, 0.1 }
  local out = { prior = bayes.describe(opts.prior_sd), level = opts.level or 0.95, rope = rope,
    models = {}, left_out = {} }
  local names = {}
  for name in pairs(extra.rows) do names[#names + 1] = name end
  table.sort(names)
  local pooled = {}
  local function summary(X, y, c, where)
    local prior
    if opts.prior_sd then
      prior = {}
      for j = 1, #c do prior[j] = false end
      -- slopes only: the even columns (X = {1, x} per cell), intercepts stay flat
      for j = 2, #c, 2 do prior[j] = opts.prior_sd end
    end
    local B, err = bayes.contrast(X, y, c, { level = opts.level, prior_sd = prior, rope = rope })
    if not B then out.left_out[#out.left_out + 1] = where .. ": " .. err return nil end
    return brief(B)
  end
  for _, name in ipairs(names) do
    local rows = extra.rows[name]
    local m = { reports = {} }
    for _, cond in ipairs(analysis.CONDITIONS) do
      if rows[cond] then
        local X, y = {}, {}
        for i, r in ipairs(rows[cond]) do X[i], y[i] = { 1, r.x }, r.y end
        m.reports[cond] = summary(X, y, { 0, 1 }, name .. " " .. cond)
      end
    end
    for _, job in ipairs(analysis.TRAINING_EFFECTS) do
      local key, untrained, trained = job[1], rows[job[2]], rows[job[3]]
      if untrained and trained then
        local p = { untrained = untrained, trained = trained }
        local X, y, c = analysis.training_design({ p })
        m[key] = summary(X, y, c, name .. " " .. key)
        pooled[key] = pooled[key] or {}
        table.insert(pooled[key], p)
      end
    end
    out.models[name] = m
  end
  for _, job in ipairs(analysis.TRAINING_EFFECTS) do
    local list = pooled[job[1]]
    if list and #list > 1 then
      local X, y, c = analysis.training_design(list)
      out[job[1]] = summary(X, y, c, "pooled " .. job[1])
      if out[job[1]] then out[job[1]].models = #list end
    end
  end
  return out
end

return M
