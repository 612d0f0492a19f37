-- experiments/paper.lua: Plunkett, Morris, Reddy & Morales (2025), "Self-Interpretability",
-- end to end (method: ../shared/docs/method.md; guide: docs/reproducing-the-paper.md).
--
--   introspect experiments/paper.lua                      # the simulated subject, both profiles
--   introspect experiments/paper.lua --backend=openai --models=gpt-4o-mini-2024-07-18 --max-cost=200
--   introspect experiments/paper.lua --stimuli-only --scenarios=FILE.json --roles=FILE.csv \
--     --rng=python --out=DIR                              # the published stimulus files
--
-- Re-running the same command after an interruption resumes it: stored responses are reused and
-- fine-tuning jobs are found again by their recorded ids. Exit status: 0 done; 1 error; 2 bad
-- options; 3 finished but some requests failed after their retries (run it again to retry them).
local options = require "introspect.core.options"
local names = require("introspect.design.paper").names
local study = require "introspect.study"

local HERE = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."

local SPEC = {
  { "backend", "string", "sim", "sim (the simulated subject), openai, a profile name or a base URL" },
  { "models", "list", nil, "base models [default: sim-small,sim-large on sim; the paper's two on OpenAI]" },
  { "scenarios", "string", "library", "library (our scenario library) or a scenarios file (.lua or published .json)" },
  { "roles", "string", nil, "roles file (.csv, .txt or .lua) [default: our role library]" },
  { "rng", "string", "default", "python: draw exactly as the published study", { "default", "python" } },
  { "contexts", "integer", study.DESIGN.contexts, "instilled contexts (as many native ones again)" },
  { "trials", "integer", study.DESIGN.trials, "choices per instilled context (twice as many per native one)" },
  { "reports", "integer", study.DESIGN.reports, "report prompts per context and model" },
  { "seed", "integer", 0, "added to every sampling seed (0: the study's seeds)" },
  { "batch", "boolean", false, "use the Batch API for the sampling phases" },
  { "logprobs", "boolean", false, "also record P(A) of each choice" },
  { "max-cost", "number", nil, "stop before spending more than this many dollars" },
  { "dry-run", "boolean", false, "print the planned requests, tokens and cost per phase; send nothing" },
  { "out", "string", "runs/paper", "run directory" },
  { "curricula", "list", { "first_50", "last_50", "all_100" }, "introspection-training curricula" },
  { "finetune-command", "string", nil, "fine-tune with this command instead of the API (docs)" },
  { "n-epochs", "integer", nil, "fine-tuning epochs [default: the backend's auto]" },
  { "finetune-settings", "string", nil, "per-stage hyperparameters: a Lua or JSON file (docs/providers.md)" },
  { "slurm-template", "string", nil, "run --finetune-command as Slurm jobs from this job script "
    .. "(e.g. experiments/slurm/finetune.sbatch)" },
  { "poll-interval", "number", nil, "seconds between fine-tuning and batch status checks" },
  { "stimuli-only", "boolean", false, "write the stimulus files into --out and stop" },
  { "sim-job-duration", "number", nil, "simulated subject only: seconds each fine-tuning job runs" },
}

local opts = options.parse(arg, SPEC, { program = "paper.lua",
  usage = "introspect experiments/paper.lua [options]",
  description = "Replicates the self-interpretability study: instill preferences, measure them, " ..
    "ask for reports, train introspection, analyse." })

local function fail(msg)
  msg = tostring(msg)
  if msg:find("max_cost", 1, true) then
    msg = msg .. "\n(the run stopped before spending it; see the plan with --dry-run, then re-run with a higher " ..
      "--max-cost: nothing already answered is paid for again)"
  end
  io.stderr:write("paper.lua: ", msg, "\n")
  os.exit(1)
end

