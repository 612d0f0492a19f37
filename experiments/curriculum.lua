-- experiments/curriculum.lua: introspection training labelled with the model's LEARNED weights
-- (measured from its own choices) against the study's choice, the TARGET weights it was
-- fine-tuned towards. Instill preferences in contexts 1..n, measure them, then train two models
-- from the instilled one with the same curriculum (default: the study's itrained_first_50) whose
-- examples differ only in their labels, and compare report accuracy (slope of z(learned) on
-- z(mean report)) on the held-out contexts and on the trained ones. Writes curriculum.csv and
-- curriculum.svg into the run directory (re-running resumes it).
--
--   introspect experiments/curriculum.lua                      # the simulated subject, ~1 s
--   introspect experiments/curriculum.lua --backend=openai --model=gpt-4o-mini-2024-07-18 --max-cost=50
local analysis = require "introspect.analysis"
local csv = require "introspect.core.csv"
local curriculum = require "introspect.design.curriculum"
local options = require "introspect.core.options"
local plot = require "introspect.run.plot"
local paper = require "introspect.design.paper"
local study = require "introspect.study"

local HERE = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."

local opts = options.parse(arg, {
  { "backend", "string", "sim", "sim, openai, a profile name or a base URL" },
  { "model", "string", "sim-large", "base model" },
  { "contexts", "integer", 40, "instilled contexts n" },
  { "trials", "integer", 50, "choices per context that measure the learned weights" },
  { "reports", "integer", 5, "report prompts per context and model" },
  { "curriculum", "string", HERE .. "/curricula/first_50.lua", "curriculum file (its labels are replaced)" },
  { "max-cost", "number", nil, "stop before spending more than this many dollars" },
  { "out", "string", "runs/curriculum", "run directory" },
}, { program = "curriculum.lua", usage = "introspect experiments/curriculum.lua [options]",
  description = "Introspection training with learned-weight labels vs target-weight labels." })

local ok, err = pcall(function()
  -- Inputs are checked before the run directory is created.
  local inputs = study.inputs({ scenarios = HERE .. "/scenarios/library.lua", roles = HERE .. "/scenarios/roles.lua",
    contexts = opts.contexts })
  local _, cerr = curriculum.load(opts.curriculum, { n = opts.contexts })
  if cerr then error(cerr, 0) end
  local s = study.session({ out = opts.out, name = "curriculum", backend = opts.backend, max_cost = opts.max_cost,
    manifest = { options = opts, experiment = "experiments/curriculum.lua" } })
  local stim = study.stimuli(s, inputs)
  local instilled_ctx, scenario_list, targets = study.pick(stim.contexts, study.ids(1, stim.n)), {}, stim.targets
  for id, ctx in ipairs(instilled_ctx) do scenario_list[id] = ctx.scenario end

  local by_target = study.curriculum(opts.curriculum, stim.n)

  -- Instill, then measure what was instilled: the learned weights label the second curriculum.
  local instilled = s:finetune(opts.model, "instill", stim.instill)
  local records = s:choices({ name = "choices " .. opts.model .. " instilled", model = instilled,
    contexts = instilled_ctx, per_context = opts.trials, seed = paper.seeds.choices,
    file = "instilled_selections.csv" })
  local learned, _, problems = analysis.fit_weights(study.selections(records), scenario_list)
  for _, p in ipairs(problems) do io.stderr:write("curriculum.lua: ", p, "\n") end
  analysis.write_weights(s:path("learned_weights.csv"), learned)

  local by_learned = {}
  for k, v in pairs(by_target) do by_learned[k] = v end
  by_learned.name, by_learned.labels, by_learned.files = by_target.name .. "_learned", "learned", {}
  local models = {
    { label = "instilled, no introspection training", served = instilled },
    { label = "trained on target-weight labels", served = s:finetune(instilled, by_target.name,
      study.curriculum_files(s, by_target, stim)) },
    { label = "trained on learned-weight labels", served = s:finetune(instilled, by_learned.name,
      study.curriculum_files(s, by_learned, stim,
        { label_of = function(ctx) return learned[ctx.scenario.short_name] end })) },
  }

  -- Accuracy on the held-out contexts and on the trained ones, against the learned weights (the
  -- study's measure) and, for reference, against the target weights.
  local rows, intervals = {}, {}
  print(string.format("%-38s %-9s %-8s %22s", "model", "contexts", "vs", "slope [95% CI]"))
  for i, m in ipairs(models) do
    for _, part in ipairs({ { "held-out", by_target.evaluate_ids }, { "trained", by_target.train_ids } }) do
      local reports = study.reports(s:reports({ name = "reports " .. opts.model .. " m" .. i .. "_" .. part[1],
        model = m.served, contexts = study.pick(stim.contexts, part[2]), per_context = opts.reports,
        seed = paper.seeds.reports }))
      for _, against in ipairs({ { "learned", learned }, { "target", targets } }) do
        local R, aerr = analysis.accuracy(reports, against[2])
        local cell = R and string.format("%.3f [%.3f, %.3f]", R.slope, R.lo, R.hi) or ("n/a: " .. tostring(aerr))
        print(string.format("%-38s %-9s %-8s %22s", m.label, part[1], against[1], cell))
        rows[#rows + 1] = { m.label, part[1], against[1], R and R.slope or "", R and R.lo or "", R and R.hi or "",
          R and R.n or 0 }
        if R and against[1] == "learned" then
          local short = m.label:gsub(", no introspection training", "")
          intervals[#intervals + 1] = { label = short .. " (" .. part[1] .. ")", est = R.slope, lo = R.lo, hi = R.hi }
        end
      end
    end
  end
  s:write("curriculum.csv", csv.format({ "model", "contexts", "against", "slope", "lo", "hi", "rows" }, rows))
  s:write("curriculum.svg", plot.standalone(plot.intervals(intervals,
    { title = "Report accuracy vs learned weights (" .. opts.model .. ")", width = 640 })))
  s:close()
  print("wrote " .. opts.out .. "/curriculum.csv and " .. opts.out .. "/curriculum.svg")
end)
if not ok then
  io.stderr:write("curriculum.lua: ", tostring(err), "\n")
  os.exit(1)
end
