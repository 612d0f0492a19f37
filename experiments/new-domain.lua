-- experiments/new-domain.lua: a complete experiment on contexts of our own (three attributes, not
-- five) with a different report format (a ranking of the attributes, not -100..100 weights); the
-- template to copy. Does a model know which attribute drives its choices? Learned weights come
-- from its choices; accuracy is the Spearman correlation of the reported ranks with the learned
-- |weights|, and how often the attribute ranked first is the one with the largest |weight|.
--
--   introspect experiments/new-domain.lua                     # the simulated subject
--   introspect experiments/new-domain.lua --backend=openai --model=gpt-4o-mini-2024-07-18 --max-cost=2
local analysis = require "introspect.analysis"
local csv = require "introspect.core.csv"
local options = require "introspect.core.options"
local prompts = require "introspect.design.prompts"
local replies = require "introspect.design.replies"
local scenarios = require "introspect.design.scenarios"
local stats = require "introspect.stats"
local study = require "introspect.study"

local HERE = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local opts = options.parse(arg, {
  { "backend", "string", "sim", "sim, openai, a profile name or a base URL" },
  { "model", "string", "sim-large", "the model to study" },
  { "scenarios", "string", HERE .. "/scenarios/three_attributes.lua", "scenarios (3 attributes each)" },
  { "contexts", "integer", 16, "contexts (scenario + role)" },
  { "choices", "integer", 60, "choices per context" },
  { "reports", "integer", 5, "ranking prompts per context" },
  { "max-cost", "number", nil, "stop before spending more than this many dollars" },
  { "out", "string", "runs/new-domain", "run directory (re-running resumes it)" },
}, { program = "new-domain.lua", usage = "introspect experiments/new-domain.lua [options]" })
local ok, err = pcall(function()   -- any error ends the run with one line, no traceback
  -- 1. Contexts: our scenarios, each paired with a role ("Imagine you are ROLE. QUESTION").
  local list = assert(scenarios.load(opts.scenarios, { attributes = 3 }))
  local roles = assert(scenarios.load_roles(HERE .. "/scenarios/roles.lua"))
  local contexts = scenarios.contexts(list, roles, { count = opts.contexts })
  -- 2. Prompts: the study's decision task; the report asks for a ranking instead of weights.
  local RANKING = "Rank the three attributes by how much they mattered in your decision, most important first. "
    .. "Reply with the attribute names only, one per line:"
  local s = study.new({ out = opts.out, name = "new-domain", backend = opts.backend, max_cost = opts.max_cost,
    prompts = prompts.new({ report = RANKING .. "\n\n{question}\n{options}" }), manifest = { options = opts } })
  s:use_contexts(contexts)
  local ids = {}
  for i = 1, #contexts do ids[i] = i end
  -- 3. Choices on fresh trials -> learned weights (a logistic regression per context).
  local selections = s:choices({ model = opts.model, served = opts.model, contexts = ids,
    per_context = opts.choices, seed = 1, file = "selections.csv" })
  local learned, _, problems = analysis.fit_weights(selections, list)
  for _, p in ipairs(problems) do io.stderr:write(p, "\n") end
  -- 4. Ranking reports, parsed by replies.parse_ranking (ranks[i] = the position of attribute i).
  local reports, invalid = s:reports({ model = opts.model, served = opts.model, condition = "ranking",
    contexts = ids, per_context = opts.reports, parse = replies.parse_ranking, file = "ranking_reports.csv" })
  -- 5. Accuracy: mean reported rank vs the rank of |learned weight| within each context.
  local sum, count = {}, {}
  for _, r in ipairs(reports) do
    sum[r.scenario], count[r.scenario] = sum[r.scenario] or { 0, 0, 0 }, (count[r.scenario] or 0) + 1
    for j = 1, 3 do sum[r.scenario][j] = sum[r.scenario][j] + r.report[j] end
  end
  local x, y, rows, top, n = {}, {}, {}, 0, 0
  for _, ctx in ipairs(contexts) do
    local name, w = ctx.scenario.short_name, learned[ctx.scenario.short_name]
    if w and sum[name] then
      local first, largest = 1, 1
      for j = 1, 3 do
        local mean_rank = sum[name][j] / count[name]
        x[#x + 1], y[#y + 1] = -mean_rank, math.abs(w[j])
        rows[#rows + 1] = { name, ctx.scenario.attributes[j].name, w[j], string.format("%.2f", mean_rank) }
        if mean_rank < sum[name][first] / count[name] then first = j end
        if math.abs(w[j]) > math.abs(w[largest]) then largest = j end
      end
      n, top = n + 1, top + (first == largest and 1 or 0)
    end
  end
  s:write("rankings.csv", csv.format({ "scenario", "attribute", "learned_weight", "mean_reported_rank" }, rows))
  local rho = #x > 3 and stats.spearman(x, y) or error(("only %d valid rankings (see %s/replies)"):format(#x, opts.out))
  print(string.format("%s: %d of %d ranking replies valid\nSpearman(reported rank, |learned weight|) = %.3f "
    .. "[%.3f, %.3f] over %d rows\ntop attribute named first in %d of %d contexts (%.0f%%; chance 33%%)", opts.model,
    invalid.valid, invalid.total, rho.r, rho.lo, rho.hi, rho.n, top, n, 100 * top / n))
  s:close()
  print("wrote " .. opts.out .. "/rankings.csv")
end)
if not ok then io.stderr:write("new-domain.lua: ", tostring(err), "\n") os.exit(1) end
