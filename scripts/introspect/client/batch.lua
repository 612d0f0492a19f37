-- The Batch API for the OpenAI client (installed into openai.Client): write the input JSONL
-- with custom_ids, upload, create, poll, download output and error files, join by custom_id,
-- resubmit what failed or expired.
local cjson = require("cjson")
local util = require("introspect.core.util")
local pyjson = require("introspect.core.pyjson")
local apierror = require("introspect.client.apierror")

-- Re-encodes a decoded JSON value exactly (floats as shortest round-trip repr): cjson.null
-- becomes pyjson.null.
local function reencode(v)
  local function conv(x)
    if x == cjson.null then return pyjson.null end
    if type(x) ~= "table" then return x end
    local t = {}
    for k, val in pairs(x) do t[k] = conv(val) end
    return t
  end
  return pyjson.encode(conv(v))
end

local TERMINAL = { completed = true, failed = true, expired = true, cancelled = true }

return function(Client, M)
  -- batch_input(bodies [, {custom_ids=, endpoint="/v1/chat/completions"}]) -> jsonl, ids
  -- One line per body: {"custom_id": ..., "method": "POST", "url": endpoint, "body": body}.
  -- custom_ids default to "req-1", "req-2", ...; duplicates raise.
  function M.batch_input(bodies, opts)
    opts = util.check_options("openai.batch_input", opts, { custom_ids = "table", endpoint = "string" })
    local endpoint = opts.endpoint or "/v1/chat/completions"
    local lines, ids, seen = {}, {}, {}
    for i, body in ipairs(bodies) do
      local id = opts.custom_ids and opts.custom_ids[i] or ("req-" .. i)
      if type(id) ~= "string" then error("openai.batch_input: custom_id " .. i .. " must be a string", 2) end
      if seen[id] then error("openai.batch_input: duplicate custom_id '" .. id .. "'", 2) end
      seen[id] = true
      ids[i] = id
      lines[i] = pyjson.encode(pyjson.object({ "custom_id", id, "method", "POST", "url", endpoint,
        "body", body })) .. "\n"
    end
    return table.concat(lines), ids
  end

  -- batch_join(output_text, error_text) -> map custom_id -> {status=, response=, error=, body=}
  -- response is the decoded body of a 2xx line; error a structured error otherwise. Raises on a
  -- line that is not JSON, naming the file and line.
  function M.batch_join(output_text, error_text)
    local out = {}
    for _, part in ipairs({ { "output", output_text }, { "error", error_text } }) do
      local n = 0
      for line in (part[2] or ""):gmatch("[^\n]+") do
        n = n + 1
        local ok, rec = pcall(cjson.decode, line)
        if not ok or type(rec) ~= "table" or type(rec.custom_id) ~= "string" then
          error(string.format("openai.batch_join: %s file line %d: not a batch result (%s)", part[1], n,
            ok and "no custom_id" or tostring(rec)), 2)
        end
        local res = type(rec.response) == "table" and rec.response or nil
        local status = res and math.tointeger(res.status_code)
        local entry = { status = status, body = res and res.body }
        if status and status >= 200 and status < 300 and type(res.body) == "table" then
          entry.response = res.body
        else
          local e = type(rec.error) == "table" and rec.error
            or (res and type(res.body) == "table" and type(res.body.error) == "table" and res.body.error) or {}
          entry.error = apierror.new({ status = status, type = type(e.type) == "string" and e.type or "batch_error",
            code = type(e.code) == "string" and e.code or nil,
            message = type(e.message) == "string" and e.message or "batch request failed",
            request_id = res and type(res.request_id) == "string" and res.request_id or nil })
        end
        out[rec.custom_id] = entry
      end
    end
    return out
  end

  -- client:batches_create{input_file_id=, endpoint=, completion_window="24h", metadata=}
  -- -> batch | nil, err
  function Client:batches_create(opts)
    opts = util.check_options("openai.batches_create", opts, { input_file_id = "string",
      endpoint = "string", completion_window = "string", metadata = "table" })
    if not opts.input_file_id then error("openai.batches_create: 'input_file_id' is required", 2) end
    return self:request("POST", "/batches", { input_file_id = opts.input_file_id,
      endpoint = opts.endpoint or "/v1/chat/completions",
      completion_window = opts.completion_window or "24h", metadata = opts.metadata })
  end

  -- client:batches_create_once{...} -> batch | nil, err
  -- As batches_create, but never duplicated by a retry: the request is sent without transport
  -- retries, and after a dropped connection or a 5xx the batch is looked up by its input file
  -- (one batch per uploaded input file) before sending again (3 attempts).
  function Client:batches_create_once(opts)
    local body = { input_file_id = opts.input_file_id, endpoint = opts.endpoint or "/v1/chat/completions",
      completion_window = opts.completion_window or "24h", metadata = opts.metadata }
    local err
    for attempt = 1, 3 do
      local b
      b, err = self:request_once("POST", "/batches", body)
      if b then return b end
      if not (err.type == "connection_error" or (err.status or 0) >= 500 or err.status == 408) then
        return nil, err
      end
      local list = self:batches_list({ limit = 100 })
      for _, x in ipairs(type(list) == "table" and list or {}) do
        if type(x) == "table" and x.input_file_id == opts.input_file_id then return x end
      end
      if attempt < 3 then self.sleep(math.min(30, 2 ^ attempt)) end
    end
    return nil, err
  end

  -- client:batches_retrieve(id) / batches_cancel(id) -> batch | nil, err
  function Client:batches_retrieve(id)
    return self:request("GET", "/batches/" .. id)
  end
  function Client:batches_cancel(id)
    return self:request("POST", "/batches/" .. id .. "/cancel")
  end

  -- client:batches_list([{limit=, after=}]) -> list, has_more | nil, err
  function Client:batches_list(opts)
    opts = util.check_options("openai.batches_list", opts, { limit = "integer", after = "string" })
    local doc, err = self:request("GET", "/batches" .. M.query(opts))
    if not doc then return nil, err end
    return doc.data or {}, doc.has_more == true
  end

  -- client:batch_wait(id [, {poll_interval=60, timeout=, on_status=}]) -> batch | nil, err
  function Client:batch_wait(id, opts)
    opts = util.check_options("openai.batch_wait", opts, { poll_interval = "number", timeout = "number",
      on_status = "function" })
    local started, last = M.now(), nil
    while true do
      local b, err = self:batches_retrieve(id)
      if not b then return nil, err end
      if b.status ~= last then
        last = b.status
        if opts.on_status then opts.on_status(b) end
      end
      if TERMINAL[b.status] then return b end
      local waited = M.now() - started
      if opts.timeout and waited >= opts.timeout then
        return nil, apierror.new({ type = "timeout", message = string.format("batch %s still %s after %.0f s",
          id, tostring(b.status), waited) })
      end
      self.sleep(opts.poll_interval or 60)
    end
  end

  -- Runs one batch of (body, custom_id) pairs to its end; returns the joined map.
  local function run_once(self, bodies, ids, opts)
    local text = M.batch_input(bodies, { custom_ids = ids })
    local file, err = self:files_upload({ purpose = "batch", content = text, filename = "batch_input.jsonl" })
    if not file then return nil, err end
    local b
    b, err = self:batches_create_once({ input_file_id = file.id, completion_window = opts.completion_window,
      metadata = opts.metadata })
    if not b then return nil, err end
    b, err = self:batch_wait(b.id, { poll_interval = opts.poll_interval, timeout = opts.timeout,
      on_status = opts.on_status })
    if not b then return nil, err end
    if b.status == "failed" then
      local first = type(b.errors) == "table" and type(b.errors.data) == "table" and b.errors.data[1] or {}
      local why = type(first.message) == "string" and (": " .. first.message) or ""
      local line = math.tointeger(first.line)
      if line then why = why .. " (input line " .. line .. ")" end
      return nil, apierror.new({ type = "batch_failed", code = type(first.code) == "string" and first.code or nil,
        message = "batch " .. b.id .. " failed" .. why }), b
    end
    local out_text, err_text = "", ""
    if type(b.output_file_id) == "string" then
      out_text, err = self:files_content(b.output_file_id)
      if not out_text then return nil, err end
    end
    if type(b.error_file_id) == "string" then
      err_text, err = self:files_content(b.error_file_id)
      if not err_text then return nil, err end
    end
    return M.batch_join(out_text, err_text), b
  end

  -- client:batch_run(bodies [, opts]) -> entries, info | nil, err
  -- Sends chat bodies through the Batch API: responses already in the store are reused, the
  -- rest go into a batch; lines that failed or expired are resubmitted (max_resubmits, 1).
  -- entries (same order as bodies) are {response=, error=, cached=, custom_id=, sample=};
  -- info = {batches={ids}, resubmitted=n, chunks=n, split=n}. opts: custom_ids, poll_interval
  -- (60), timeout, completion_window, metadata, on_status(batch), max_resubmits, samples,
  -- enqueued_token_limit (default client.enqueued_token_limit: the phase goes in consecutive
  -- batches of at most this many estimated tokens, each finished before the next is created).
  function Client:batch_run(bodies, opts)
    opts = util.check_options("openai.batch_run", opts, { custom_ids = "table", poll_interval = "number",
      timeout = "number", completion_window = "string", metadata = "table", on_status = "function",
      max_resubmits = "integer", samples = "table", enqueued_token_limit = "integer" })
    local items = self:_chat_items(bodies, opts.samples, "openai.batch_run")
    local entries, todo = {}, {}
    for i, item in ipairs(items) do
      item.custom_id = opts.custom_ids and opts.custom_ids[i] or ("req-" .. i)
      local e = self:_cached(item)
      if e then
        e.custom_id = item.custom_id
        entries[i] = e
      else
        todo[#todo + 1] = i
      end
    end
    self:_flush_store()   -- no batch transaction held open while the batch runs
    local info = { batches = {}, resubmitted = 0 }
    if #todo > 0 and self.meter then
      local list = {}
      for k, i in ipairs(todo) do list[k] = items[i].body end
      local ok, err = self.meter:check(self.meter:estimate_chat(list, { batch = true }))
      if not ok then error(err, 2) end
    end
    local limit = opts.enqueued_token_limit or self.enqueued_token_limit
    -- Runs the items `list` as one batch, or as consecutive batches of at most `limit` estimated
    -- tokens each (an organisation's enqueued-token limit); a batch the API fails with
    -- token_limit_exceeded is split in two and run again. Returns the joined map.
    local function run_split(list, cap)
      local chunks, cur, tokens = {}, {}, 0
      for _, i in ipairs(list) do
        if cap and #cur > 0 and tokens + items[i].tokens > cap then
          chunks[#chunks + 1], cur, tokens = cur, {}, 0
        end
        cur[#cur + 1] = i
        tokens = tokens + items[i].tokens
      end
      if #cur > 0 then chunks[#chunks + 1] = cur end
      local joined = {}
      for _, chunk in ipairs(chunks) do
        local bodies_now, ids_now, total = {}, {}, 0
        for k, i in ipairs(chunk) do
          bodies_now[k], ids_now[k] = items[i].body, items[i].custom_id
          total = total + items[i].tokens
        end
        local j, berr, failed = run_once(self, bodies_now, ids_now, opts)
        if not j and type(berr) == "table" and berr.code == "token_limit_exceeded" and #chunk > 1 then
          info.split = (info.split or 0) + 1
          if failed then info.batches[#info.batches + 1] = failed.id end
          j, berr = run_split(chunk, math.max(1, total // 2))
          if not j then return nil, berr end
        elseif not j then
          return nil, berr
        else
          info.batches[#info.batches + 1] = berr.id
        end
        for k, v in pairs(j) do joined[k] = v end
      end
      info.chunks = (info.chunks or 0) + #chunks
      return joined, { id = info.batches[#info.batches] }
    end
    for round = 0, opts.max_resubmits or 1 do
      if #todo == 0 then break end
      if round > 0 then info.resubmitted = info.resubmitted + #todo end
      local joined, b = run_split(todo, limit)
      if not joined then return nil, b end
      local again = {}
      for _, i in ipairs(todo) do
        local item = items[i]
        local j = joined[item.custom_id]
        if j and j.response then
          local body = reencode(j.response)
          local res = { status = j.status, body = body, attempts = 1 }
          local e = self:_chat_entry(item, res, true)
          e.custom_id = item.custom_id
          entries[i] = e
        else
          entries[i] = { error = j and j.error or apierror.new({ type = "batch_missing",
            message = "no result for custom_id " .. item.custom_id .. " in batch " .. b.id }),
            custom_id = item.custom_id, sample = item.sample, cached = false }
          again[#again + 1] = i
        end
      end
      todo = again
    end
    self:_flush_store()
    return entries, info
  end
end
