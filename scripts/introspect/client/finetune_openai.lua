-- The OpenAI fine-tuning API (also the simulated subject's) behind client/finetune.lua's contract.
-- Files are uploaded once per content (found again by name and size), jobs carry the run's id
-- and stage key as metadata (found again after a crash), and a job is created by a request that
-- the transport never retries: after a dropped connection or a 5xx the job is looked up by its
-- metadata before anything is sent again. A preflight asks the API whether this organisation may
-- create jobs at all, before anything is uploaded (OpenAI's self-serve fine-tuning wind-down).
local util = require("introspect.core.util")
local sys = require("introspect.sys")
local openai = require("introspect.client.openai")
local finetune = require("introspect.client.finetune")

local M = {}

local Provider = {}
Provider.__index = Provider

-- The wind-down, in one line (docs/reproducing-the-paper.md has the timeline).
M.WIND_DOWN = "OpenAI's self-serve fine-tuning is winding down (closed to organisations that never "
  .. "fine-tuned since 7 May 2026 and to those without recent fine-tuned inference since 2 July 2026; "
  .. "new jobs stop for everyone on 6 January 2027): use --backend=together (Together AI) or "
  .. "--backend=local (open weights, docs/reproducing-the-paper.md); nothing was uploaded"

local STATUS = { validating_files = "queued", queued = "queued", running = "running",
  succeeded = "succeeded", failed = "failed", cancelled = "cancelled" }

-- new{client=, preflight=true, create_attempts=3} -> provider
function M.new(opts)
  opts = util.check_options("finetune_openai.new", opts, { client = "table", preflight = "boolean",
    create_attempts = "integer" })
  assert(opts.client, "finetune_openai.new: 'client' is required")
  return setmetatable({ name = "openai", client = opts.client, do_preflight = opts.preflight ~= false,
    create_attempts = opts.create_attempts or 3, seen = {}, losses = {}, preflighted = {},
    capabilities = { fine_tuning = true, from_checkpoint = false, seed = true, metadata = true,
      cancel_on_interrupt = false,
      hyperparameters = { n_epochs = true, batch_size = true, learning_rate_multiplier = true } } },
    Provider)
end

-- refused(err) -> true when an API error says this organisation may not create fine-tuning jobs.
function M.refused(err)
  if type(err) ~= "table" then return false end
  local text = (tostring(err.code or "") .. " " .. tostring(err.message or "")):lower()
  if err.status == 403 then return true end
  return (err.status == 400 or err.status == 404) and (text:find("not available", 1, true)
    or text:find("not allowed", 1, true) or text:find("permission", 1, true)
    or text:find("no longer", 1, true)) and true or false
end

-- p:preflight(stage) -> true | nil, one-line error. Sends a job creation that cannot succeed (a
-- training file id that does not exist) once, without retries: an organisation that may create
-- jobs gets "invalid training file", one that may not gets the refusal, before any upload.
function Provider:preflight(stage)
  if not self.do_preflight or self.preflighted[stage.parent] then return true end
  local _, err = self.client:request_once("POST", "/fine_tuning/jobs",
    { model = stage.parent, training_file = "file-introspect-preflight-does-not-exist" })
  if err and M.refused(err) then
    return nil, string.format("fine-tuning %s from %s: refused by the API (%s). %s", stage.name, stage.parent,
      tostring(err.message), M.WIND_DOWN)
  end
  if err and openai.fatal_error(err) then
    return nil, string.format("fine-tuning %s from %s: %s", stage.name, stage.parent, openai.fatal_message(err))
  end
  if err and err.status == 404 and (err.code == "model_not_found" or err.param == "model") then
    return nil, string.format("fine-tuning %s: the API has no model '%s' to fine-tune (%s)", stage.name,
      stage.parent, tostring(err.message))
  end
  self.preflighted[stage.parent] = true
  return true
end

-- upload(client, path) -> file id. Uploads one file once per content: named after the file and
-- its content hash, and found again by that name and size, so a re-run never uploads it twice.
local function upload(client, path)
  local content, rerr = util.read_file(path)
  if not content then error("fine-tuning: cannot read " .. path .. ": " .. tostring(rerr), 0) end
  local base = path:match("[^/]+$")
  local filename = base:gsub("%.jsonl$", "") .. "." .. sys.sha256(content):sub(1, 16) .. ".jsonl"
  local files = client:files_list({ purpose = "fine-tune" })
  for _, f in ipairs(type(files) == "table" and files or {}) do
    if type(f) == "table" and f.filename == filename and f.bytes == #content then return f.id end
  end
  local file, err = client:files_upload({ purpose = "fine-tune", content = content, filename = filename })
  if not file then error(string.format("uploading %s: %s", path, tostring(err)), 0) end
  return file.id
end
M.upload = upload

-- p:prepare(stage) -> {train=file id, validation=file id|nil}
function Provider:prepare(stage)
  return { train = upload(self.client, stage.files.train),
    validation = stage.files.validation and upload(self.client, stage.files.validation) or nil }
end

-- p:find(stage) -> job | nil: a live or finished job whose metadata names this run and stage.
function Provider:find(stage)
  if not stage.run_id then return nil end
  local jobs = self.client:fine_tune_list({ limit = 100 })
  for _, job in ipairs(type(jobs) == "table" and jobs or {}) do
    local meta = type(job) == "table" and type(job.metadata) == "table" and job.metadata or {}
    if meta.introspect_run == stage.run_id and meta.introspect_key == (stage.key or stage.name)
      and job.status ~= "failed" and job.status ~= "cancelled" then
      return { id = job.id, model = job.model }
    end
  end
  return nil
end

-- p:create(stage, prepared) -> job | nil, err. Sent without transport retries; after a
-- connection error or a 5xx the job is looked up by its metadata before creating again.
function Provider:create(stage, prepared)
  local hp = stage.hyperparameters or {}
  local body = { model = stage.parent, training_file = prepared.train, validation_file = prepared.validation,
    seed = stage.seed, suffix = stage.suffix and stage.suffix:gsub("_", "-"):sub(1, 64) or nil,
    metadata = stage.run_id and { introspect_run = stage.run_id, introspect_key = stage.key or stage.name } or nil }
  local h = {}
  for _, k in ipairs({ "n_epochs", "batch_size", "learning_rate_multiplier" }) do h[k] = hp[k] end
  if next(h) then body.method = { type = "supervised", supervised = { hyperparameters = h } } end
  return finetune.create_once(self, stage, function()
    local job, err = self.client:request_once("POST", "/fine_tuning/jobs", body)
    return job and { id = job.id, model = job.model }, err
  end)
end

-- p:poll(job) -> snap | nil, err
function Provider:poll(job)
  local j, err = self.client:fine_tune_retrieve(job.id)
  if not j then return nil, err end
  self.seen[job.id] = self.seen[job.id] or {}
  local evs, eerr = self.client:fine_tune_new_events(job.id, self.seen[job.id])
  if not evs then return nil, eerr end
  local losses = self.losses[job.id] or {}
  self.losses[job.id] = losses
  local texts = {}
  for _, ev in ipairs(evs) do
    local l = openai.fine_tune_loss(ev)
    if l then losses[#losses + 1] = l end
    texts[#texts + 1] = tostring(ev.message)
  end
  local hp = type(j.method) == "table" and type(j.method.supervised) == "table"
    and j.method.supervised.hyperparameters or j.hyperparameters
  local snap = { status = STATUS[j.status] or "running", detail = tostring(j.status), events = texts,
    hyperparameters = type(hp) == "table" and hp or nil, losses = losses,
    model = type(j.fine_tuned_model) == "string" and j.fine_tuned_model or nil,
    trained_tokens = type(j.trained_tokens) == "number" and j.trained_tokens or nil }
  if type(j.error) == "table" and type(j.error.message) == "string" then snap.error = j.error.message end
  if #losses > 0 and snap.status == "running" then
    snap.progress = string.format("step %s, training loss %s", tostring(losses[#losses].step),
      tostring(losses[#losses].train_loss))
  end
  if snap.status == "succeeded" and self.client.meter and snap.trained_tokens then
    self.client.meter:add_training(j.model, snap.trained_tokens)
  end
  return snap
end

-- p:cancel(job) -> true | nil, err
function Provider:cancel(job)
  local j, err = self.client:fine_tune_cancel(job.id)
  if not j then return nil, err end
  return true
end

return M
