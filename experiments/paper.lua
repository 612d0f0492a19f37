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
-- options; 3 finished but some requests failed after their retries (re-run to retry); 130 Ctrl-C.
local entry = require "introspect.run.entry"
local options = require "introspect.core.options"
local paper = require "introspect.design.paper"
local study = require "introspect.study"

local HERE = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local opts = options.parse(arg, {
  { "backend", "string", "sim", "sim (the simulated subject), openai, a profile name or a base URL" },
  { "models", "list", nil, "base models [default: sim-small,sim-large on sim; the paper's two on OpenAI]" },
  { "scenarios", "string", "library", "library (our scenario library) or a scenarios file (.lua or published .json)" },
  { "roles", "string", nil, "roles file (.csv, .txt or .lua) [default: our role library]" },
  { "rng", "string", "default", "python: draw exactly as the published study", { "default", "python" } },
  { "contexts", "integer", paper.contexts, "instilled contexts (as many native ones again)" },
  { "trials", "integer", paper.trials, "choices per instilled context (twice as many per native one)" },
  { "reports", "integer", paper.reports, "report prompts per context and model" },
  { "seed", "integer", 0, "added to every sampling seed (0: the study's seeds)" },
  { "batch", "boolean", false, "use the Batch API for the sampling phases" },
  { "logprobs", "boolean", false, "also record P(A) of each choice" },
  { "max-cost", "number", nil, "stop before spending more than this many dollars" },
  { "prices", "string", nil, "a JSON prices file for models the built-in table lacks (docs/http.md)" },
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
  { "replicates", "integer", 1, "independent fine-tune lineages per base model (seeds 4, 5, ...), each evaluated" },
  { "sim-job-duration", "number", nil, "simulated subject only: seconds each fine-tuning job runs" },
}, { program = "paper.lua", usage = "introspect experiments/paper.lua [options]",
  description = "Replicates the self-interpretability study: instill preferences, measure them, " ..
    "ask for reports, train introspection, analyse." })
-- default models: the subject's two profiles, the paper's two on OpenAI, else the server's own
local models = opts.models or ({ sim = { "sim-small", "sim-large" },
  openai = { "gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18" } })[opts.backend]
local S, o = paper.seeds, opts.seed
local seeds = { choices = S.choices + o, native_choices = S.native_choices + o, reports = S.reports + o,
  finetune = S.finetune, offset = o }
