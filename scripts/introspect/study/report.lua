-- The study's analysis and reports (installed into introspect.study's Study): learned weights
-- from each model's choices, the accuracy conditions and training effects (introspect.analysis),
-- then summary.json, summary.md and report.html in the run directory.
local analysis = require "introspect.analysis"
local report = require "introspect.run.report"
local rundir = require "introspect.run.rundir"
local util = require "introspect.core.util"

return function(Study, M)
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

  local function by_scenario(stim, ids)
    local t = { order = {} }
    for _, id in ipairs(ids) do
      local c = stim.contexts[id]
      t[c.scenario.short_name] = stim.weights[id]
      t.order[#t.order + 1] = c.scenario.short_name
    end
    return t
  end

  local function points_of(rows)
    local pts = {}
    for i, r in ipairs(rows or {}) do pts[i] = { r.x, r.y } end
    return pts
  end

  -- study:analyze(model, data) -> the model's summary entry
  -- data = {selections=, native_selections=, instilled_ids=, native_ids=, reports = {condition =
  -- reports}, invalid = {condition = counts}}; reports and invalid default to what study:reports
  -- gathered for the model (study:collected). Fits the learned and native weights
  -- (writing LABEL_regression_results.csv and LABEL_latent_regression_results.csv), then
  -- computes every statistic and keeps the points behind the plots.
  function Study:analyze(model, data)
    data = util.check_options("study.analyze", data, { selections = "table", native_selections = "table",
      reports = "table", invalid = "table", instilled_ids = "table", native_ids = "table" })
    if self.opts.dry_run then return nil end
    local gathered = self:collected(model)
    data.reports = data.reports or gathered.reports
    data.invalid = data.invalid or gathered.invalid
    local label = M.label(model)
    local list = {}
    for _, c in ipairs(self.stim.contexts) do list[#list + 1] = c.scenario end
    local ranges = analysis.ranges_from_scenarios(list)
    local input = { reports = data.reports, invalid = data.invalid, left_out = {},
      targets = by_scenario(self.stim, data.instilled_ids) }
    for _, job in ipairs({ { "learned", data.selections, "_regression_results.csv" },
      { "native_learned", data.native_selections, "_latent_regression_results.csv" } }) do
      local key, selections, suffix = job[1], job[2], job[3]
      local weights, _, problems = self:timed("fit weights", analysis.fit_weights, selections, ranges, {})
      for _, p in ipairs(problems or {}) do input.left_out[#input.left_out + 1] = p end
      input[key] = weights
      assert(analysis.write_weights(self.run:path(label .. suffix), weights))
    end
    if self.opts.logprobs then self:soft_weights(model, data, ranges, input) end
    local summary = self:timed("analysis", analysis.summarize, { models = { [model] = input } })
    local entry = summary.models[model]
    self.summaries = self.summaries or {}
    self.summaries[model] = entry
    self.inputs = self.inputs or {}
    self.inputs[model] = input
    -- The points behind each plot.
    self.points = self.points or {}
    self.target_points = self.target_points or {}
    local pts = {}
    for _, cond in ipairs(analysis.CONDITIONS) do
      local learned = input[analysis.LEARNED_OF[cond]]
      if data.reports[cond] and learned then
        local R = analysis.accuracy(data.reports[cond], learned)
        if R then pts[cond] = points_of(R.rows) end
      end
    end
    self.points[model] = pts
    local zl, zt = analysis.zscore_weights(input.learned), analysis.zscore_weights(input.targets)
    local tp = {}
    for _, scenario in ipairs(input.targets.order) do
      local a, b = zt[scenario], zl[scenario]
      if a and b then
        for j = 1, #a do tp[#tp + 1] = { a[j], b[j] } end
      end
    end
    self.target_points[model] = tp
    return entry
  end

  -- study:soft_weights(model, data, ranges, input): with --logprobs, fits the weights again from
  -- P(A) (soft labels), writes LABEL_soft_regression_results.csv and records how they compare:
  -- self.soft[model] = {soft_vs_hard = {r, n}, soft_vs_target = {r, n}}.
  function Study:soft_weights(model, data, ranges, input)
    local soft = self:timed("fit weights", analysis.fit_weights, data.selections, ranges, { soft = true })
    assert(analysis.write_weights(self.run:path(M.label(model) .. "_soft_regression_results.csv"), soft))
    self.soft = self.soft or {}
    self.soft[model] = { soft_vs_hard = analysis.learned_vs_target(soft, input.learned),
      soft_vs_target = analysis.learned_vs_target(soft, input.targets) }
  end

  -- study:summary() -> the summary.json table: every analysed model, pooled training effects,
  -- the backend and the time of each phase.
  function Study:summary()
    local input = { models = self.inputs or {} }
    local summary = analysis.summarize(input)
    for model, soft in pairs(self.soft or {}) do
      if summary.models[model] then summary.models[model].soft_labels = soft end
    end
    summary.backend = self:backend_description()
    summary.timings = {}
    for _, name in ipairs(self.phase_order) do summary.timings[name] = self.timings[name] end
    summary.cost = self.meter:summary()
    return finite(summary)
  end

  -- study:finish([{title=}]) -> paths {summary=, markdown=, html=, failed=} (or the plan in a
  -- dry run). Writes summary.json, summary.md and report.html, and closes the run. failed counts
  -- the requests that still had no answer (a re-run of the same command retries them).
  function Study:finish(opts)
    opts = util.check_options("study.finish", opts, { title = "string" })
    if self.opts.dry_run then
      local plan = self.plan or {}
      self:close()
      return { plan = plan }
    end
    local summary = self:summary()
    local paths = {}
    paths.summary = self:write("summary.json", rundir.json(summary))
    local data = { summary = summary, points = self.points, target_points = self.target_points,
      settings = finite(rundir.scrub(self.run.manifest)), simulated = self.simulated, title = opts.title }
    paths.markdown = self:write("summary.md", report.markdown(data))
    paths.html = self:write("report.html", report.html(data))
    if self.store then
      self.run:set_manifest("store", self.store:stats())
    end
    self.run:set_manifest("cost", self.meter:summary())
    self:close()
    paths.failed = self.failed or 0
    return paths
  end
end