local function range(a, b)
  local t = {}
  for i = a, b do t[#t + 1] = i end
  return t
end

local scenarios_file = opts.scenarios == "library" and HERE .. "/scenarios/library.lua" or opts.scenarios
local roles_file = opts.roles or HERE .. "/scenarios/roles.lua"
local models = opts.models or (opts.backend == "sim" and { "sim-small", "sim-large" }
  or { "gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18" })

local ok, err = pcall(function()
  -- Inputs are checked before anything is written.
  local inputs = study.inputs({ scenarios = scenarios_file, roles = roles_file, contexts = opts.contexts,
    rng = opts.rng })
  -- Per-stage settings are checked before anything is written.
  local settings
  if opts.finetune_settings then
    local stages = { "instill" }
    for _, name in ipairs(opts.curricula) do
      local c, cerr = require("introspect.design.curriculum").load(
        name:find("/") and name or HERE .. "/curricula/" .. name .. ".lua", { n = opts.contexts })
      if not c then error(cerr, 0) end
      stages[#stages + 1] = c.name
    end
    local keys = study.settings_keys(opts.backend, opts.finetune_command)
    local serr
    settings, serr = require("introspect.client.finetune").load_settings(opts.finetune_settings,
      { stages = stages, keys = keys })
    if not settings then error(serr, 0) end
  end
  local s = study.new({ out = opts.out, finetune_settings = settings, slurm_template = opts.slurm_template,
    name = "paper", backend = opts.backend, rng = opts.rng,
    seed = opts.seed ~= 0 and opts.seed or nil, batch = opts.batch, logprobs = opts.logprobs,
    max_cost = opts.max_cost, dry_run = opts.dry_run or opts.stimuli_only, finetune_command = opts.finetune_command,
    hyperparameters = { n_epochs = opts.n_epochs }, poll_interval = opts.poll_interval,
    sim = opts.sim_job_duration and { job_duration = opts.sim_job_duration } or nil,
    manifest = { options = opts, models = models, experiment = "experiments/paper.lua" } })

  if settings then s.run:set_manifest("finetune_settings", settings) end
  s:check_models(models)

  -- 1. Stimuli: contexts, target ("instilled") weights, and the study's training files.
  local stim = s:stimuli(inputs)
  if opts.stimuli_only then
    s:close()
    print("stimulus files written to " .. opts.out)
    return
  end
  local n = stim.n
  local instilled_ids, native_ids = range(1, n), range(n + 1, 2 * n)
  local curricula = {}
  for i, name in ipairs(opts.curricula) do
    curricula[i] = s:curriculum(name:find("/") and name or HERE .. "/curricula/" .. name .. ".lua")
  end

  for _, base in ipairs(models) do
    local label = study.label(base)
    -- 3.1 Instill preferences: fine-tune the base model on contexts 1..n, 50 choices each.
    local instilled = s:finetune(base, "instill", stim.instill, { suffix = names.instill_suffix(n) })
    -- 3.2 Introspection training: one fine-tune per curriculum, each from the instilled model.
    local trained = {}
    for _, c in ipairs(curricula) do
      trained[c.name] = s:finetune(instilled, c.name, s:curriculum_files(c), { suffix = c.suffix })
    end

    -- 3.3 Reports at temperature 0, 10 per context (valid ones in the published layout; version
    -- instilled_100 on contexts 1..n, latent_100-200 on the native ones, as the R scripts expect).
    local function ask(condition, served, ids, file, name)
      s:reports({ model = base, served = served, condition = condition, name = name, contexts = ids,
        per_context = opts.reports, file = label .. "_" .. file,
        version = ids[1] > n and names.native_version(n) or names.version(n) })
    end
    ask("base", base, instilled_ids, "weight_reports.csv")
    ask("instilled", instilled, instilled_ids, "instilled_weight_reports.csv")
    for _, c in ipairs(curricula) do
      ask(c.condition, trained[c.name], c.evaluate_ids, c.files.reports or (c.name .. "_weight_reports.csv"), c.name)
    end
    ask("native_instilled", instilled, native_ids, "instilled_latent_weight_reports.csv")

    -- 3.4 Choices of the instilled model on fresh trials: 1..n (seed 5), native n+1..2n (seed 2).
    local seeds = study.DESIGN.seeds
    local selections = s:choices({ model = base, served = instilled, contexts = instilled_ids,
      per_context = opts.trials, seed = seeds.choices, label = "instilled",
      file = label .. "_instilled_selections.csv" })
    local native = s:choices({ model = base, served = instilled, contexts = native_ids,
      per_context = 2 * opts.trials, seed = seeds.native_choices, label = "native",
      file = label .. "_instilled_latent_selections.csv" })

    -- 3.5 and 4. Learned weights, accuracy per condition, training effects.
    s:analyze(base, { selections = selections, native_selections = native,
      instilled_ids = instilled_ids, native_ids = native_ids })
  end

  local out = s:finish({ title = "Self-interpretability replication: " .. table.concat(models, ", ") })
  if out.plan then
    local width, total = 40, 0
    for _, p in ipairs(out.plan) do width = math.max(width, #p.phase) end
    local row = "%-" .. width .. "s %10s %14s %12s"
    print(string.format(row, "phase", "requests", "tokens", "est. cost"))
    for _, p in ipairs(out.plan) do
      total = total + (p.cost or 0)
      print(string.format(row, p.phase, p.requests, p.tokens, string.format("$%.2f", p.cost or 0)))
    end
    print(string.format(row, "total (dry run: nothing was sent)", "", "", string.format("$%.2f", total)))
  else
    print("summary: " .. out.summary)
    print("report:  " .. out.html)
    if out.failed > 0 then
      io.stderr:write(string.format("paper.lua: %d requests failed after their retries; the results above " ..
        "leave them out. Run the same command again to retry just those.\n", out.failed))
      return 3
    end
  end
end)
if not ok then fail(err) end
if err == 3 then os.exit(3) end
