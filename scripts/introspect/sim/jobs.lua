-- /v1/fine_tuning/jobs of the simulated API. A job trains at creation (deterministically, from
-- the uploaded files only) and reveals its progress by the clock: validating_files (first 10%
-- of job_duration), queued (to 20%), running (to 100%), then succeeded or failed.
local json = require("introspect.core.pyjson").compact
local hash = require("introspect.sim.hash")
local finetune = require("introspect.sim.finetune")
local files = require("introspect.sim.files")

local M = {}

local TERMINAL = { succeeded = true, failed = true, cancelled = true }

-- root_name(model) -> the base model's id (fine-tunes of fine-tunes keep the original base).
local function root_name(model)
  while model.parent do model = model.parent end
  return model.id
end

-- status(api, job, now) -> current status and the fraction of the run elapsed (0..1)
local function status(job, now)
  if job.cancelled_at then return "cancelled", 1 end
  local d = job.duration
  local e = now - job.created
  if job.final == "failed" and e >= 0.1 * d then return "failed", 1 end
  if e < 0.1 * d then return "validating_files", 0 end
  if e < 0.2 * d then return "queued", 0 end
  if e < d then return "running", (e - 0.2 * d) / (0.8 * d) end
  return job.final, 1
end

-- refresh(api, job) registers the fine-tuned model once the job has succeeded.
local function refresh(api, job)
  local st, frac = status(job, api:now())
  if st == "succeeded" and not job.revealed then
    job.revealed = true
    job.result.created = math.floor(job.created + job.duration)
    api:add_model(job.result, api.organization)
  end
  return st, frac
end
M.refresh = refresh

-- refresh_all(api) -> refreshes every job that may have finished.
function M.refresh_all(api)
  for _, id in ipairs(api.job_list) do
    local job = api.jobs[id]
    if job and not job.revealed and not job.cancelled_at then refresh(api, job) end
  end
end

-- object(api, job) -> the public job object
local function object(api, job, override_status)
  local st = override_status or refresh(api, job)
  local hp = job.hyperparameters
  local done = TERMINAL[st]
  local finished = json.null
  if done then finished = math.floor(job.cancelled_at or (job.created + job.duration)) end
  return {
    object = "fine_tuning.job", id = job.id, model = job.model, created_at = math.floor(job.created),
    finished_at = finished,
    fine_tuned_model = st == "succeeded" and job.fine_tuned_model or json.null,
    organization_id = "org-" .. api.organization, result_files = json.array(
      st == "succeeded" and job.result_file and { job.result_file } or {}),
    status = st, validation_file = job.validation_file or json.null, training_file = job.training_file,
    hyperparameters = hp, trained_tokens = st == "succeeded" and job.trained_tokens or json.null,
    error = st == "failed" and job.error or json.null,
    user_provided_suffix = job.suffix or json.null, seed = job.seed,
    estimated_finish = done and json.null or math.floor(job.created + job.duration),
    integrations = json.array(), metadata = job.metadata or json.null,
    method = { type = "supervised", supervised = { hyperparameters = hp } },
  }
end

local function check_hp(api, hp)
  if hp == nil or hp == json.null then return {} end
  if type(hp) ~= "table" then return nil, api:error(400, "'hyperparameters' must be an object.", nil,
    "hyperparameters") end
  local allowed = { n_epochs = { 1, 50 }, batch_size = { 1, 256 }, learning_rate_multiplier = { 1e-6, 10 } }
  for k, v in pairs(hp) do
    local range = allowed[k]
    if not range then
      return nil, api:error(400, "Unknown hyperparameter: '" .. tostring(k) .. "'.", nil, "hyperparameters." .. k)
    end
    if v ~= "auto" then
      local ok = type(v) == "number" and v >= range[1] and v <= range[2]
      if ok and k ~= "learning_rate_multiplier" then ok = math.tointeger(v) ~= nil end
      if not ok then
        return nil, api:error(400, string.format("Invalid value for hyperparameter '%s': must be 'auto' or "
          .. "a number in [%s, %s].", k, tostring(range[1]), tostring(range[2])), nil, "hyperparameters." .. k)
      end
    end
  end
  return hp
