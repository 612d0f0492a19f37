-- experiments/native.lua: a model's own (untrained, "native") preferences measured from its
-- choices, and how accurately it reports them, with the paper's prompts and analysis and no
-- fine-tuning, on any chat backend (docs/experiments.md has the table of model families).
--
--   introspect experiments/native.lua                                  # the simulated subject
--   introspect experiments/native.lua --backend=openai --models=gpt-4.1-mini --max-cost=20
--   introspect experiments/native.lua --backend=https://api.anthropic.com/v1/ --models=claude-... \
--     --dry-run                                                        # the cost plan only
--
-- Before sending, it finds what each model's endpoint lacks (logprobs, a seed, temperature 0, a
-- small output budget for reasoning models) with a few small requests, adapts every request to
-- it, and says so in the summary; it prints the cost plan and stops when it exceeds --max-cost.
-- Exit status: 0 done; 1 error (one line); 2 bad options; 3 finished but some requests failed.
local options = require "introspect.core.options"
local paper = require "introspect.design.paper"
local study = require "introspect.study"
local analysis = require "introspect.analysis"
local prompts = require "introspect.design.prompts"
local scenarios = require "introspect.design.scenarios"
local stimuli = require "introspect.design.stimuli"
local cjson = require "cjson"

local HERE = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."

local SPEC = {
  { "backend", "string", "sim", "sim, openai, a profile name or a base URL" },
  { "models", "list", nil, "chat models [default: sim-large on sim]" },
  { "scenarios", "string", "library", "library (our scenario library) or a scenarios file" },
  { "roles", "string", nil, "roles file [default: our role library]" },
  { "contexts", "integer", 50, "contexts (scenario x role) to measure" },
  { "trials", "integer", 2 * paper.trials, "choices per context (the paper's native contexts: 100)" },
  { "reports", "integer", paper.reports, "report prompts per context" },
  { "min-output-tokens", "integer", 1024, "output budget per request for models that reason before replying" },
  { "max-cost", "number", nil, "stop before spending more than this many dollars" },
  { "dry-run", "boolean", false, "print the cost plan and send nothing" },
  { "out", "string", "runs/native", "run directory" },
}

local opts = options.parse(arg, SPEC, { program = "native.lua", usage = "introspect experiments/native.lua [options]",
  description = "Measures models' native preferences from their choices and scores their weight reports." })

local models = opts.models or (opts.backend == "sim" and { "sim-large" } or nil)
if not models then
  io.stderr:write("native.lua: give --models=NAME[,NAME] for backend ", opts.backend, "\n")
  os.exit(2)
end

-- plan(s, model, contexts, adapt) -> rows {phase, requests, tokens, cost, unpriced}
local function plan(s, model, contexts, adapt)
  local p = prompts.default
  local g = stimuli.generator("default", 1)
  local ctx = contexts[1]
  local t = g:trials(ctx.scenario, 1)
  local rows = {}
  for _, ph in ipairs({ { "choices", "decision", opts.trials, paper.tokens.choice },
    { "reports", "report", opts.reports, paper.tokens.report } }) do
    local body = { model = model, temperature = 0, max_completion_tokens = ph[4],
      messages = { { role = "system", content = p:system() },
        { role = "user", content = p:render(ph[2], ctx, t, 1) } } }
    if adapt then body = require("introspect.client.openai").adapt_body(body, adapt) end
    local input, output = require("introspect.client.cost").request_tokens(body)
    local dollars, unpriced = s.meter:estimate_chat({ body })
    local n = #contexts * ph[3]
    rows[#rows + 1] = { phase = ph[1] .. " " .. model, requests = n, tokens = n * (input + output),
      cost = dollars * n, unpriced = unpriced > 0 }
  end
  return rows
end

local function print_plan(rows)
  local total = 0
  print(string.format("%-40s %10s %14s %12s", "phase", "requests", "tokens", "est. cost"))
  for _, r in ipairs(rows) do
    total = total + r.cost
    print(string.format("%-40s %10d %14d %12s", r.phase, r.requests, r.tokens,
      r.unpriced and "unpriced" or string.format("$%.2f", r.cost)))
  end
  print(string.format("%-40s %10s %14s %12s", "total", "", "", string.format("$%.2f", total)))
  return total
end

