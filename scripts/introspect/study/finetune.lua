-- The study's stimuli and fine-tuning (installed into introspect.study's Study):
-- study:stimuli, study:curriculum_files, study:upload, study:finetune.
-- Fine-tuning resumes: each job's id is recorded in the run's state as soon as it exists, and a
-- job created just before a crash is found again by its metadata, so no job is created twice.
local cost = require "introspect.client.cost"
local curriculum = require "introspect.design.curriculum"
local finetune = require "introspect.client.finetune"
local finetune_openai = require "introspect.client.finetune_openai"
local scenarios = require "introspect.design.scenarios"
local stimuli = require "introspect.design.stimuli"
local sys = require "introspect.sys"
local trainfiles = require "introspect.design.trainfiles"
local util = require "introspect.core.util"

return function(Study, M)
  -- study:run_id() -> this run's id (made once, kept in the manifest): tags fine-tuning jobs.
  function Study:run_id()
    local id = self.run.manifest.run_id
    if not id then
      id = sys.sha256(string.format("%s %.6f %d", self.out, sys.time(), sys.getpid())):sub(1, 16)
      self.run:set_manifest("run_id", id)
    end
    return id
  end

  -- inputs{scenarios=, roles=, contexts=, rng=} -> inputs (study.inputs): loads and validates
  -- the scenario and role files before anything is written; raises a one-line error naming the
  -- file and item.
  function M.inputs(opts)
    opts = util.check_options("study.inputs", opts,
      { scenarios = "string", roles = "string", contexts = "integer", rng = { "default", "python" } })
    local n = opts.contexts or M.DESIGN.contexts
    local mode = opts.rng or "default"
    local scenarios_path = opts.scenarios or "experiments/scenarios/library.lua"
    local list, err = scenarios.load(scenarios_path, { attributes = stimuli.PAPER.attributes })
    if not list then error(err, 0) end
    local roles, rerr = scenarios.load_roles(opts.roles or "experiments/scenarios/roles.lua",
      { header = mode ~= "python" })
    if not roles then error(rerr, 0) end
    if #list < 2 * n then
      error(string.format("%s: %d scenarios, the study needs %d (%d instilled + %d native contexts)",
        scenarios_path, #list, 2 * n, n, n), 0)
    end
    return { list = list, roles = roles, n = n, rng = mode, scenarios = opts.scenarios, roles_path = opts.roles }
  end

  -- study:stimuli(inputs) -> stim
  -- From study.inputs{...} (or its options): contexts 1..2n (n instilled, n native), the target
  -- weights, and the study's files (scenarios.csv, instilled_weights.csv, the instill training and
  -- validation files, the introspection-training files), written into the run directory.
  -- stim = {contexts=, weights=, n=, rng=, by_scenario=, instill={train=, validation=}}.
  function Study:stimuli(inputs)
    if not inputs or not inputs.list then inputs = M.inputs(inputs) end
    local list, roles, n, mode = inputs.list, inputs.roles, inputs.n, inputs.rng
    local count = math.min(#list, mode == "python" and stimuli.PAPER.contexts or 2 * n)
    local contexts = scenarios.contexts(list, roles, { count = count, rng = mode,
      seed = stimuli.PAPER.seeds.roles })
    local st = self:timed("stimuli", stimuli.study, contexts, { rng = mode, instilled = n })
    local names = {}
    for _, f in ipairs(trainfiles.study_files(st)) do
      self:write(f.name, f.content)
      names[#names + 1] = f.name
    end
    local by_scenario = {}
    for _, c in ipairs(contexts) do by_scenario[c.scenario.short_name] = c end
    self.run:set_manifest("stimuli", { scenarios = inputs.scenarios, roles = inputs.roles_path, rng = mode,
      contexts = n, native_contexts = n, files = names })
    self.stim = { contexts = contexts, weights = st.weights, n = n, rng = mode, study = st,
      by_scenario = by_scenario,
      instill = { train = self.run:path("instill_" .. n .. "_prefs.jsonl"),
        validation = self.run:path("instill_" .. n .. "_prefs_val.jsonl") } }
    return self.stim
  end

  -- study:use_contexts(contexts[, {rng=}]) -> stim
  -- An experiment's own contexts (any number of attributes; from scenarios.contexts) become the
  -- study's contexts for study:choices and study:reports, without the study's target weights
  -- and training files. Context ids must be their positions. stim = {contexts=, n=, rng=,
  -- by_scenario=}. Raises on a context whose id is not its position.
  function Study:use_contexts(contexts, opts)
    opts = util.check_options("study.use_contexts", opts, { rng = { "default", "python" } })
    local by_scenario = {}
    for i, c in ipairs(contexts) do
      if c.id ~= i then
        error(string.format("study:use_contexts: context #%d has id %s, expected %d", i, tostring(c.id), i), 2)
      end
      by_scenario[c.scenario.short_name] = c
    end
    self.stim = { contexts = contexts, n = #contexts, rng = opts.rng or "default", by_scenario = by_scenario }
    self.run:set_manifest("stimuli", { contexts = #contexts, rng = self.stim.rng, own_contexts = true })
    return self.stim
  end

  -- study:curriculum(path) -> curriculum with its context ranges resolved for this study's n.
  function Study:curriculum(path)
    local c, err = curriculum.load(path, { n = self.stim and self.stim.n or M.DESIGN.contexts })
    if not c then error(err, 0) end
    return c
  end

  -- study:curriculum_files(c[, label_of]) -> {train=path, validation=path|nil}
  -- Writes the curriculum's introspection-training files. label_of(context) gives the labels
  -- (default: the target weights; a curriculum with labels = "learned" needs label_of).
  function Study:curriculum_files(c, label_of)
    local stim = assert(self.stim, "study:curriculum_files: call study:stimuli first")
    if not label_of then
      if c.labels ~= "target" then
        error(c.source .. ": labels = '" .. c.labels .. "' needs a label function", 2)
      end
      label_of = function(ctx) return stim.weights[ctx.id] end
    end
    local files = curriculum.files(c, stim.contexts, label_of, { rng = stim.rng,
      final_newline = stim.rng ~= "python" })
    local names = { train = c.files.train or (c.name .. "_training.jsonl"),
      validation = c.validation and (c.files.validation or (c.name .. "_validation.jsonl")) }
    local out = { train = self.run:path(names.train) }
    self:write(names.train, files.train)
    if files.validation then
      out.validation = self.run:path(names.validation or (c.name .. "_validation.jsonl"))
      self:write(names.validation or (c.name .. "_validation.jsonl"), files.validation)
    end
    return out
  end

  -- study:upload(path) -> file id. Once per file content (client/finetune_openai.lua's upload),
  -- recorded in state.json, so a resumed run never uploads the same file twice.
  function Study:upload(path)
    local content = assert(util.read_file(path))
    local key = "upload:" .. path:match("[^/]+$") .. ":" .. sys.sha256(content):sub(1, 16)
    return (self.run:once(key, function() return finetune_openai.upload(self.client, path) end))
  end

  -- Estimated training tokens of a JSONL file times the epochs (3 when "auto").
  local function training_tokens(path, hp)
    local text = util.read_file(path) or ""
    local epochs = type(hp.n_epochs) == "number" and hp.n_epochs or 3
    return cost.estimate_tokens(text) * epochs
  end

  -- Runs --finetune-command: CMD --base-model=... --training-file=... [--validation-file=...]
  -- --suffix=... --seed=... [--n-epochs= --batch-size= --learning-rate-multiplier=]; the last
  -- non-empty line it prints is the served model's name.
  local function run_command(self, parent, name, files, hp, suffix)
    local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
    local args = { self.opts.finetune_command, "--base-model=" .. q(parent),
      "--training-file=" .. q(files.train), "--suffix=" .. q(suffix),
      "--seed=" .. M.DESIGN.finetune_seed }
    if files.validation then args[#args + 1] = "--validation-file=" .. q(files.validation) end
    for _, k in ipairs({ "n_epochs", "batch_size", "learning_rate_multiplier" }) do
      if hp[k] ~= nil then args[#args + 1] = "--" .. k:gsub("_", "-") .. "=" .. q(hp[k]) end
    end
    local cmd = table.concat(args, " ")
    local p = assert(io.popen(cmd, "r"))
    local last
    for line in p:lines() do
      if line:match("%S") then last = line:match("^%s*(.-)%s*$") end
    end
    local ok, how, code = p:close()
    if not ok then
      error(string.format("--finetune-command failed (%s %s) for %s", tostring(how), tostring(code), name), 0)
    end
    if not last then error("--finetune-command printed no model name for " .. name, 0) end
    return last
  end

  -- settings_keys(backend, finetune_command) -> the set of hyperparameter names the backend's
  -- fine-tuning provider accepts, or nil when any (a command checks its own)
  function M.settings_keys(backend, finetune_command)
    local profile = require("introspect.client.backend").profiles[backend] or {}
    local kind = profile.finetune or "openai"
    if kind == "command" then return require("introspect.client.finetune_command").SETTINGS end
    if finetune_command and kind == "openai" then return nil end
    local p = finetune.provider(kind, { client = {} })
    return p.capabilities.hyperparameters
  end

  -- study:finetune_provider() -> the fine-tuning provider of this study's backend
  -- (introspect.client.finetune): OpenAI's API (and the simulated subject's) by default.
  function Study:finetune_provider()
    if not self.ft_provider then
      local profile = require("introspect.client.backend").profiles[self.backend_name] or {}
      local kind = profile.finetune or "openai"
      local opts = { client = self.client }
      if kind == "openai" then opts.preflight = not self.simulated end
      if kind == "command" then
        if not self.opts.finetune_command then
          error("backend " .. self.backend_name .. " fine-tunes through --finetune-command "
            .. "(docs/finetune-command.md)", 0)
        end
        opts = { command = self.opts.finetune_command, dir = self.run:path("finetune"),
          adapters = profile.capabilities and profile.capabilities.runtime_adapters and self.client or nil }
        if self.opts.slurm_template then
          kind, opts.template = "slurm", self.opts.slurm_template
        end
      end
      self.ft_provider = finetune.provider(kind, opts)
    end
    return self.ft_provider
  end

  -- study:check_models(models): refuses in one line what the backend's declared capabilities
  -- rule out (--batch without a Batch API, fine-tuning without its command); then, on a backend
  -- that is not the simulated subject, one GET /models
  -- warns (on stderr) of each model whose shutdown_date has passed or is near (OpenAI lists one
  -- when a model's retirement is announced). A server that cannot list models is left alone.
  function Study:check_models(models)
    local profile = require("introspect.client.backend").profiles[self.backend_name] or {}
    local caps = profile.capabilities or {}
    if self.opts.batch and caps.batch == false then
      error("backend " .. self.backend_name .. " has no Batch API: leave out --batch", 0)
    end
    if self.opts.logprobs and caps.logprobs == false then
      error("backend " .. self.backend_name .. " returns no logprobs: leave out --logprobs", 0)
    end
    if profile.finetune == "command" and not self.opts.finetune_command and not self.opts.dry_run then
      error("backend " .. self.backend_name .. " fine-tunes through --finetune-command (docs/finetune-command.md)", 0)
    end
    if self.simulated or self.opts.dry_run then return end
    local lines = self.client:shutdown_warnings(models)
    for _, line in ipairs(lines or {}) do io.stderr:write(line, "\n") end
  end

  -- study:stage_hyperparameters(name) -> the stage's hyperparameters: the settings table's "*"
  -- and `name` entries (--finetune-settings), then the study's hyperparameters (--n-epochs).
  function Study:stage_hyperparameters(name)
    return finetune.settings_for(self.opts.finetune_settings, name, self.opts.hyperparameters)
  end

  -- study:finetune(parent, name, files[, {label=, suffix=}]) -> fine-tuned model id
  -- files = {train=path, validation=path|nil}. Uploads the files, creates the job (seed 4,
  -- suffix (default name), the study's hyperparameters), waits for it showing its state, and records
  -- the job, the resolved hyperparameters and the losses in state.json and manifest.json.
  function Study:finetune(parent, name, files, opts)
    opts = util.check_options("study.finetune", opts, { label = "string", suffix = "string" })
    local suffix = opts.suffix or name
    local key = "finetune:" .. parent .. ":" .. name
    local rec = self.run:get(key) or {}
    local command_stage = rec.provider == "command" or rec.provider == "slurm"
    if rec.model and rec.output and command_stage and not self.opts.dry_run then
      -- a resumed run: the serving vLLM may have restarted since; loading is idempotent
      local p = self:finetune_provider()
      if p.adapters then
        local ok, err = require("introspect.client.finetune_command").load_adapter(p.adapters, rec.model, rec.output)
        if not ok then error(err, 0) end
      end
    end
    if rec.model then return rec.model end
    local hp = self.opts.hyperparameters or {}
    if self.opts.dry_run then
      local tokens = training_tokens(files.train, hp)
      local dollars = cost.of_training(parent, tokens) or 0
      self.plan = self.plan or {}
      self.plan[#self.plan + 1] = { phase = "fine-tune " .. name, requests = 1, tokens = tokens, cost = dollars }
      return "ft:" .. (parent:match("^ft:([^:]+)") or parent) .. ":dry-run:" .. name
    end
    local ph = self:phase("fine-tune " .. (opts.label or name), nil)
    local provider = self:finetune_provider()
    if self.opts.finetune_command and provider.name ~= "command" and provider.name ~= "slurm" then
      rec.model = run_command(self, parent, name, files, hp, suffix)
      rec.command = true
      self.run:set(key, rec)
      ph:update({ state = "served as " .. rec.model })
      ph:finish()
      return rec.model
    end
    if type(rec.job) == "string" then   -- recorded by an earlier version: {job="ftjob-..."}
      self.run:set(key, { job = { id = rec.job }, provider = "openai" })
    end
    -- a stage trained from an earlier stage's model continues that stage's job where the
    -- provider can (Together's from_checkpoint)
    local from
    for k, r in pairs(self.run.state) do
      if type(r) == "table" and k:match("^finetune:") and r.model == parent and r.base then
        from = { job = { id = r.job, model = r.base }, model = r.model, output = r.output }
      end
    end
    local result = finetune.run(provider, {
      name = name, parent = parent, files = files, seed = M.DESIGN.finetune_seed, from = from,
      hyperparameters = self:stage_hyperparameters(name), suffix = suffix, run_id = self:run_id(), key = key,
    }, { state = self.run, poll_interval = self.opts.poll_interval or (self.simulated and 0.1 or 30),
      on_status = function(snap) ph:update({ state = tostring(snap.detail or snap.status) }) end,
      before_create = function()
        local estimate = self.meter:estimate_training(parent, training_tokens(files.train, hp), 1)
        if estimate then
          local fits, budget = self.meter:check(estimate)
          if not fits then
            error(string.format("fine-tune %s: stopped before creating the job: %s (--max-cost)", name,
              tostring(budget.message or budget)), 0)
          end
        end
      end })
    self:record_cost()
    rec = self.run:get(key)
    rec.model = result.model
    rec.hyperparameters = result.hyperparameters
    rec.trained_tokens = result.trained_tokens
    rec.losses = result.losses
    rec.job = result.job.id
    rec.base = result.job.model
    rec.output = result.output
    rec.metrics = result.metrics
    rec.provider = provider.name
    rec.result = nil
    self.run:set(key, rec)
    local models = self.run.manifest.fine_tunes or {}
    models[name .. " <- " .. parent] = { job = rec.job, model = rec.model, hyperparameters = rec.hyperparameters,
      trained_tokens = rec.trained_tokens, final_loss = rec.losses and #rec.losses > 0
        and rec.losses[#rec.losses].train_loss or nil }
    self.run:set_manifest("fine_tunes", models)
    ph:finish()
    return rec.model
  end
end