local function main()
  local inputs = study.inputs({ contexts = opts.contexts, rng = opts.rng,
    roles = opts.roles or HERE .. "/scenarios/roles.lua",
    scenarios = opts.scenarios == "library" and HERE .. "/scenarios/library.lua" or opts.scenarios })
  local curricula = study.curricula(opts.curricula, HERE .. "/curricula", opts.contexts)
  local settings = opts.finetune_settings and study.finetune_settings(opts.finetune_settings,
    { backend = opts.backend, finetune_command = opts.finetune_command, curricula = curricula }) or nil
  -- what makes two runs the same run (a re-run with other values needs another --out)
  local design = entry.design(opts, { "batch", "stimuli_only", "slurm_template", "sim_job_duration" })
  local s = entry.closing(study.session({ out = opts.out, name = "paper", backend = opts.backend, batch = opts.batch,
    models = not opts.stimuli_only and (models or {}) or nil, design = design, logprobs = opts.logprobs,
    finetune_settings = settings, slurm_template = opts.slurm_template, finetune_command = opts.finetune_command,
    max_cost = opts.max_cost, prices = opts.prices, dry_run = opts.dry_run, write_only = opts.stimuli_only,
    poll_interval = opts.poll_interval, sim = opts.sim_job_duration and { job_duration = opts.sim_job_duration },
    manifest = { options = opts, experiment = "experiments/paper.lua", seeds = seeds } }))
  models = s.models
  -- 1. Stimuli: contexts, target ("instilled") weights, and the study's training files.
  local stim = study.stimuli(s, inputs)
  if opts.stimuli_only then s:close() return print("stimulus files written to " .. opts.out) end
  local n, F = stim.n, paper.files
  local function ctx(first, last) return study.pick(stim.contexts, study.ids(first, last)) end
  local hp, results = { n_epochs = opts.n_epochs }, {}
  for _, base in ipairs(models) do for r = 1, opts.replicates do   -- replicate 1: the paper's run
    local L = study.lineage(base, r, { seed = seeds.finetune, hyperparameters = hp }); local label, ft = L.label, L.ft
    -- 3.1 Instill preferences: fine-tune the base model on contexts 1..n, 50 choices each.
    local instilled = s:finetune(base, L.name("instill"), stim.instill, ft(paper.names.instill_suffix(n)))
    -- 3.2 Introspection training: one fine-tune per curriculum, each from the instilled model.
    local trained = {}
    for _, c in ipairs(curricula) do
      trained[c.name] = s:finetune(instilled, L.name(c.name), study.curriculum_files(s, c, stim), ft(c.suffix))
    end
    -- 3.3 Reports at temperature 0, 10 per context (valid ones in the published layout).
    local calls = {}
    local function ask(condition, served, contexts, file, name)
      name = name or condition
      calls[#calls + 1] = s:reports({ name = "reports " .. L.key .. " " .. name, model = served, contexts = contexts,
        per_context = opts.reports, seed = seeds.reports, rng = stim.rng, condition = condition, file = label .. file,
        version = (contexts[1].id > n and paper.names.native_version or paper.names.version)(n),
        raw = "replies/" .. label .. "_reports_" .. name .. ".jsonl" })
    end
    ask("base", base, ctx(1, n), F.reports.base[1])
    ask("instilled", instilled, ctx(1, n), F.reports.instilled[1])
    for _, c in ipairs(curricula) do
      ask(c.condition, trained[c.name], study.pick(stim.contexts, c.evaluate_ids),
        "_" .. (c.files.reports or (c.name .. "_weight_reports.csv")), c.name)
    end
    ask("native_instilled", instilled, ctx(n + 1, 2 * n), F.reports.native_instilled[1])
    -- 3.4 Choices of the instilled model on fresh trials: 1..n (seed 5), native n+1..2n (seed 2).
    local function choose(contexts, per, seed, name, suffix)
      return s:choices({ name = "choices " .. L.key .. " " .. name, model = instilled, contexts = contexts,
        per_context = per, seed = seed, rng = stim.rng, logprobs = opts.logprobs or nil, file = label .. suffix,
        raw = "replies/" .. label .. "_choices_" .. name .. ".jsonl" })
    end
    local selections = choose(ctx(1, n), opts.trials, seeds.choices, "instilled", F.selections)
    local native = choose(ctx(n + 1, 2 * n), 2 * opts.trials, seeds.native_choices, "native", F.native_selections)
    -- 3.5 and 4. Learned weights, accuracy per condition, training effects.
    local reports, invalid = study.pool(calls)
    results[L.key] = not opts.dry_run and study.analyze(s, L.key, { lineage = L, contexts = stim.contexts,
      targets = stim.targets, selections = study.selections(selections), native_selections = study.selections(native),
      reports = reports, invalid = invalid, soft = opts.logprobs }) or nil
  end end
  local out = study.finish(s, results, { title = "Self-interpretability replication: " .. table.concat(models, ", "),
    models = models })
  if out.plan then return io.write(out.plan_text) end
  print(out.headline)
  print("summary: " .. out.summary .. "\nreport:  " .. out.html)
  if out.failed > 0 then
    io.stderr:write(string.format("paper.lua: %d requests failed after their retries; the results above leave "
      .. "them out. Run the same command again to retry just those.\n", out.failed))
    return 3
  end
end

os.exit(entry.run({ program = "paper.lua" }, function() local ok, e = pcall(main) -- Ctrl-C: 130, one line
  if ok then return e end error(entry.interrupted(e) and e or study.explain(e), 0) end, { [0] = arg[0] }), true)
