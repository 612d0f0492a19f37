-- A stand-in for Together AI's files, fine-tuning and chat endpoints, built from its public API
-- reference (docs.together.ai: POST /v1/files/upload, POST /v1/fine-tunes with training_type
-- {type="Lora", lora_r, ...} and from_checkpoint, GET /v1/fine-tunes/{id} with status and events,
-- the result served under model_output_name, chat at /v1/chat/completions), answering with the
-- simulated subject: each Together call is translated to the subject's OpenAI-style API.
--   together_standin.new{sim={sim.api options}, key=} -> object with handle(req) -> res
-- Conventions of the stand-in (the real service's are its own): learning_rate maps to the
-- subject's learning_rate_multiplier as learning_rate / 1e-5; statuses pending, queued, running,
-- completed, error, cancelled.
local sim = require("introspect.sim")
local json = require("introspect.core.pyjson").compact
local util = require("introspect.core.util")

local M = {}

local Standin = {}
Standin.__index = Standin

function M.new(opts)
  opts = util.check_options("together_standin.new", opts, { sim = "table", key = "string" })
  return setmetatable({ api = sim.api(opts.sim or {}), key = opts.key, jobs = {}, job_list = {}, by_output = {},
    counts = {}, created = {} }, Standin)
end

local function reply(status, doc)
  return { status = status, headers = { ["content-type"] = "application/json" }, body = json.encode(doc) }
end

local function err(status, message, etype, param)
  return reply(status, { error = { message = message, type = etype or "invalid_request_error",
    param = param or json.null, code = json.null } })
end

-- Calls the subject's OpenAI-style API; returns status, decoded body.
function Standin:inner(method, path, body, headers)
  local res = self.api:handle({ method = method, path = path, body = type(body) == "table" and json.encode(body)
    or body, headers = headers or { ["content-type"] = "application/json" } })
  return res.status, json.decode(res.body or "") or {}, res
end

local STATUS = { validating_files = "pending", queued = "queued", running = "running", succeeded = "completed",
  failed = "error", cancelled = "cancelled" }

local function iso(t) return os.date("!%Y-%m-%dT%H:%M:%S.000Z", math.floor(t)) end

-- The Together job object of a stand-in job (refreshing its state from the subject).
function Standin:object(job)
  local _, inner = self:inner("GET", "/v1/fine_tuning/jobs/" .. job.inner_id)
  local status = STATUS[inner.status] or "running"
  local events = json.array()
  local _, evs = self:inner("GET", "/v1/fine_tuning/jobs/" .. job.inner_id .. "/events?limit=100")
  local list = type(evs.data) == "table" and evs.data or {}
  for i = #list, 1, -1 do
    local ev = list[i]
    local etype = ev.type == "metrics" and "epoch_complete" or "message"
    events[#events + 1] = { object = "fine-tune-event", created_at = iso(ev.created_at), message = ev.message,
      type = etype, level = ev.level == "error" and "error" or "info",
      step = type(ev.data) == "table" and ev.data.step or json.null,
      training_loss = type(ev.data) == "table" and ev.data.train_loss or json.null }
  end
  if status == "completed" then self.by_output[job.model_output_name] = inner.fine_tuned_model end
  return { id = job.id, object = "finetune", status = status, model = job.model,
    model_output_name = job.model_output_name, training_file = job.training_file,
    validation_file = job.validation_file or json.null, n_epochs = job.n_epochs, batch_size = job.batch_size,
    learning_rate = job.learning_rate, suffix = job.suffix or json.null,
    from_checkpoint = job.from_checkpoint or json.null, training_type = job.training_type,
    created_at = iso(job.created), updated_at = iso(job.created), events = events,
    token_count = type(inner.trained_tokens) == "number" and inner.trained_tokens or json.null,
    error = inner.status == "failed" and type(inner.error) == "table" and inner.error.message or json.null }
end

local CREATE = { training_file = true, validation_file = true, model = true, n_epochs = true, n_checkpoints = true,
  n_evals = true, batch_size = true, learning_rate = true, lr_scheduler = true, warmup_ratio = true,
  max_grad_norm = true, weight_decay = true, suffix = true, wandb_api_key = true, training_type = true,
  training_method = true, from_checkpoint = true, train_on_inputs = true, random_seed = true }

-- POST /v1/fine-tunes
function Standin:create(body)
  if type(body) ~= "table" then return err(400, "Request body must be JSON") end
  for k in pairs(body) do
    if not CREATE[k] then return err(400, "Unknown field: " .. tostring(k), nil, k) end
  end
  if type(body.training_file) ~= "string" then return err(400, "training_file is required", nil, "training_file") end
  if type(body.model) ~= "string" and not body.from_checkpoint then
    return err(400, "model is required", nil, "model")
  end
  local parent = body.model
  if body.from_checkpoint ~= nil then
    local ref = tostring(body.from_checkpoint):gsub(":%d+$", "")
    local from = self.jobs[ref]
    if not from then
      for _, j in pairs(self.jobs) do if j.model_output_name == ref then from = j end end
    end
    if not from then
      return err(404, "Checkpoint not found: " .. tostring(body.from_checkpoint), nil, "from_checkpoint")
    end
    local st, inner = self:inner("GET", "/v1/fine_tuning/jobs/" .. from.inner_id)
    if st ~= 200 or inner.status ~= "succeeded" then
      return err(400, "Checkpoint job " .. from.id .. " has not completed", nil, "from_checkpoint")
    end
    if body.model ~= nil and body.model ~= from.model then
      return err(400, "model must match the checkpoint's base model " .. from.model, nil, "model")
    end
    parent = inner.fine_tuned_model
  end
  local tt = body.training_type
  if tt ~= nil and (type(tt) ~= "table" or (tt.type ~= "Lora" and tt.type ~= "Full")) then
    return err(400, "training_type.type must be 'Lora' or 'Full'", nil, "training_type")
  end
  local hp = { n_epochs = body.n_epochs or 1, batch_size = body.batch_size ~= "max" and body.batch_size or nil }
  if type(body.learning_rate) == "number" then hp.learning_rate_multiplier = body.learning_rate / 1e-5 end
  local inner_body = { model = parent, training_file = body.training_file,
    validation_file = body.validation_file, suffix = body.suffix,
    seed = math.tointeger(body.random_seed), method = { type = "supervised", supervised = { hyperparameters = hp } } }
  local st, inner = self:inner("POST", "/v1/fine_tuning/jobs", inner_body)
  if st ~= 200 then
    return err(st, type(inner.error) == "table" and inner.error.message or "invalid request", nil,
      type(inner.error) == "table" and inner.error.param or nil)
  end
  local n = #self.job_list + 1
  local id = string.format("ft-%08x-%04x-4%03x-a%03x-%012x", n * 2654435761 % 0xffffffff, n, n, n, n)
  local base = body.model or self.jobs[tostring(body.from_checkpoint):gsub(":%d+$", "")].model
  local job = { id = id, inner_id = inner.id, model = base, training_file = body.training_file,
    validation_file = body.validation_file, n_epochs = hp.n_epochs, batch_size = body.batch_size or "max",
    learning_rate = body.learning_rate or 1e-5, suffix = body.suffix, from_checkpoint = body.from_checkpoint,
    training_type = tt or { type = "Lora", lora_r = 8, lora_alpha = 8, lora_dropout = 0 },
    created = self.api:now(),
    model_output_name = string.format("standin/%s-%s-%s", base:gsub("^.*/", ""), body.suffix or "ft", id:sub(4, 11)) }
  self.jobs[id] = job
  self.job_list[#self.job_list + 1] = id
  self.created[#self.created + 1] = { id = id, body = body }
  return reply(200, self:object(job))
end

function Standin:handle(req)
  local path = (req.path or "/"):gsub("%?.*$", "")
  local method = req.method or "GET"
  self.counts[method .. " " .. path] = (self.counts[method .. " " .. path] or 0) + 1
  if self.key and (req.headers or {}).authorization ~= "Bearer " .. self.key then
    return err(401, "Invalid API key provided", "invalid_api_key")
  end
  if method == "POST" and path == "/v1/files/upload" then
    local res = self.api:handle({ method = "POST", path = "/v1/files", headers = req.headers, body = req.body })
    return res
  elseif method == "GET" and (path == "/v1/files" or path:match("^/v1/files/[^/]+$")) then
    return self.api:handle(req)
  elseif method == "POST" and path == "/v1/fine-tunes" then
    return self:create(json.decode(req.body or ""))
  elseif method == "GET" and path == "/v1/fine-tunes" then
    local data = json.array()
    for _, id in ipairs(self.job_list) do data[#data + 1] = self:object(self.jobs[id]) end
    return reply(200, { data = data })
  end
  local id, tail = path:match("^/v1/fine%-tunes/([^/]+)(.*)$")
  if id then
    local job = self.jobs[id]
    if not job then return err(404, "Fine-tune job not found: " .. id) end
    if method == "GET" and tail == "" then return reply(200, self:object(job)) end
    if method == "GET" and tail == "/events" then return reply(200, { data = self:object(job).events }) end
    if method == "POST" and tail == "/cancel" then
      self:inner("POST", "/v1/fine_tuning/jobs/" .. job.inner_id .. "/cancel")
      return reply(200, self:object(job))
    end
  end
  if method == "POST" and path == "/v1/chat/completions" then
    local body = json.decode(req.body or "")
    if type(body) ~= "table" then return err(400, "Request body must be JSON") end
    local served = body.model
    if type(served) == "string" and self.by_output[served] == nil then
      for _, j in pairs(self.jobs) do if j.model_output_name == served then self:object(j) end end
    end
    return require("servers.chat_as")(self.api, req, body, type(served) == "string" and self.by_output[served] or nil)
  elseif method == "GET" and path == "/v1/models" then
    local list = json.array()
    for _, mid in ipairs(self.api.model_list) do
      if not mid:match("^ft:") then list[#list + 1] = { id = mid, object = "model", type = "chat" } end
    end
    for _, jid in ipairs(self.job_list) do
      local j = self.jobs[jid]
      if self.by_output[j.model_output_name] then
        list[#list + 1] = { id = j.model_output_name, object = "model", type = "chat" }
      end
    end
    return reply(200, list)
  end
  return err(404, "Not found: " .. method .. " " .. path)
end

return M