end

-- examples_of(api, file, what) -> the file's parsed examples | nil, err. Parsed once per file
-- (from the upload's decoded lines, which are then dropped) and kept with it in memory, never
-- journaled: a study fine-tunes each of its models on the same uploaded file, and training only
-- reads them (finetune.train, finetune.validation_loss).
local function examples_of(api, file, what)
  if file.examples then return file.examples end
  local ex, err = finetune.parse_examples(file.content, api.parser, what, file.objects)
  file.objects = nil
  if ex then file.examples = ex end
  return ex, err
end

-- train_job(api, job, parent) fills job.final/result/error from the uploaded files.
local function train_job(api, job, parent, hp_in)
  local tf, vf = api.files[job.training_file], api.files[job.validation_file or ""]
  local ex, err = examples_of(api, tf, "training file")
  if ex and ex.n < finetune.MIN_EXAMPLES then
    ex, err = nil, string.format("training file has %d example(s), at least %d are required", ex.n,
      finetune.MIN_EXAMPLES)
  end
  if not ex then
    job.final = "failed"
    job.error = { code = "invalid_training_file", message = "The job failed due to an invalid training file: "
      .. err, param = "training_file" }
    job.hyperparameters = finetune.resolve_hyperparameters(1, {})
    return
  end
  local vex
  if job.validation_file then
    vex, err = examples_of(api, vf, "validation file")
    if not vex then
      job.final = "failed"
      job.error = { code = "invalid_validation_file", message = "The job failed due to an invalid "
        .. "validation file: " .. err, param = "validation_file" }
      job.hyperparameters = finetune.resolve_hyperparameters(ex.n, hp_in)
      return
    end
  end
  local hp = finetune.resolve_hyperparameters(ex.n, hp_in)
  job.hyperparameters = hp
  local key = finetune.content_key(ex.content_hash, hp, job.seed)
  local model, metrics = finetune.train(parent, ex, hp, job.seed, job.fine_tuned_model, key)
  model.fingerprint = hash.hex(hash.string(job.fine_tuned_model), 8)
  metrics.valid_loss = vex and finetune.validation_loss(model, vex) or nil
  metrics.examples, metrics.other_examples = ex.n, ex.other
  job.final, job.result, job.metrics = "succeeded", model, metrics
  job.trained_tokens = metrics.trained_tokens
  local rows = { "step,train_loss,valid_loss,train_mean_token_accuracy" }
  local steps = math.ceil(ex.n / hp.batch_size) * hp.n_epochs
  for epoch = 1, hp.n_epochs do
    local f = epoch / hp.n_epochs
    local loss = metrics.train_loss_before + (metrics.train_loss - metrics.train_loss_before) * f
    rows[#rows + 1] = string.format("%d,%.6f,%s,%.4f", math.floor(steps * f), loss,
      metrics.valid_loss and string.format("%.6f", metrics.valid_loss) or "", math.exp(-loss))
  end
  job.result_file = files.add(api, table.concat(rows, "\n") .. "\n", "step_metrics.csv",
    "fine-tune-results").id
end

-- POST /v1/fine_tuning/jobs
function M.create(api, req)
  local body = json.decode(req.body or "")
  if type(body) ~= "table" then
    return api:error(400, "We could not parse the JSON body of your request.")
  end
  local known = { model = true, training_file = true, validation_file = true, hyperparameters = true,
                  method = true, seed = true, suffix = true, metadata = true, integrations = true }
  for k in pairs(body) do
    if not known[k] then return api:error(400, "Unrecognized request argument supplied: " .. tostring(k), nil, k) end
  end
  if type(body.model) ~= "string" then return api:error(400, "Missing required parameter: 'model'.", nil, "model") end
  local parent = api:model(body.model)
  if not parent then
    return api:error(404, "The model '" .. body.model .. "' does not exist or cannot be fine-tuned.", nil,
      "model", "model_not_found")
  end
  if type(body.training_file) ~= "string" then
    return api:error(400, "Missing required parameter: 'training_file'.", nil, "training_file")
  end
  for _, field in ipairs({ "training_file", "validation_file" }) do
    local id = body[field]
    if id ~= nil and id ~= json.null then
      local f = type(id) == "string" and api.files[id]
      if not f then
        return api:error(400, "invalid " .. field .. ": " .. tostring(id), nil, field, "invalid_file")
      end
      if f.purpose ~= "fine-tune" then
        return api:error(400, string.format("File %s has purpose '%s'; fine-tuning needs purpose 'fine-tune'.",
          id, f.purpose), nil, field, "invalid_file_purpose")
      end
    end
  end
  local hp_in = body.hyperparameters
  local method = body.method
  if method ~= nil and method ~= json.null then
    if type(method) ~= "table" or (method.type ~= nil and method.type ~= "supervised") then
      return api:error(400, "Only the 'supervised' fine-tuning method is supported by the simulated subject.",
        nil, "method.type")
    end
    local sup = method.supervised
    if type(sup) == "table" and sup.hyperparameters ~= nil then hp_in = sup.hyperparameters end
  end
  local hp, err_status, err_body = check_hp(api, hp_in)
  if not hp then return err_status, err_body end
  local suffix = body.suffix
  if suffix ~= nil and suffix ~= json.null then
    if type(suffix) ~= "string" or #suffix > 64 or not suffix:match("^[%w%-_]*$") then
      return api:error(400, "Invalid 'suffix': up to 64 letters, digits, '-' or '_'.", nil, "suffix")
    end
  else
    suffix = nil
  end
  local seed = body.seed
  if seed ~= nil and seed ~= json.null then
    seed = math.tointeger(seed)
    if not seed then return api:error(400, "Invalid type for 'seed': expected an integer.", nil, "seed") end
  else
    seed = hash.string(api.files[body.training_file].content) & 0x7fffffff
  end
  local id = api:new_id("ftjob-", 24, body.training_file)
  local job = { id = id, model = body.model, training_file = body.training_file,
    validation_file = body.validation_file ~= json.null and body.validation_file or nil,
    seed = seed, suffix = suffix, created = api:now(), duration = api.job_duration,
    metadata = type(body.metadata) == "table" and body.metadata or nil, base = root_name(parent),
    parent_id = parent.id }
  job.fine_tuned_model = string.format("ft:%s:%s:%s:%s", job.base, api.organization, suffix or "",
    hash.hex(hash.string(id), 8))
  train_job(api, job, parent, hp)
  api.jobs[id] = job
  api.job_list[#api.job_list + 1] = id
  api:save("job", job)
  return 200, json.encode(object(api, job, "validating_files"))
end

local function missing(api, id)
  return api:error(404, "Could not find fine-tune job: " .. id, nil, "fine_tuning_job_id", "fine_tune_not_found")
end

-- page(list, query, item) -> list JSON text (newest first, after=, limit=)
local function page(ids, query, item)
  local start = 1
  if query.after then
    for i, id in ipairs(ids) do if id == query.after then start = i + 1 end end
  end
  local limit = math.tointeger(tonumber(query.limit or "20")) or 20
  local data = json.array()
  for i = start, math.min(#ids, start + limit - 1) do data[#data + 1] = item(ids[i]) end
  return json.encode({ object = "list", data = data, has_more = start + limit - 1 < #ids })
end
M.page = page

-- GET /v1/fine_tuning/jobs
function M.list(api, _, _, query)
  local ids = {}
  for i = #api.job_list, 1, -1 do ids[#ids + 1] = api.job_list[i] end
  return 200, page(ids, query, function(id) return object(api, api.jobs[id]) end)
end

-- GET /v1/fine_tuning/jobs/{id}
function M.retrieve(api, _, id)
  local job = api.jobs[id]
  if not job then return missing(api, id) end
  return 200, json.encode(object(api, job))
end

-- POST /v1/fine_tuning/jobs/{id}/cancel
function M.cancel(api, _, id)
  local job = api.jobs[id]
  if not job then return missing(api, id) end
  local st = refresh(api, job)
  if TERMINAL[st] then
    return api:error(400, "Job has already completed with status " .. st .. ".", nil, "fine_tuning_job_id")
  end
  job.cancelled_at = api:now()
  api:save("job", job)
  return 200, json.encode(object(api, job))
end

-- events(api, job) -> list of events up to now, oldest first
local function events(api, job)
  local now = api:now()
  local st, frac = refresh(api, job)
  local list = {}
  local function add(t, level, message, etype, data)
    list[#list + 1] = { object = "fine_tuning.job.event", id = "ftevent-" .. hash.hex(
      hash.combine(hash.string(job.id), #list + 1), 16) .. hash.hex(hash.mix(#list + 1), 8),
      created_at = math.floor(t), level = level, message = message, type = etype or "message",
      data = data or {} }
  end
  local c, d = job.created, job.duration
  add(c, "info", "Created fine-tuning job: " .. job.id)
  add(c, "info", "Validating training file: " .. job.training_file)
  if st == "failed" then
    add(c + 0.1 * d, "error", "Fine-tuning job failed: " .. job.error.message)
    return list
  end
  if job.cancelled_at and now - c < 0.1 * d then
    add(job.cancelled_at, "info", "Fine-tuning job cancelled")
    return list
  end
  if now - c >= 0.1 * d or st ~= "validating_files" then
    add(c + 0.1 * d, "info", "Files validated, moving job to queued state")
  end
  if now - c >= 0.2 * d or st == "succeeded" then add(c + 0.2 * d, "info", "Fine-tuning job started") end
  local m, hp = job.metrics, job.hyperparameters
  if m and (st == "running" or st == "succeeded" or st == "cancelled") then
    local total = math.ceil(m.examples / hp.batch_size) * hp.n_epochs
    for epoch = 1, hp.n_epochs do
      local f = epoch / hp.n_epochs
      if st == "succeeded" or f <= frac then
        local loss = m.train_loss_before + (m.train_loss - m.train_loss_before) * f
        local step = math.floor(total * f)
        add(c + 0.2 * d + 0.8 * d * f, "info", string.format("Step %d/%d: training loss=%.4f", step, total, loss),
          "metrics", { step = step, train_loss = loss, total_steps = total,
          valid_loss = m.valid_loss or json.null, train_mean_token_accuracy = math.exp(-loss) })
      end
    end
  end
  if st == "succeeded" then
    add(c + d, "info", "New fine-tuned model created: " .. job.fine_tuned_model)
    add(c + d, "info", "The job has successfully completed")
  elseif st == "cancelled" then
    add(job.cancelled_at, "info", "Fine-tuning job cancelled")
  end
  return list
end

-- GET /v1/fine_tuning/jobs/{id}/events
function M.events(api, _, id, query)
  local job = api.jobs[id]
  if not job then return missing(api, id) end
  local list = events(api, job)
  local byid, ids = {}, {}
  for i = #list, 1, -1 do ids[#ids + 1] = list[i].id; byid[list[i].id] = list[i] end
  return 200, page(ids, query, function(eid) return byid[eid] end)
end

-- GET /v1/fine_tuning/jobs/{id}/checkpoints
function M.checkpoints(api, _, id, query)
  local job = api.jobs[id]
  if not job then return missing(api, id) end
  local ids, byid = {}, {}
  if refresh(api, job) == "succeeded" then
    local m, hp = job.metrics, job.hyperparameters
    local step = math.ceil(m.examples / hp.batch_size) * hp.n_epochs
    local cid = "ftckpt-" .. hash.hex(hash.string(job.id .. "ckpt"), 16)
    ids[1] = cid
    byid[cid] = { object = "fine_tuning.job.checkpoint", id = cid, created_at = math.floor(job.created + job.duration),
      fine_tuned_model_checkpoint = job.fine_tuned_model .. ":ckpt-step-" .. step, step_number = step,
      metrics = { step = step, train_loss = m.train_loss, valid_loss = m.valid_loss or json.null },
      fine_tuning_job_id = job.id }
  end
  return 200, page(ids, query, function(cid) return byid[cid] end)
end

M.object = object
return M