local ok, err = pcall(function()
  local inputs = study.inputs({ scenarios = opts.scenarios == "library" and HERE .. "/scenarios/library.lua"
    or opts.scenarios, roles = opts.roles or HERE .. "/scenarios/roles.lua", contexts = opts.contexts })
  local s = study.session({ out = opts.out, name = "native", backend = opts.backend, max_cost = opts.max_cost,
    dry_run = opts.dry_run, manifest = { options = opts, models = models, experiment = "experiments/native.lua" } })
  local contexts = scenarios.contexts(inputs.list, inputs.roles, { count = opts.contexts,
    seed = stimuli.PAPER.seeds.roles })
  local ranges = analysis.ranges_from_scenarios((function()
    local l = {}
    for _, c in ipairs(contexts) do l[#l + 1] = c.scenario end
    return l
  end)())

  -- What each model's endpoint takes, and the cost plan, before anything is measured.
  local caps, rows = {}, {}
  for _, model in ipairs(models) do
    if not opts.dry_run and not s.simulated then
      local c, cerr = s.client:chat_capabilities(model, { min_tokens = opts.min_output_tokens })
      if not c then error(string.format("%s: %s", model, tostring(cerr)), 0) end
      caps[model] = c
    else
      caps[model] = { notes = {}, adapt = nil }
    end
    for _, r in ipairs(plan(s, model, contexts, caps[model].adapt)) do rows[#rows + 1] = r end
  end
  local total = print_plan(rows)
  if opts.dry_run then
    s:close()
    print("(dry run: nothing was sent)")
    return 0
  end
  if opts.max_cost and total > opts.max_cost then
    error(string.format("the plan's estimated cost $%.2f exceeds --max-cost=%g: nothing was sent", total,
      opts.max_cost), 0)
  end

  local results, failed = {}, 0
  for _, model in ipairs(models) do
    local label = study.label(model)
    s.client.adapt = caps[model].adapt
    local records, info = s:choices({ name = "choices " .. model .. " native", model = model, contexts = contexts,
      per_context = opts.trials, seed = paper.seeds.native_choices, file = label .. "_native_selections.csv" })
    local rrecords, invalid = s:reports({ name = "reports " .. model .. " native", model = model, condition = "base",
      contexts = contexts, per_context = opts.reports, seed = paper.seeds.reports,
      file = label .. "_native_weight_reports.csv" })
    local selections, reports = study.selections(records), study.reports(rrecords)
    failed = failed + info.failed
    local learned, _, problems = analysis.fit_weights(selections, ranges, {})
    assert(analysis.write_weights(s:path(label .. "_native_regression_results.csv"), learned))
    local R, rerr = analysis.accuracy(reports, learned)
    results[model] = { accuracy = R and { slope = R.slope, lo = R.lo, hi = R.hi, r = R.r, n = R.n,
      contexts = R.contexts } or nil, accuracy_error = not R and tostring(rerr) or nil,
      choices = { valid = info.valid, invalid = info.invalid, failed = info.failed },
      reports = invalid, adapted = caps[model].notes, left_out = problems }
  end

  -- summary.md and summary.json: accuracy per model and what was adapted to each backend.
  local md = { "# Native preferences: " .. table.concat(models, ", "), "",
    "Backend: " .. require("introspect.client.backend").describe(opts.backend), "",
    "| model | accuracy slope [95% CI] | r | rows | contexts | valid choices | adapted to the backend |",
    "|---|---|---|---|---|---|---|" }
  for _, model in ipairs(models) do
    local r = results[model]
    local a = r.accuracy
    md[#md + 1] = string.format("| %s | %s | %s | %s | %s | %d of %d | %s |", model,
      a and string.format("%.3f [%.3f, %.3f]", a.slope, a.lo, a.hi) or ("– (" .. r.accuracy_error .. ")"),
      a and string.format("%.3f", a.r) or "–", a and a.n or "–", a and a.contexts or "–", r.choices.valid,
      r.choices.valid + r.choices.invalid + r.choices.failed,
      #r.adapted > 0 and table.concat(r.adapted, "; ") or "nothing (every request as the paper sent it)")
  end
  md[#md + 1] = ""
  md[#md + 1] = string.format("Cost: $%.4f.", s.meter.total)
  s:write("summary.md", table.concat(md, "\n") .. "\n")
  s:write("summary.json", cjson.encode({ backend = opts.backend, models = results, cost = s.meter.total }) .. "\n")
  s.run:set_manifest("adapted", (function()
    local t = {}
    for m, c in pairs(caps) do t[m] = c.notes end
    return t
  end)())
  s:close()
  for _, model in ipairs(models) do
    local r = results[model]
    print(string.format("%s: accuracy %s; adapted: %s", model, r.accuracy and string.format("%.3f", r.accuracy.slope)
      or r.accuracy_error, #r.adapted > 0 and table.concat(r.adapted, "; ") or "nothing"))
  end
  print("summary: " .. opts.out .. "/summary.md")
  if failed > 0 then
    io.stderr:write(string.format("native.lua: %d requests failed after their retries; run the same command again "
      .. "to retry just those.\n", failed))
    return 3
  end
  return 0
end)
if not ok then
  io.stderr:write("native.lua: ", tostring(err), "\n")
  os.exit(1)
end
os.exit(err)
