-- The study as a library: a run directory, a backend client with a response store and a cost
-- meter, the stimuli, fine-tuning that resumes, and the sampling phases that write the
-- published CSV layout. experiments/paper.lua strings these together in the method's order.
--
--   local study = require "introspect.study"
--   local s = study.new{out = "runs/x", backend = "sim", models = {"sim-large"}}
--   local stim = s:stimuli()
--   local instilled = s:finetune("sim-large", "instill", stim.instill)
--   ...
local cjson = require "cjson"
local cost = require "introspect.client.cost"
local openai = require "introspect.client.openai"
local paper = require "introspect.design.paper"
local progress_mod = require "introspect.core.progress"
local rundir = require "introspect.run.rundir"
local store_mod = require "introspect.client.store"
local sys = require "introspect.sys"
local util = require "introspect.core.util"

local M = {}
local Study = {}
Study.__index = Study
M.Study = Study

-- The study's design (introspect.design.paper), the defaults of every option below.
M.DESIGN = {
  contexts = paper.contexts, trials = paper.trials, reports = paper.reports,
  finetune_seed = paper.seeds.finetune,
  seeds = { choices = paper.seeds.choices, native_choices = paper.seeds.native_choices, reports = paper.seeds.reports },
  choice_tokens = paper.tokens.choice, report_tokens = paper.tokens.report,
}

local OPTIONS = {
  out = "string", name = "string", backend = "string", rng = { "default", "python" },
  seed = "integer", batch = "boolean", logprobs = "boolean", max_cost = "number",
  dry_run = "boolean", finetune_command = "string", hyperparameters = "table",
  progress = "any", manifest = "table", poll_interval = "number", sim = "table",
  concurrency = "integer", prompts = "table", finetune_settings = "table", slurm_template = "string",
}

-- label(model) -> a file-name-safe label of a model name ("meta/llama 3" -> "meta_llama_3").
function M.label(model)
  return (model:gsub("[^%w%._%-]", "_"))
end

