-- Files and fine-tuning jobs for the OpenAI client (installed into openai.Client).
local util = require("introspect.core.util")
local apierror = require("introspect.client.apierror")

-- Percent-encodes a path segment or query value.
local function escape(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- Builds "?k=v&..." from a table of scalars (sorted keys; nil values skipped).
local function query(params)
  local keys = {}
  for k in pairs(params or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = escape(k) .. "=" .. escape(params[k]) end
  return #parts > 0 and "?" .. table.concat(parts, "&") or ""
end

-- multipart(fields, file) -> body, content_type. fields: list of {name, value}; file:
-- {name=, filename=, content=, content_type=}. The boundary is checked against the content.
local function multipart(fields, file)
  local n = 0
  local boundary
  repeat
    n = n + 1
    boundary = string.format("introspect-%08x-%d", (#file.content * 2654435761) % 0xffffffff, n)
  until not file.content:find(boundary, 1, true)
  local parts = {}
  for _, f in ipairs(fields) do
    parts[#parts + 1] = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" .. f[1]
      .. "\"\r\n\r\n" .. f[2] .. "\r\n"
  end
  parts[#parts + 1] = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" .. file.name
    .. "\"; filename=\"" .. file.filename:gsub('["\r\n]', "_") .. "\"\r\nContent-Type: "
    .. (file.content_type or "application/octet-stream") .. "\r\n\r\n" .. file.content .. "\r\n"
  parts[#parts + 1] = "--" .. boundary .. "--\r\n"
  return table.concat(parts), "multipart/form-data; boundary=" .. boundary
end

return function(Client, M)
  M.multipart = multipart
  M.query = query

  -- client:files_upload{purpose="fine-tune"|"batch", path= | content= [, filename=]} ->
  -- file object | nil, err
  function Client:files_upload(opts)
    opts = util.check_options("openai.files_upload", opts, { purpose = { "fine-tune", "batch" },
      path = "string", content = "string", filename = "string" })
    if not opts.purpose then error("openai.files_upload: 'purpose' is required", 2) end
    local content = opts.content
    if opts.path then
      local err
      content, err = util.read_file(opts.path)
      if not content then return nil, apierror.new({ type = "file_error", message = tostring(err) }) end
    end
    if not content then error("openai.files_upload: give 'path' or 'content'", 2) end
    local filename = opts.filename or (opts.path and opts.path:match("[^/]+$")) or "upload.jsonl"
    local body, ctype = multipart({ { "purpose", opts.purpose } },
      { name = "file", filename = filename, content = content, content_type = "application/jsonl" })
    return self:request("POST", "/files", body, { content_type = ctype })
  end

  -- client:files_list([{purpose=}]) -> list of file objects | nil, err
  function Client:files_list(opts)
    opts = util.check_options("openai.files_list", opts, { purpose = "string", limit = "integer",
      after = "string" })
    local doc, err = self:request("GET", "/files" .. query(opts))
    if not doc then return nil, err end
    return doc.data or {}
  end

  -- client:files_retrieve(id) -> file object | nil, err
  function Client:files_retrieve(id)
    return self:request("GET", "/files/" .. escape(id))
  end

  -- client:files_content(id) -> content string | nil, err
  function Client:files_content(id)
    return self:request("GET", "/files/" .. escape(id) .. "/content", nil, { raw = true })
  end

  -- client:files_delete(id) -> {id=, deleted=true} | nil, err
  function Client:files_delete(id)
    return self:request("DELETE", "/files/" .. escape(id))
  end

  -------------------------------------------------------------------------------------------
  -- Fine-tuning.

  local CREATE = { model = "string", training_file = "string", validation_file = "string",
    seed = "integer", suffix = "string", n_epochs = "any", batch_size = "any",
    learning_rate_multiplier = "any", metadata = "table" }

  -- client:fine_tune_create{model=, training_file=, [validation_file=, seed=, suffix=,
  -- n_epochs=, batch_size=, learning_rate_multiplier=, metadata=]} -> job | nil, err
  -- Hyperparameters go to method.supervised.hyperparameters (numbers or "auto").
  function Client:fine_tune_create(opts)
    opts = util.check_options("openai.fine_tune_create", opts, CREATE)
    if not opts.model or not opts.training_file then
      error("openai.fine_tune_create: 'model' and 'training_file' are required", 2)
    end
    local hp = {}
    for _, k in ipairs({ "n_epochs", "batch_size", "learning_rate_multiplier" }) do
      local v = opts[k]
      if v ~= nil and v ~= "auto" and type(v) ~= "number" then
        error("openai.fine_tune_create: '" .. k .. "' must be a number or \"auto\"", 2)
      end
      hp[k] = v
    end
    local body = { model = opts.model, training_file = opts.training_file,
      validation_file = opts.validation_file, seed = opts.seed, suffix = opts.suffix,
      metadata = opts.metadata }
    if next(hp) then body.method = { type = "supervised", supervised = { hyperparameters = hp } } end
    return self:request("POST", "/fine_tuning/jobs", body)
  end

  -- client:fine_tune_retrieve(id) -> job | nil, err
  function Client:fine_tune_retrieve(id)
    return self:request("GET", "/fine_tuning/jobs/" .. escape(id))
  end

  -- client:fine_tune_list([{limit=, after=}]) -> list of jobs, has_more | nil, err
  function Client:fine_tune_list(opts)
    opts = util.check_options("openai.fine_tune_list", opts, { limit = "integer", after = "string" })
    local doc, err = self:request("GET", "/fine_tuning/jobs" .. query(opts))
    if not doc then return nil, err end
    return doc.data or {}, doc.has_more == true
  end

  -- client:fine_tune_events(id [, {limit=, after=}]) -> events (newest first), has_more | nil, err
  function Client:fine_tune_events(id, opts)
    opts = util.check_options("openai.fine_tune_events", opts, { limit = "integer", after = "string" })
    local doc, err = self:request("GET", "/fine_tuning/jobs/" .. escape(id) .. "/events" .. query(opts))
    if not doc then return nil, err end
    return doc.data or {}, doc.has_more == true
  end

  -- client:fine_tune_cancel(id) -> job | nil, err
  function Client:fine_tune_cancel(id)
    return self:request("POST", "/fine_tuning/jobs/" .. escape(id) .. "/cancel")
  end

  -- client:fine_tune_new_events(id, seen) -> events not yet in the set `seen` (paging back until
  -- a seen one), oldest first, now marked seen | nil, err
  local function new_events(self, id, seen)
    local fresh, after = {}, nil
    for _ = 1, 100 do
      local page, more = self:fine_tune_events(id, { limit = 100, after = after })
      if not page then return nil, more end
      local hit_seen = false
      for _, ev in ipairs(page) do
        if seen[ev.id] then hit_seen = true break end
        fresh[#fresh + 1] = ev
      end
      if hit_seen or not more or #page == 0 then break end
      after = page[#page].id
    end
    local out = {}
    for i = #fresh, 1, -1 do
      seen[fresh[i].id] = true
      out[#out + 1] = fresh[i]
    end
    return out
  end

  Client.fine_tune_new_events = new_events

  local TERMINAL = { succeeded = true, failed = true, cancelled = true }

  -- Extracts a loss record from a metrics event, or nil.
  local function loss_of(ev)
    if type(ev.data) == "table" and ev.data.step then
      local rec = {}
      for k, v in pairs(ev.data) do if type(v) == "number" then rec[k] = v end end
      return rec
    end
    local step, loss = tostring(ev.message or ""):match("Step (%d+)/%d+: training loss=([%d%.]+)")
    if step then return { step = tonumber(step), train_loss = tonumber(loss) } end
    return nil
  end
  M.fine_tune_loss = loss_of

  -- client:fine_tune_wait(id [, {poll_interval=30, timeout=, on_event=, on_status=}]) ->
  -- job, info | nil, err
  -- Polls until the job succeeds, fails or is cancelled, streaming new events to
  -- on_event(event) in order. info = {hyperparameters=, losses={{step=, train_loss=, ...}},
  -- events=, status=, fine_tuned_model=, trained_tokens=, error= (structured, if it failed)}.
  function Client:fine_tune_wait(id, opts)
    opts = util.check_options("openai.fine_tune_wait", opts, { poll_interval = "number",
      timeout = "number", on_event = "function", on_status = "function" })
    local interval = opts.poll_interval or 30
    local seen, info = {}, { losses = {}, events = {} }
    local started, last_status = M.now(), nil
    while true do
      local job, err = self:fine_tune_retrieve(id)
      if not job then return nil, err end
      local evs, eerr = new_events(self, id, seen)
      if not evs then return nil, eerr end
      for _, ev in ipairs(evs) do
        info.events[#info.events + 1] = ev
        local l = loss_of(ev)
        if l then info.losses[#info.losses + 1] = l end
        if opts.on_event then opts.on_event(ev) end
      end
      if job.status ~= last_status then
        last_status = job.status
        if opts.on_status then opts.on_status(job) end
      end
      local hp = type(job.method) == "table" and type(job.method.supervised) == "table"
        and job.method.supervised.hyperparameters or job.hyperparameters
      info.hyperparameters = hp
      info.status, info.fine_tuned_model = job.status, job.fine_tuned_model
      info.trained_tokens = job.trained_tokens
      if type(job.error) == "table" and job.error.message then
        info.error = apierror.new({ type = "fine_tune_failed", code = type(job.error.code) == "string"
          and job.error.code or nil, message = "fine-tuning job " .. id .. " failed: " .. tostring(job.error.message) })
      end
      if TERMINAL[job.status] then
        if self.meter and type(job.trained_tokens) == "number" then
          info.cost = self.meter:add_training(job.model, job.trained_tokens)
        end
        return job, info
      end
      local waited = M.now() - started
      if opts.timeout and waited >= opts.timeout then
        return nil, apierror.new({ type = "timeout", message = string.format(
          "fine-tuning job %s still %s after %.0f s", id, tostring(job.status), waited) })
      end
      self.sleep(interval)
    end
  end
end
