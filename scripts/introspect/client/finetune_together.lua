-- Together AI's fine-tuning API behind client/finetune.lua's contract: files uploaded with
-- POST /files/upload (once per content, found again by name and size), LoRA jobs created with
-- POST /fine-tunes (a later stage continues the earlier stage's job with from_checkpoint), polled
-- with GET /fine-tunes/{id} (status and events), the result served under model_output_name.
-- Together jobs carry no metadata: a job is found again after a crash by its suffix, which holds
-- the stage name and the first 8 characters of the run id.
local util = require("introspect.core.util")
local sys = require("introspect.sys")
local openai = require("introspect.client.openai")
local finetune = require("introspect.client.finetune")

local M = {}

local Provider = {}
Provider.__index = Provider

local STATUS = { pending = "queued", queued = "queued", running = "running", compressing = "running",
  uploading = "running", completed = "succeeded", error = "failed", user_error = "failed",
  cancelled = "cancelled", cancel_requested = "cancelled" }

-- Hyperparameters and where they go: top level, or training_type (the LoRA settings).
local TOP = { n_epochs = true, batch_size = true, learning_rate = true, warmup_ratio = true, n_checkpoints = true,
  n_evals = true, lr_scheduler = true, max_grad_norm = true, weight_decay = true, train_on_inputs = true }
local LORA = { lora_r = true, lora_alpha = true, lora_dropout = true, lora_trainable_modules = true }

-- new{client=} -> provider (client: an openai client whose base URL is Together's /v1)
function M.new(opts)
  opts = util.check_options("finetune_together.new", opts, { client = "table", create_attempts = "integer" })
  assert(opts.client, "finetune_together.new: 'client' is required")
  local accepted = {}
  for k in pairs(TOP) do accepted[k] = true end
  for k in pairs(LORA) do accepted[k] = true end
  return setmetatable({ name = "together", client = opts.client, create_attempts = opts.create_attempts or 3,
    seen = {},
    capabilities = { fine_tuning = true, from_checkpoint = true, seed = false, metadata = false,
      cancel_on_interrupt = false, hyperparameters = accepted } }, Provider)
end

-- The suffix that names a stage's job (Together allows up to 40 characters).
local function suffix_of(stage)
  local s = (stage.suffix or stage.name):gsub("[^%w%-]", "-"):sub(1, 30)
  if stage.run_id then s = s .. "-" .. stage.run_id:sub(1, 8) end
  return s
end
M.suffix_of = suffix_of

-- p:preflight(stage) -> true: Together has no refusal to ask about before uploading.
function Provider.preflight() return true end

-- Uploads a file once per content.
local function upload(self, path)
  local content, rerr = util.read_file(path)
  if not content then error("fine-tuning: cannot read " .. path .. ": " .. tostring(rerr), 0) end
  local filename = path:match("[^/]+$"):gsub("%.jsonl$", "") .. "." .. sys.sha256(content):sub(1, 16) .. ".jsonl"
  local list = self.client:request("GET", "/files")
  for _, f in ipairs(type(list) == "table" and type(list.data) == "table" and list.data or {}) do
    if type(f) == "table" and f.filename == filename and f.bytes == #content then return f.id end
  end
  local body, ctype = openai.multipart({ { "purpose", "fine-tune" }, { "file_name", filename } },
    { name = "file", filename = filename, content = content, content_type = "application/jsonl" })
  local f, err = self.client:request("POST", "/files/upload", body, { content_type = ctype })
  if not f then error(string.format("uploading %s to Together: %s", path, tostring(err)), 0) end
  return f.id
end

function Provider:prepare(stage)
  return { train = upload(self, stage.files.train),
    validation = stage.files.validation and upload(self, stage.files.validation) or nil }
end

-- p:find(stage) -> job | nil: a job whose suffix names this run and stage, not failed.
function Provider:find(stage)
  if not stage.run_id then return nil end
  local doc = self.client:request("GET", "/fine-tunes")
  local want = suffix_of(stage)
  for _, j in ipairs(type(doc) == "table" and type(doc.data) == "table" and doc.data or {}) do
    if type(j) == "table" and j.suffix == want and STATUS[j.status] ~= "failed" and STATUS[j.status] ~= "cancelled" then
      return { id = j.id, model = j.model, output = j.model_output_name }
    end
  end
  return nil
end

-- p:create(stage, prepared) -> job | nil, err. A stage with `from` continues that stage's job
-- (from_checkpoint = its job id) on the same base model.
function Provider:create(stage, prepared)
  local body = { model = stage.parent, training_file = prepared.train, validation_file = prepared.validation,
    suffix = suffix_of(stage), training_type = { type = "Lora" } }
  if stage.from then
    body.from_checkpoint = stage.from.job.id
    body.model = stage.from.job.model
  end
  for k, v in pairs(stage.hyperparameters or {}) do
    if LORA[k] then body.training_type[k] = v else body[k] = v end
  end
  if prepared.validation and body.n_evals == nil then body.n_evals = body.n_epochs or 1 end
  return finetune.create_once(self, stage, function()
    local j, err = self.client:request_once("POST", "/fine-tunes", body)
    return j and { id = j.id, model = j.model, output = j.model_output_name }, err
  end)
end

-- p:poll(job) -> snap | nil, err
function Provider:poll(job)
  local j, err = self.client:request("GET", "/fine-tunes/" .. job.id)
  if not j then return nil, err end
  local events = type(j.events) == "table" and j.events or {}
  local seen = self.seen[job.id] or 0
  local texts, losses = {}, {}
  for i, ev in ipairs(events) do
    if type(ev) == "table" then
      if i > seen then texts[#texts + 1] = tostring(ev.message) end
      if type(ev.training_loss) == "number" then
        losses[#losses + 1] = { step = ev.step, train_loss = ev.training_loss }
      end
    end
  end
  self.seen[job.id] = #events
  local snap = { status = STATUS[j.status] or "running", detail = tostring(j.status), events = texts,
    losses = losses, model = j.status == "completed" and j.model_output_name or nil,
    trained_tokens = type(j.token_count) == "number" and j.token_count or nil,
    hyperparameters = {} }
  for _, k in ipairs({ "n_epochs", "batch_size", "learning_rate", "from_checkpoint" }) do
    local v = j[k]
    if type(v) == "number" or type(v) == "string" then snap.hyperparameters[k] = v end
  end
  if type(j.training_type) == "table" then
    for k, v in pairs(j.training_type) do
      if type(v) == "number" or type(v) == "string" then snap.hyperparameters[k] = v end
    end
  end
  if type(j.error) == "string" then snap.error = j.error end
  if #losses > 0 and snap.status == "running" then
    snap.progress = string.format("step %s, training loss %s", tostring(losses[#losses].step),
      tostring(losses[#losses].train_loss))
  end
  return snap
end

function Provider:cancel(job)
  local j, err = self.client:request("POST", "/fine-tunes/" .. job.id .. "/cancel")
  if not j then return nil, err end
  return true
end

return M