-- new(opts) -> study
-- opts: out (run directory), name, backend ("sim" (default), "openai", a profile name or a base
-- URL), rng, seed (added to every sampling seed; default 0), batch (Batch API for sampling),
-- logprobs (request top_logprobs on decisions), max_cost (dollars), dry_run (send nothing),
-- finetune_command, hyperparameters ({n_epochs=, batch_size=, learning_rate_multiplier=}),
-- progress (an introspect.core.progress, default a new one on stderr), manifest (extra manifest
-- entries), poll_interval (fine-tuning and batch polling, seconds), sim (options for the
-- simulated subject's api), concurrency (HTTP requests in flight), prompts (the prompt set of
-- every decision and report request, from introspect.design.prompts.new; default the study's).
function M.new(opts)
  opts = util.check_options("study.new", opts, OPTIONS)
  local self = setmetatable({ opts = opts, timings = {}, phase_order = {} }, Study)
  self.out = opts.out or "runs/study"
  self.seed = opts.seed or 0
  self.progress = opts.progress or progress_mod.new()
  self.backend_name = opts.backend or "sim"
  self.prompts = opts.prompts
  local run, err = rundir.open(self.out, { name = opts.name, manifest = opts.manifest })
  if not run then error(err, 0) end
  self.run = run
  self.meter = cost.meter({ max_cost = opts.max_cost })
  -- What earlier sessions of this run spent counts against the budget too.
  self.meter.total = run:get("cost_spent") or 0
  if not opts.dry_run then
    local st, serr = store_mod.open(run:path("responses.sqlite"), { run = opts.name or self.out })
    if not st then run:close(); error(serr, 0) end
    self.store = st
  end
  self.client = self:_client()
  if self.store then
    for _, s in ipairs(self.client:secrets()) do self.store:add_secret(s) end
  end
  run:set_manifest("backend", self:backend_description())
  self:record_provenance()
  return self
end

-- study:record_provenance(): versions, seeds and the hash of every prompt template go into the
-- manifest, so two runs can be told apart by what produced them.
function Study:record_provenance()
  local prompts = self.prompts or require("introspect.design.prompts").default
  local hashes = {}
  for name, text in pairs(prompts.templates or {}) do hashes[name] = sys.sha256(text):sub(1, 16) end
  local versions = { lua = _VERSION, cjson = cjson._VERSION }
  local ok, host = pcall(require, "introspect.host")
  if ok then
    local _, info = host.version()
    for k, v in pairs(info) do versions[k] = v end
  end
  local seeds = { finetune = M.DESIGN.finetune_seed, offset = self.seed }
  for k, v in pairs(M.DESIGN.seeds) do seeds[k] = v + (k ~= "finetune" and self.seed or 0) end
  for k, v in pairs(require("introspect.design.stimuli").PAPER.seeds) do seeds["stimuli_" .. k] = v end
  self.run:set_manifest("versions", versions)
  self.run:set_manifest("seeds", seeds)
  self.run:set_manifest("templates", hashes)
end

-- Builds the OpenAI client for the backend.
function Study:_client()
  local opts = self.opts
  local common = { store = self.store, meter = self.meter }
  if self.backend_name == "sim" then
    local sim = require "introspect.sim"
    local sim_opts = {}
    for k, v in pairs(opts.sim or {}) do sim_opts[k] = v end
    sim_opts.state_dir = sim_opts.state_dir or self.run:path("sim-state")
    util.mkdir_p(sim_opts.state_dir)
    common.transport = sim.transport(sim_opts)
    common.base_url = "http://sim.invalid/v1"
    common.api_key = "introspect-simulated-subject"
    self.simulated = true
  elseif self.backend_name:match("^https?://") then
    common.base_url = self.backend_name
    -- Long runs against rate-limited or flaky servers: retry as the openai profile does.
    common.pool = { concurrency = opts.concurrency or 64, max_retries = 5 }
  else
    common.profile = self.backend_name
  end
  -- A dry run sends nothing, so it needs no key.
  if opts.dry_run and not common.api_key then common.api_key = "dry-run-sends-nothing" end
  return openai.new(common)
end

-- study:backend_description() -> text naming the backend (never a key).
function Study:backend_description()
  if self.backend_name == "sim" then
    return "sim: introspect's simulated subject (a statistical model, not an LLM)"
  end
  return self.backend_name
end

-- study:phase(name, total) -> progress phase; its time goes into the summary's timings.
function Study:phase(name, total)
  local ph = self.progress:phase(name, total)
  local finish = ph.finish
  ph.finish = function(p)
    local secs = finish(p)
    if not self.timings[name] then self.phase_order[#self.phase_order + 1] = name end
    self.timings[name] = (self.timings[name] or 0) + secs
    return secs
  end
  return ph
end

-- study:timed(name, fn, ...) -> fn's results; records the time under `name`.
function Study:timed(name, fn, ...)
  local t0 = sys.now()
  local results = table.pack(fn(...))
  if not self.timings[name] then self.phase_order[#self.phase_order + 1] = name end
  self.timings[name] = (self.timings[name] or 0) + (sys.now() - t0)
  return table.unpack(results, 1, results.n)
end

-- study:record_cost(): saves the running total so a resumed run keeps counting from it.
function Study:record_cost()
  if (self.run:get("cost_spent") or 0) ~= self.meter.total then self.run:set("cost_spent", self.meter.total) end
end

-- study:write(name, content) -> path (atomic, in the run directory)
function Study:write(name, content) return self.run:write(name, content) end

-- study:close(): releases the run directory and closes the store.
function Study:close()
  if self.store then self.store:close() self.store = nil end
  if self.run then self.run:close() end
end

-- Installs the other parts of the study (stimuli and fine-tuning; sampling; analysis).
require("introspect.study.finetune")(Study, M)
require("introspect.study.sampling")(Study, M)
require("introspect.study.report")(Study, M)

return M
