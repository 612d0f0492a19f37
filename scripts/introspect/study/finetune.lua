-- Fine-tuning steps of a session: upload training files once per content and fine-tune a
-- model, resuming. Each job's id is recorded in the run's state as soon as it exists, and a job
-- created just before a crash is found again by its metadata, so no job is created twice. In a
-- dry run the client's planning transport answers (introspect.client.planner).
local cost = require "introspect.client.cost"
local finetune = require "introspect.client.finetune"
local finetune_openai = require "introspect.client.finetune_openai"
local paper = require "introspect.design.paper"
local sys = require "introspect.sys"
local util = require "introspect.core.util"

local M = {}

-- run_id(session) -> this run's id (made once, kept in the manifest): tags fine-tuning jobs.
local function run_id(self)
  local id = self.run.manifest.run_id
  if not id then
    id = sys.sha256(string.format("%s %.6f %d", self.out, sys.time(), sys.getpid())):sub(1, 16)
    self.run:set_manifest("run_id", id)
  end
  return id
end

---upload(session, path) -> file id. Once per file content (client/finetune_openai.lua's upload),
---recorded in state.json, so a resumed run never uploads the same file twice.
---@param self introspect.Session
---@param path string
---@return string
function M.upload(self, path)
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
local function run_command(self, parent, name, files, seed, hp, suffix)
  local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
  local args = { self.opts.finetune_command, "--base-model=" .. q(parent),
    "--training-file=" .. q(files.train), "--suffix=" .. q(suffix),
    "--seed=" .. seed }
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


---settings_keys(backend, finetune_command) -> the set of hyperparameter names the backend's
---fine-tuning provider accepts, or nil when any (a command checks its own).
---@param backend string
---@param finetune_command? string
---@return table|nil
function M.settings_keys(backend, finetune_command)
  local profile = require("introspect.client.backend").profiles[backend] or {}
  local kind = profile.finetune or "openai"
  if kind == "command" then return require("introspect.client.finetune_command").SETTINGS end
  if finetune_command and kind == "openai" then return nil end
  local p = finetune.provider(kind, { client = {} })
  return p.capabilities.hyperparameters
end

---provider(session) -> the fine-tuning provider of the session's backend
---(introspect.client.finetune): OpenAI's API (and the simulated subject's) by default.
---@param self introspect.Session
---@return table
function M.provider(self)
  if not self.ft_provider then
    local profile = require("introspect.client.backend").profiles[self.backend_name] or {}
    local kind = profile.finetune or "openai"
    local opts = { client = self.client }
    if kind == "openai" then opts.preflight = not self.simulated and not self.planner end
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

---check_models(session, models[, {logprobs=}]): refuses in one line what the backend's declared capabilities
---rule out (--batch without a Batch API, fine-tuning without its command) and, under max_cost, a
---model without a price. (session.new runs it before anything is written; shutdown dates are
---warned of by introspect.client.preflight.)
---@param self introspect.Session
---@param models string[]
---@param opts? {logprobs?: boolean} logprobs: the run asks for them
function M.check_models(self, models, opts)
  opts = util.check_options("session:check_models", opts, { logprobs = "boolean" })
  local profile = require("introspect.client.backend").profiles[self.backend_name] or {}
  local caps = profile.capabilities or {}
  if self.opts.batch and caps.batch == false then
    error("backend " .. self.backend_name .. " has no Batch API: leave out --batch", 0)
  end
  if opts.logprobs and caps.logprobs == false then
    error("backend " .. self.backend_name .. " returns no logprobs: leave out --logprobs", 0)
  end
  if profile.finetune == "command" and not self.opts.finetune_command and not self.planner then
    error("backend " .. self.backend_name .. " fine-tunes through --finetune-command (docs/finetune-command.md)", 0)
  end
  -- under --max-cost an unpriced model is refused before anything is sent (never counted as $0)
  if not self.planner then
    local priced, perr = self.meter:require_prices(models, { training = self.opts.finetune_command == nil })
    if not priced then error(perr, 0) end
  end
end

local FINETUNE_OPTIONS = { seed = "integer", hyperparameters = "table", suffix = "string", label = "string" }

