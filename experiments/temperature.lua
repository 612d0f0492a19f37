-- experiments/temperature.lua: sampling at temperature > 0. Choices of an instilled model at
-- temperatures 0, 0.7 and 1.0 (n samples per trial at T > 0, each request its own seed); learned
-- weights per temperature, fitted to soft labels (the share of A among a trial's samples); the
-- learned-vs-target r and the report accuracy per temperature (reports at T = 0 against each
-- temperature's learned weights). Writes temperature.csv, learned.csv and summary.json.
--   introspect experiments/temperature.lua [--model=sim-large] [--contexts=40] [--samples=10]
--     [--temperatures=0,0.7,1] [--backend=sim] [--max-cost=DOLLARS] [--out=runs/temperature]
local analysis = require "introspect.analysis"
local names = require("introspect.design.paper").names
local pyjson = require "introspect.core.pyjson"
local entry = require "introspect.run.entry"
local samples = require "introspect.analysis.samples"
local study = require "introspect.study"
local tables = require "introspect.analysis.tables"

entry.main({ program = "temperature.lua", options = {
  { "model", "string", "sim-large", "base model" }, { "contexts", "integer", 40, "instilled contexts" },
  { "trials", "integer", 30, "trials per context" }, { "samples", "integer", 10, "samples per trial at T > 0" },
  { "temperatures", "list", { "0", "0.7", "1" }, "temperatures" }, { "reports", "integer", 5, "reports per context" },
  { "backend", "string", "sim", "sim, openai, a profile or a URL" }, { "max-cost", "number", nil, "dollars at most" },
  { "out", "string", "runs/temperature", "run directory" } } }, function(opts)
  local s = entry.closing(study.session({ out = opts.out, backend = opts.backend, max_cost = opts.max_cost,
    name = "temperature", models = { opts.model }, design = entry.design(opts) }))
  local stim = study.stimuli(s, study.inputs({ contexts = opts.contexts,
    scenarios = entry.beside("scenarios/library.lua"), roles = entry.beside("scenarios/roles.lua") }))
  local ctxs = study.pick(stim.contexts, study.ids(1, opts.contexts))
  local model = s:finetune(opts.model, "instill", stim.instill, { suffix = names.instill_suffix(opts.contexts) })
  local trials = study.trials(ctxs, { per_context = opts.trials, seed = 5 })
  local reports = study.reports(s:reports({ name = "reports", model = model, contexts = ctxs,
    per_context = opts.reports, seed = 7 }))
  local rows, learned = {}, {}
  for _, text in ipairs(opts.temperatures) do
    local T = tonumber(text) or error("--temperatures: not a number: " .. text, 0)
    local n = T > 0 and opts.samples or 1
    local recs = s:choices({ name = "choices T=" .. text, model = model, trials = trials, temperature = T, n = n,
      sample_seed = T > 0 and 1000 or nil, file = "selections_T" .. text .. ".csv" })
    local pooled, info = samples.proportions(study.selections(recs))
    learned[text] = analysis.fit_weights(pooled, ctxs, { soft = T > 0 })
    local lt, R = analysis.learned_vs_target(learned[text], stim.targets), analysis.accuracy(reports, learned[text])
    rows[#rows + 1] = { temperature = T, samples = n, valid = info.samples, learned_vs_target = lt.r,
      report_slope = R.slope, report_lo = R.lo, report_hi = R.hi }
    print(string.format("T = %-4s learned vs target r %.3f  report accuracy %.3f [%.3f, %.3f]", text, lt.r,
      R.slope, R.lo, R.hi))
  end
  s:write("temperature.csv", tables.rows(rows, { "temperature", "samples", "valid", "learned_vs_target",
    "report_slope", "report_lo", "report_hi" }))
  s:write("learned.csv", tables.weights(learned, "temperature", opts.temperatures))
  s:write("summary.json", pyjson.encode({ temperatures = rows }) .. "\n"); s:close()
end)
