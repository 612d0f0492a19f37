-- experiments/new-domain.lua: a complete experiment on contexts of our own (three attributes) with a
-- ranking report, the template to copy. Does a model know which attribute drives its choices? Accuracy:
-- Spearman of mean reported rank with |learned weight|; how often the first-ranked has the largest |weight|.
--   introspect experiments/new-domain.lua [--backend=openai --model=gpt-4o-mini-2024-07-18]
local analysis, csv, stats = require "introspect.analysis", require "introspect.core.csv", require "introspect.stats"
local prompts, replies = require "introspect.design.prompts", require "introspect.design.replies"
local options, scenarios, study = require "introspect.core.options", require "introspect.design.scenarios",
  require "introspect.study"
local HERE = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local opts = options.parse(arg, {
  { "backend", "string", "sim", "sim, openai, a profile name or a base URL" },
  { "model", "string", "sim-large", "the model to study" },
  { "scenarios", "string", HERE .. "/scenarios/three_attributes.lua", "scenarios (3 attributes each)" },
  { "contexts", "integer", 16, "contexts (scenario + role)" }, { "choices", "integer", 60, "choices per context" },
  { "reports", "integer", 5, "ranking prompts per context" }, { "max-cost", "number", nil, "dollars to spend at most" },
  { "out", "string", "runs/new-domain", "run directory (re-running resumes it)" },
}, { program = "new-domain.lua", usage = "introspect experiments/new-domain.lua [options]" })
local ok, err = pcall(function()
  local list, roles = assert(scenarios.load(opts.scenarios, { attributes = 3 })),
    assert(scenarios.load_roles(HERE .. "/scenarios/roles.lua"))
  local contexts = scenarios.contexts(list, roles, { count = opts.contexts })
  local ranking = prompts.new({ report = "Rank the three attributes by how much they mattered in your decision, most "
    .. "important first. Reply with the attribute names only, one per line:\n\n{question}\n{options}" })
  local s = study.session({ out = opts.out, name = "new-domain", backend = opts.backend, max_cost = opts.max_cost })
  -- Choices on fresh trials -> learned weights; rankings parsed by replies.parse_ranking (ranks per attribute).
  local learned = analysis.fit_weights(study.selections(s:choices({ model = opts.model, contexts = contexts,
    per_context = opts.choices, seed = 1, file = "selections.csv" })), list)
  local records, counts = s:reports({ model = opts.model, contexts = contexts, per_context = opts.reports, seed = 7,
    prompts = ranking, parse = replies.parse_ranking, file = "ranking_reports.csv" })
  local mean, x, y, rows, top, n = analysis.mean_reports(study.reports(records))[opts.model] or {}, {}, {}, {}, 0, 0
  for _, ctx in ipairs(contexts) do
    local name = ctx.scenario.short_name
    local w, r, first, largest = learned[name], mean[name], 1, 1
    if w and r then
      for j = 1, 3 do
        x[#x + 1], y[#y + 1] = -r[j], math.abs(w[j])
        rows[#rows + 1] = { name, ctx.scenario.attributes[j].name, w[j], string.format("%.2f", r[j]) }
        first, largest = r[j] < r[first] and j or first, math.abs(w[j]) > math.abs(w[largest]) and j or largest
      end
      n, top = n + 1, top + (first == largest and 1 or 0)
    end
  end
  s:write("rankings.csv", csv.format({ "scenario", "attribute", "learned_weight", "mean_reported_rank" }, rows))
  local rho = #x > 3 and stats.spearman(x, y) or error(("only %d valid rankings (see %s/replies)"):format(#x, opts.out))
  print(string.format("%s: %d of %d ranking replies valid\nSpearman(reported rank, |learned weight|) = %.3f "
    .. "[%.3f, %.3f] over %d rows\ntop attribute named first in %d of %d contexts (%.0f%%; chance 33%%)", opts.model,
    counts.valid, counts.total, rho.r, rho.lo, rho.hi, rho.n, top, n, 100 * top / n))
  s:close()
end)
if not ok then io.stderr:write("new-domain.lua: ", tostring(err), "\n") os.exit(1) end
