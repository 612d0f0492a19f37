-- experiments/replicates.lua: run-to-run variance of fine-tuning. N instill fine-tunes of one
-- base model from the same training file with distinct fine-tune seeds (4, 5, ...), each measured
-- as in the study (fresh choices and reports on contexts 1..n): accuracy per replicate and pooled
-- (each replicate against its own learned weights), the crossed replicate x context bootstrap
-- interval beside the naive one, and the between-replicate SD of the accuracy slope. Writes
-- replicates.csv, learned.csv and summary.json into --out.
--   introspect experiments/replicates.lua [--replicates=3] [--model=sim-large] [--contexts=100]
--     [--backend=sim] [--max-cost=DOLLARS] [--out=runs/replicates]
local analysis = require "introspect.analysis"
local names = require("introspect.design.paper").names
local pyjson = require "introspect.core.pyjson"
local entry = require "introspect.run.entry"
local study = require "introspect.study"
local tables = require "introspect.analysis.tables"

entry.main({ program = "replicates.lua", options = {
  { "replicates", "integer", 3, "instill fine-tunes (seeds 4, 5, ...)" },
  { "model", "string", "sim-large", "base model" }, { "contexts", "integer", 100, "instilled contexts" },
  { "trials", "integer", 50, "choices per context" }, { "reports", "integer", 10, "reports per context" },
  { "backend", "string", "sim", "sim, openai, a profile or a URL" }, { "max-cost", "number", nil, "dollars at most" },
  { "out", "string", "runs/replicates", "run directory" } } }, function(opts)
  local s = entry.closing(study.session({ out = opts.out, backend = opts.backend, max_cost = opts.max_cost,
    name = "replicates", models = { opts.model }, design = entry.design(opts) }))
  local n = opts.contexts
  local stim = study.stimuli(s, study.inputs({ contexts = n,
    scenarios = entry.beside("scenarios/library.lua"), roles = entry.beside("scenarios/roles.lua") }))
  local ctxs = study.pick(stim.contexts, study.ids(1, n))
  local learned, reports, label = {}, {}, {}
  for r = 1, opts.replicates do
    local model = s:finetune(opts.model, "instill_r" .. r, stim.instill,
      { seed = 3 + r, suffix = names.replicate_suffix(names.instill_suffix(n), r) })
    local sel = s:choices({ name = "choices r" .. r, model = model, contexts = ctxs, per_context = opts.trials,
      seed = 5, file = "r" .. r .. "_instilled_selections.csv" })
    learned[model], label[model] = analysis.fit_weights(study.selections(sel), ctxs), "r" .. r
    for _, x in ipairs(study.reports(s:reports({ name = "reports r" .. r, model = model, contexts = ctxs,
      per_context = opts.reports, seed = 7, file = "r" .. r .. "_instilled_weight_reports.csv",
      version = names.version(n) }))) do reports[#reports + 1] = x end
  end
  local R = assert(analysis.accuracy(reports, learned, { replicate = label }))
  local rows = {}
  for _, r in ipairs(R.order) do
    local x = R.replicates[r]
    rows[#rows + 1] = { replicate = r, slope = x.slope, lo = x.lo, hi = x.hi, r = x.r, n = x.n }
    print(string.format("replicate %-3s slope %.3f [%.3f, %.3f]", r, x.slope, x.lo, x.hi))
  end
  print(string.format("pooled        slope %.3f naive [%.3f, %.3f] crossed bootstrap [%.3f, %.3f]; "
    .. "between-replicate SD %.3f", R.slope, R.lo, R.hi, R.boot.lo, R.boot.hi, R.between_sd or 0 / 0))
  s:write("replicates.csv", tables.rows(rows, { "replicate", "slope", "lo", "hi", "r", "n" }))
  s:write("learned.csv", tables.weights(learned, "model"))
  s:write("summary.json", pyjson.encode({ replicates = rows, between_sd = R.between_sd, pooled = { slope = R.slope,
    lo = R.lo, hi = R.hi, r = R.r, n = R.n, boot_lo = R.boot.lo, boot_hi = R.boot.hi, boot_se = R.boot.se } }) .. "\n")
  s:close()
end)