---finetune(session, parent, name, files[, opts]) -> the fine-tuned model's id.
---files = {train=path, validation=path|nil}. opts: seed (default the study's, 4),
---hyperparameters ({n_epochs=, batch_size=, learning_rate_multiplier=, ...}: over the session's
---per-stage settings for `name`; default the provider's "auto"), suffix (default name), label
---(progress). The backend's provider (introspect.client.finetune) uploads, creates the job (or
---the session's finetune_command runs with --seed and every hyperparameter), and waits showing its
---state; the job, its seed, the resolved hyperparameters and the losses go into state.json and
---manifest.json (fine_tunes["NAME <- PARENT"]).
---@param self introspect.Session
---@param parent string
---@param name string
---@param files {train: string, validation?: string}
---@param opts? {seed?: integer, hyperparameters?: table, suffix?: string, label?: string}
---@return string model
function M.finetune(self, parent, name, files, opts)
  opts = util.check_options("session:finetune", opts, FINETUNE_OPTIONS)
  local hp = finetune.settings_for(self.opts.finetune_settings, name, opts.hyperparameters)
  local seed = opts.seed or paper.seeds.finetune
  local suffix = opts.suffix or name
  local key = "finetune:" .. parent .. ":" .. name
  local rec = self.run:get(key) or {}
  local command_stage = rec.provider == "command" or rec.provider == "slurm"
  if rec.model and rec.output and command_stage and not self.planner then
    -- a resumed run: the serving vLLM may have restarted since; loading is idempotent
    local p = M.provider(self)
    if p.adapters then
      local ok, err = require("introspect.client.finetune_command").load_adapter(p.adapters, rec.model, rec.output)
      if not ok then error(err, 0) end
    end
  end
  if rec.model then return rec.model end
  local ph = self:phase("fine-tune " .. (opts.label or name), nil)
  local provider = M.provider(self)
  if self.opts.finetune_command and provider.name ~= "command" and provider.name ~= "slurm" and not self.planner then
    rec.model = run_command(self, parent, name, files, seed, hp, suffix)
    rec.command, rec.seed, rec.hyperparameters = true, seed, hp
  else
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
    local state = self.planner and { get = function() return nil end, set = function() end } or self.run
    local result = finetune.run(provider, { name = name, parent = parent, files = files, seed = seed, from = from,
      hyperparameters = hp, suffix = suffix, run_id = run_id(self), key = key,
    }, { state = state, poll_interval = self.opts.poll_interval or ((self.simulated or self.planner) and 0.1 or 30),
      on_status = function(snap) ph:update({ state = tostring(snap.detail or snap.status) }) end,
      before_create = function()
        local estimate = self.meter:estimate_training(parent, training_tokens(files.train, hp), 1)
        local fits, budget = true, nil
        if estimate and not self.planner then fits, budget = self.meter:check(estimate) end
        if not fits then
          error(string.format("fine-tune %s: stopped before creating the job: %s (--max-cost)", name,
            tostring(budget.message or budget)), 0)
        end
      end })
    rec = self.planner and {} or self.run:get(key)
    rec.model, rec.seed, rec.provider = result.model, seed, provider.name
    rec.hyperparameters, rec.trained_tokens, rec.losses = result.hyperparameters or hp, result.trained_tokens,
      result.losses
    rec.job, rec.base, rec.output, rec.metrics = result.job.id, result.job.model, result.output, result.metrics
    rec.result = nil
  end
  ph:finish()
  if self.planner then return rec.model end
  if (self.run:get("cost_spent") or 0) ~= self.meter.total then self.run:set("cost_spent", self.meter.total) end
  self.run:set(key, rec)
  local models = self.run.manifest.fine_tunes or {}
  models[name .. " <- " .. parent] = { job = rec.job, model = rec.model, seed = rec.seed, suffix = suffix,
    provider = rec.provider, hyperparameters = rec.hyperparameters, trained_tokens = rec.trained_tokens,
    command = rec.command, final_loss = rec.losses and #rec.losses > 0 and rec.losses[#rec.losses].train_loss or nil }
  self.run:set_manifest("fine_tunes", models)
  return rec.model
end

return M
