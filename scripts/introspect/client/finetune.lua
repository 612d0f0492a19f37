-- Provider-neutral fine-tuning: one contract, one adapter per provider (docs/providers.md).
--
--   local finetune = require "introspect.client.finetune"
--   local p = finetune.provider("openai", { client = client })   -- "together", "command", "slurm"
--   local result = finetune.run(p, stage, { state = run, on_status = fn, on_event = fn })
--
-- A stage is a plain table:
--   { name = "instill",                 -- the stage name (settings tables are keyed by it)
--     parent = "gpt-4o-mini-...",       -- the model the stage trains from (a base or a served model)
--     from = <result of an earlier stage> | nil,   -- continue from that stage's checkpoint/output
--     files = { train = path, validation = path | nil },
--     seed = 4, hyperparameters = { n_epochs = 3, ... },   -- only keys the provider accepts
--     suffix = "instill",               -- a readable part of the resulting model's name
--     run_id = "0123abcd...", key = "finetune:gpt-4o:instill" }   -- find the job after a crash
-- A result is { job = {id=, ...}, model = name to chat with, status = "succeeded",
--   hyperparameters =, losses = {{step=, train_loss=, valid_loss=}}, trained_tokens =,
--   metrics = (command: its metrics JSON), output = (command: the output path), provider = }.
--
-- A provider (adapter) is a table with
--   name, capabilities = { fine_tuning = true, from_checkpoint =, seed =, metadata =,
--     cancel_on_interrupt =, hyperparameters = { accepted key = true, ... } | true (any) }
--   p:preflight(stage) -> true | nil, err   may this stage be created? (nothing uploaded yet)
--   p:prepare(stage) -> prepared            uploads (once per file content) or checks paths
--   p:find(stage) -> job | nil              the stage's job created before a crash, if any
--   p:create(stage, prepared) -> job | nil, err   never duplicated by a transport retry
--   p:poll(job) -> snap | nil, err          snap = { status = "queued"|"running"|"succeeded"|
--     "failed"|"cancelled", detail = provider's status text, events = {new event texts},
--     progress = text | nil, model =, error = text, losses =, hyperparameters =, trained_tokens =,
--     metrics =, output = }
--   p:cancel(job) -> true | nil, err
-- Jobs are plain tables ({id=, ...}) that survive a JSON round trip (they are recorded in the
-- run's state.json as soon as they exist).
local util = require("introspect.core.util")

local M = {}

M.PROVIDERS = { openai = "introspect.client.finetune_openai",
  together = "introspect.client.finetune_together",
  command = "introspect.client.finetune_command",
  slurm = "introspect.client.finetune_slurm" }

M.TERMINAL = { succeeded = true, failed = true, cancelled = true }

-- provider(kind, opts) -> provider. kind is a key of M.PROVIDERS; opts go to the adapter's new().
function M.provider(kind, opts)
  local mod = M.PROVIDERS[kind]
  if not mod then
    local names = {}
    for k in pairs(M.PROVIDERS) do names[#names + 1] = k end
    table.sort(names)
    error("finetune.provider: unknown provider '" .. tostring(kind) .. "' (known: "
      .. table.concat(names, ", ") .. ")", 2)
  end
  return require(mod).new(opts)
end

-- check_stage(p, stage) -> stage. Raises one line naming the stage and the first field or
-- hyperparameter the provider cannot take (before anything is uploaded or spent).
function M.check_stage(p, stage)
  util.check_options("finetune stage", stage, { name = "string", parent = "string", from = "table",
    files = "table", seed = "integer", hyperparameters = "table", suffix = "string", run_id = "string",
    key = "string" })
  if not stage.name or not stage.parent or not stage.files or not stage.files.train then
    error("finetune stage: 'name', 'parent' and 'files.train' are required", 2)
  end
  local accepted = p.capabilities.hyperparameters or {}
  if accepted == true then return stage end   -- any key: the provider (a command) checks them
  local keys = {}
  for k in pairs(stage.hyperparameters or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    if not accepted[k] then
      local names = {}
      for a in pairs(accepted) do names[#names + 1] = a end
      table.sort(names)
      error(string.format("fine-tuning stage '%s': the %s provider has no hyperparameter '%s' (it takes: %s)",
        stage.name, p.name, k, table.concat(names, ", ")), 0)
    end
  end
  return stage
end

-- create_once(p, stage, send) -> result | nil, err. Creating a job is paid and not idempotent:
-- send() is called without transport retries; after a connection error, a timeout or a 5xx the
-- server may have accepted it, so p:find(stage) looks the job up before sending again (up to
-- p.create_attempts times, backing off).
function M.create_once(p, stage, send)
  local err
  for attempt = 1, p.create_attempts do
    local job
    job, err = send()
    if job then return job end
    if not (err.type == "connection_error" or (err.status or 0) >= 500 or err.status == 408) then return nil, err end
    local found = p:find(stage)
    if found then return found end
    if attempt < p.create_attempts then p.client.sleep(math.min(30, 2 ^ attempt)) end
  end
  return nil, err
end

-- wait(p, job [, {poll_interval=, on_status=, on_event=, on_progress=, sleep=, timeout=}])
-- -> snap | nil, err. Polls until the job ends, passing each new event text to on_event, each
-- new status to on_status(snap) and progress text to on_progress. An interrupt (Ctrl-C) while
-- waiting cancels the job first when the provider says so (cancel_on_interrupt), then re-raises.
function M.wait(p, job, opts)
  opts = util.check_options("finetune.wait", opts, { poll_interval = "number", on_status = "function",
    on_event = "function", on_progress = "function", sleep = "function", timeout = "number" })
  local sleep = opts.sleep or require("introspect.http").sleep
  local now = require("introspect.client.openai").now
  local started, last, last_progress = now(), nil, nil
  local function loop()
    while true do
      local snap, perr = p:poll(job)
      if not snap then return nil, perr end
      for _, ev in ipairs(snap.events or {}) do
        if opts.on_event then opts.on_event(ev) end
      end
      if snap.status ~= last or snap.detail ~= (last and last.detail) then
        if opts.on_status then opts.on_status(snap) end
        last = snap.status
      end
      if snap.progress and snap.progress ~= last_progress then
        last_progress = snap.progress
        if opts.on_progress then opts.on_progress(snap.progress) end
      end
      if M.TERMINAL[snap.status] then return snap end
      if opts.timeout and now() - started >= opts.timeout then
        return nil, string.format("fine-tuning job %s still %s after %.0f s", tostring(job.id),
          tostring(snap.detail or snap.status), now() - started)
      end
      sleep(opts.poll_interval or 30)
    end
  end
  -- Two pcalls: after Ctrl-C the host's hook may raise "interrupted!" once more as the inner
  -- pcall returns; the outer one catches that, so the job is cancelled either way.
  local outer_ok, ok, res, err = pcall(pcall, loop)
  if not outer_ok then ok, res = false, ok end
  if not ok then
    if tostring(res):find("interrupted", 1, true) and p.capabilities.cancel_on_interrupt then
      local cok, cerr = p:cancel(job)
      io.stderr:write(cok and ("cancelled fine-tuning job " .. tostring(job.id) .. "\n")
        or ("could not cancel fine-tuning job " .. tostring(job.id) .. ": " .. tostring(cerr) .. "\n"))
    end
    error(res, 0)
  end
  return res, err
end

-- run(p, stage [, opts]) -> result | raises one line
-- The whole stage: the job recorded in opts.state (an object with get(key)/set(key, value), e.g.
-- the run directory) under stage.key (default "finetune:"..stage.name) is waited for; otherwise a job of this stage
-- created before a crash is looked up (p:find); otherwise the provider's preflight runs, the
-- files are prepared and the job is created and recorded at once. opts: state, poll_interval,
-- on_status, on_event, on_progress, sleep, before_create = function(stage) (a budget check).
function M.run(p, stage, opts)
  opts = util.check_options("finetune.run", opts, { state = "any", poll_interval = "number",
    on_status = "function", on_event = "function", on_progress = "function", sleep = "function",
    before_create = "function" })
  M.check_stage(p, stage)
  local state = opts.state or { get = function() return nil end, set = function() end }
  local key = stage.key or ("finetune:" .. stage.name)
  local rec = state:get(key) or {}
  if rec.result then return rec.result end
  local where = string.format("fine-tuning %s from %s", stage.name, stage.parent)
  if not rec.job then
    local job = p:find(stage)
    if not job then
      local ok, err = p:preflight(stage)
      if not ok then error(tostring(err), 0) end
      if opts.before_create then opts.before_create(stage) end
      local prepared = p:prepare(stage)
      job, err = p:create(stage, prepared)
      if not job then error(where .. ": " .. tostring(err), 0) end
    end
    rec.job, rec.provider = job, p.name
    state:set(key, rec)
  end
  local snap, err = M.wait(p, rec.job, { poll_interval = opts.poll_interval, on_status = opts.on_status,
    on_event = opts.on_event, on_progress = opts.on_progress, sleep = opts.sleep })
  if not snap then error(string.format("%s (%s): %s", where, tostring(rec.job.id), tostring(err)), 0) end
  if snap.status ~= "succeeded" then
    -- a failed or cancelled job is forgotten, so a re-run creates a fresh one
    state:set(key, nil)
    error(string.format("%s: job %s %s: %s", where, tostring(rec.job.id), snap.detail or snap.status,
      snap.error or "no reason given"), 0)
  end
  if type(snap.model) ~= "string" then
    error(string.format("%s: job %s succeeded without naming a model", where, tostring(rec.job.id)), 0)
  end
  rec.result = { job = rec.job, model = snap.model, status = snap.status, provider = p.name,
    hyperparameters = snap.hyperparameters, losses = snap.losses, trained_tokens = snap.trained_tokens,
    metrics = snap.metrics, output = snap.output }
  state:set(key, rec)
  return rec.result
end

-------------------------------------------------------------------------------------------
-- Per-stage settings (--finetune-settings=FILE).

-- load_settings(path, {stages=list of names, keys=set of accepted keys}) -> table | nil, err
-- FILE is a Lua file returning (or a JSON file holding) a table stage name -> hyperparameters;
-- the stage "*" applies to every stage (a stage's own values win). An unknown stage or key is
-- one line naming the file, the stage and the key.
function M.load_settings(path, opts)
  opts = util.check_options("finetune.load_settings", opts, { stages = "table", keys = "table" })
  local text, rerr = util.read_file(path)
  if not text then return nil, path .. ": " .. tostring(rerr) end
  local value
  if path:match("%.json$") then
    local ok, doc = pcall(require("cjson").decode, text)
    if not ok then return nil, path .. ": not valid JSON: " .. tostring(doc) end
    value = doc
  else
    local chunk, cerr = load(text, "@" .. path, "t", {})
    if not chunk then return nil, tostring(cerr) end
    local ok, v = pcall(chunk)
    if not ok then return nil, tostring(v) end
    value = v
  end
  if type(value) ~= "table" then return nil, path .. ": must be a table of stage name -> settings" end
  local known = { ["*"] = true }
  for _, s in ipairs(opts.stages or {}) do known[s] = true end
  local names = {}
  for k in pairs(value) do names[#names + 1] = tostring(k) end
  table.sort(names)
  for _, stage in ipairs(names) do
    local hp = value[stage]
    if opts.stages and not known[stage] then
      local list = {}
      for _, s in ipairs(opts.stages) do list[#list + 1] = s end
      return nil, string.format("%s: unknown stage '%s' (stages of this run: %s)", path, stage,
        table.concat(list, ", "))
    end
    if type(hp) ~= "table" then return nil, string.format("%s: stage '%s' must be a table", path, stage) end
    local keys = {}
    for k in pairs(hp) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    for _, k in ipairs(keys) do
      if opts.keys and not opts.keys[k] then
        local list = {}
        for a in pairs(opts.keys) do list[#list + 1] = a end
        table.sort(list)
        return nil, string.format("%s: stage '%s': unknown setting '%s' (this backend takes: %s)", path,
          stage, k, table.concat(list, ", "))
      end
      local v = hp[k]
      if type(v) ~= "number" and type(v) ~= "string" and type(v) ~= "boolean" then
        return nil, string.format("%s: stage '%s': setting '%s' must be a number, string or boolean", path, stage, k)
      end
    end
  end
  return value
end

-- settings_for(settings, stage_name [, overrides]) -> hyperparameters of one stage: "*" first,
-- then the stage's own, then overrides (e.g. --n-epochs).
function M.settings_for(settings, name, overrides)
  local hp = {}
  for _, t in ipairs({ settings and settings["*"] or {}, settings and settings[name] or {}, overrides or {} }) do
    for k, v in pairs(t) do hp[k] = v end
  end
  return hp
end

return M
