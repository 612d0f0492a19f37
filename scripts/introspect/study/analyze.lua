-- The analysis steps of a session: learned weights from each model's choices, the accuracy
-- conditions and training effects (introspect.analysis), then summary.json, summary.md and
-- report.html in the run directory. Plain data in, plain data out: analyze() returns one
-- model's result; finish() takes them all.
local analysis = require "introspect.analysis"
local cost = require "introspect.client.cost"
local backend = require "introspect.client.backend"
local paper = require "introspect.design.paper"
local report = require "introspect.run.report"
local rundir = require "introspect.run.rundir"
local util = require "introspect.core.util"

local M = {}

-- Replaces NaN and infinities (which JSON cannot hold) by nil, recursively.
local function finite(v)
  if type(v) == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return nil end
    return v
  end
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = finite(x) end
  return out
end

local function points_of(rows)
  local pts = {}
  for i, r in ipairs(rows or {}) do pts[i] = { r.x, r.y } end
  return pts
end

---targets(contexts, weights) -> weights by scenario name {name = {...}, order = {...}} for the
---analysis (weights[i] belongs to contexts[i]).
---@param contexts table[]
---@param weights table[]
---@return table
function M.targets(contexts, weights)
  local t = { order = {} }
  for i, c in ipairs(contexts) do
    t[c.scenario.short_name] = weights[i]
    t.order[#t.order + 1] = c.scenario.short_name
  end
  return t
end

---pool(records_by_condition) -> reports, invalid: valid reports and invalid counts by analysis
---condition from records of several calls ({condition = {records, ...}}, each call's records
---carrying their condition).
---@param calls table[] lists of records
---@return table reports {condition = reports}
---@return table invalid {condition = counts}
function M.pool(calls)
  local reports, invalid = {}, {}
  local steps = require "introspect.study.steps"
  for _, records in ipairs(calls) do
    for _, r in ipairs(steps.reports(records)) do
      reports[r.condition] = reports[r.condition] or {}
      table.insert(reports[r.condition], r)
    end
    local c = steps.counts(records)
    local cond = records[1] and records[1].condition
    if cond then
      local acc = invalid[cond] or { total = 0, valid = 0, invalid = 0, reasons = {} }
      acc.total, acc.valid, acc.invalid = acc.total + c.total - c.failed, acc.valid + c.valid, acc.invalid + c.invalid
      for reason, n in pairs(c.reasons) do acc.reasons[reason] = (acc.reasons[reason] or 0) + n end
      invalid[cond] = acc
    end
  end
  return reports, invalid
end

local ANALYZE = { contexts = "table", selections = "table", native_selections = "table", reports = "table",
  invalid = "table", targets = "table", soft = "boolean", lineage = "table" }

---analyze(session, model, data) -> result {summary=, input=, points=, target_points=, soft=}
---data: contexts (every context the selections name), selections and native_selections
---(analysis selections: study.selections(records)), reports and invalid by condition
---(study.pool), targets (study.targets), soft (also fit from P(A) where choices have it).
---Writes LABEL_regression_results.csv and LABEL_latent_regression_results.csv (and
---LABEL_soft_regression_results.csv with soft).
---@param session introspect.Session
---@param model string the base model
---@param data table
---@return table
function M.analyze(session, model, data)
  data = util.check_options("study.analyze", data, ANALYZE)
  local label = require("introspect.study.session").label(model)
  local list = {}
  for _, c in ipairs(data.contexts) do list[#list + 1] = c.scenario end
  local ranges = analysis.ranges_from_scenarios(list)
  local input = { reports = data.reports or {}, invalid = data.invalid or {}, left_out = {}, targets = data.targets }
  for _, job in ipairs({ { "learned", data.selections, paper.files.learned },
    { "native_learned", data.native_selections, paper.files.native_learned } }) do
    local key, selections, suffix = job[1], job[2], job[3]
    if selections then
      local weights, _, problems = session:timed("fit weights", analysis.fit_weights, selections, ranges, {})
      for _, p in ipairs(problems or {}) do input.left_out[#input.left_out + 1] = p end
      input[key] = weights
      assert(analysis.write_weights(session:path(label .. suffix), weights))
    end
  end
  local result = { input = input, points = {}, target_points = {}, lineage = data.lineage }
  if data.soft then
    local soft = session:timed("fit weights", analysis.fit_weights, data.selections, ranges, { soft = true })
    assert(analysis.write_weights(session:path(label .. paper.files.soft_learned), soft))
    result.soft = { soft_vs_hard = analysis.learned_vs_target(soft, input.learned),
      soft_vs_target = input.targets and analysis.learned_vs_target(soft, input.targets) or nil }
  end
  result.summary = session:timed("analysis", analysis.summarize, { models = { [model] = input } }).models[model]
  for _, cond in ipairs(paper.condition_keys) do
    local learned = input[paper.learned_of[cond]]
    if input.reports[cond] and learned then
      local R = analysis.accuracy(input.reports[cond], learned)
      if R then result.points[cond] = points_of(R.rows) end
    end
  end
  if input.targets and input.learned then
    local zl, zt = analysis.zscore_weights(input.learned), analysis.zscore_weights(input.targets)
    for _, scenario in ipairs(input.targets.order) do
      local a, b = zt[scenario], zl[scenario]
      if a and b then
        for j = 1, #a do result.target_points[#result.target_points + 1] = { a[j], b[j] } end
      end
    end
  end
  return result
end

-- subject_profiles(results) -> {[base model] = profile parameters} of the simulated subject's
-- profiles among the results' base models (a replicate lineage's base: study.lineage), and the
-- meaning of each parameter.
local function subject_profiles(results)
  local profiles = require "introspect.sim.profiles"
  local out = {}
  for model, r in pairs(results) do
    local base = r.lineage and r.lineage.base or model
    local p = profiles.get(base)
    if p then
      local shown = {}
      for k, v in pairs(p) do if profiles.FIELDS[k] then shown[k] = v end end
      out[base] = shown
    end
  end
  return out, profiles.FIELDS
end

---finish(session, results[, {title=, models=}]) -> paths {summary=, markdown=, html=, failed=,
---headline=}, or {plan=, plan_text=} in a dry run. results: {model = analyze()'s result}.
---Writes summary.json (every analysed model, pooled training effects, the backend, the time of
---each phase, the cost), summary.md and report.html, and closes the session. models: the
---column order of the report (default sorted). headline: the headline table as terminal text.
---failed counts the requests still without an answer (a re-run of the same command retries
---them). plan_text: the dry run's plan (cost.plan_table: unpriced rows, --max-cost exceeded).
---@param session introspect.Session
---@param results table
---@param opts? {title?: string, models?: string[]}
---@return table
function M.finish(session, results, opts)
  opts = util.check_options("study.finish", opts, { title = "string", models = "table" })
  local plan = session:plan()
  if plan then
    local text = cost.plan_table(plan, { max_cost = session.opts.max_cost,
      unpriced = session.models and session.meter:unpriced_models(session.models) or nil })
    session:close()
    return { plan = plan, plan_text = text }
  end
  local inputs, points, target_points = {}, {}, {}
  for model, r in pairs(results) do
    inputs[model], points[model], target_points[model] = r.input, r.points, r.target_points
  end
  local summary = analysis.summarize({ models = inputs })
  -- replicate lineages (study.lineage, paper.lua --replicates): summary.replicates
  local lineages, several = {}, false
  for key, r in pairs(results) do
    if r.lineage then
      local list = lineages[r.lineage.base] or {}
      lineages[r.lineage.base], list[r.lineage.r] = list, key
      several = several or r.lineage.r > 1
    end
  end
  if several then summary.replicates = require("introspect.analysis.replicates").study(summary, inputs, lineages) end
  for model, r in pairs(results) do
    if r.soft and summary.models[model] then summary.models[model].soft_labels = r.soft end
  end
  summary.backend = backend.describe(session.backend_name)
  summary.timings = {}
  for _, name in ipairs(session.phase_order) do summary.timings[name] = session.timings[name] end
  -- the whole run's cost, all sessions together
  summary.cost = session.store and cost.whole_run(session.meter, session.store:totals(),
    cost.trainings(session.run.state)) or session.meter:summary()
  summary = finite(summary)
  local paths = { summary = session:write("summary.json", rundir.json(summary)) }
  local data = { summary = summary, points = points, target_points = target_points,
    settings = finite(rundir.scrub(session.run.manifest)), simulated = session.simulated, title = opts.title,
    models = opts.models, docs_dir = report.docs_dir() }
  if session.simulated then data.subject, data.subject_fields = subject_profiles(results) end
  paths.markdown = session:write("summary.md", report.markdown(data))
  paths.html = session:write("report.html", report.html(data))
  if session.store then session.run:set_manifest("store", session.store:stats()) end
  session.run:set_manifest("cost", summary.cost)
  paths.failed = session.failed
  paths.headline = report.text(data)
  session:close()
  return paths
end

return M
