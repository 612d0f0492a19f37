-- /v1/batches of the simulated API. A batch runs every request at creation (through the same
-- chat handler, without fault injection) and reveals progress by the clock: validating (first
-- 10% of batch_duration), in_progress (to 90%), finalizing (to 100%), completed.
local json = require("introspect.core.pyjson").compact
local chat = require("introspect.sim.chat")
local files = require("introspect.sim.files")
local hash = require("introspect.sim.hash")
local lines = require("introspect.core.util").lines

local M = {}

local TERMINAL = { completed = true, failed = true, cancelled = true, expired = true }

local function status(batch, now)
  if batch.failed then return "failed" end
  if batch.cancelled_at then
    return now - batch.cancelled_at >= 0.1 * batch.duration and "cancelled" or "cancelling"
  end
  local e, d = now - batch.created, batch.duration
  if e < 0.1 * d then return "validating" end
  if e < 0.9 * d then return "in_progress" end
  if e < d then return "finalizing" end
  return "completed"
end

-- finish(api, batch, upto) writes the output and error files from the first `upto` results.
local function finish(api, batch, upto)
  if batch.output_file_id or batch.error_file_id then return end
  local out, err = {}, {}
  for i = 1, upto do
    local r = batch.results[i]
    if r.ok then out[#out + 1] = r.line else err[#err + 1] = r.line end
  end
  if #out > 0 then
    batch.output_file_id = files.add(api, table.concat(out, "\n") .. "\n", "batch_" .. batch.id .. "_output.jsonl",
      "batch_output").id
  end
  if #err > 0 then
    batch.error_file_id = files.add(api, table.concat(err, "\n") .. "\n", "batch_" .. batch.id .. "_error.jsonl",
      "batch_output").id
  end
  batch.counts = { total = #batch.results, completed = #out, failed = #err }
  batch.results = nil
  api:save("batch", batch)
end

local function refresh(api, batch)
  local st = status(batch, api:now())
  if st == "completed" then finish(api, batch, #(batch.results or {}))
  elseif st == "cancelled" and batch.results then finish(api, batch, batch.done_at_cancel or 0) end
  return st
end

local function ts(x) return x and math.floor(x) or json.null end

local function object(api, batch)
  local st = refresh(api, batch)
  local c, d = batch.created, batch.duration
  local counts = batch.counts or { total = batch.total or 0, completed = 0, failed = 0 }
  if st == "in_progress" or st == "finalizing" then
    local frac = math.min(1, (api:now() - c - 0.1 * d) / (0.8 * d))
    counts = { total = batch.total, completed = math.floor(batch.ok_count * frac),
               failed = math.floor((batch.total - batch.ok_count) * frac) }
  end
  return {
    id = batch.id, object = "batch", endpoint = batch.endpoint,
    errors = batch.errors and { object = "list", data = batch.errors } or json.null,
    input_file_id = batch.input_file_id, completion_window = batch.completion_window, status = st,
    output_file_id = TERMINAL[st] and batch.output_file_id or json.null,
    error_file_id = TERMINAL[st] and batch.error_file_id or json.null,
    created_at = math.floor(c),
    in_progress_at = (st ~= "validating" and not batch.failed) and math.floor(c + 0.1 * d) or json.null,
    expires_at = math.floor(c + 86400),
    finalizing_at = (st == "finalizing" or st == "completed") and math.floor(c + 0.9 * d) or json.null,
    completed_at = st == "completed" and math.floor(c + d) or json.null,
    failed_at = batch.failed and math.floor(c) or json.null, expired_at = json.null,
    cancelling_at = ts(batch.cancelled_at),
    cancelled_at = st == "cancelled" and math.floor(batch.cancelled_at + 0.1 * d) or json.null,
    request_counts = counts, metadata = batch.metadata or json.null,
  }
end

-- run_line(api, batch, lineno, line, seen) -> result {ok=, line=} | nil, validation error
local function run_line(api, batch, lineno, line, seen)
  local item = json.decode(line)
  if type(item) ~= "table" then
    return nil, { code = "invalid_json_line", message = "This line is not parseable as valid JSON.", line = lineno }
  end
  local cid = item.custom_id
  if type(cid) ~= "string" then
    return nil, { code = "missing_required_parameter", message = "Missing required parameter: 'custom_id'.",
      line = lineno, param = "custom_id" }
  end
  if seen[cid] then
    return nil, { code = "duplicate_custom_id", message = "The custom_id '" .. cid
      .. "' is used more than once in this file.", line = lineno, param = "custom_id" }
  end
  seen[cid] = true
  if item.method ~= "POST" or item.url ~= batch.endpoint or type(item.body) ~= "table" then
    return nil, { code = "invalid_request", message = "Each line needs method 'POST', url '" .. batch.endpoint
      .. "' and a JSON object body.", line = lineno }
  end
  local code, body = chat.run(api, item.body)
  local rid = "batch_req_" .. hash.hex(hash.combine(hash.string(batch.id), lineno), 16)
    .. hash.hex(hash.mix(lineno), 16)
  local request_id = "req_" .. hash.hex(hash.combine(hash.string(cid), lineno), 16)
  local response = string.format('{"status_code":%d,"request_id":"%s","body":%s}', code, request_id, body)
  if code == 200 then
    return { ok = true, line = string.format('{"id":"%s","custom_id":%s,"response":%s,"error":null}', rid,
      json.encode(cid), response) }
  end
  return { ok = false, line = string.format('{"id":"%s","custom_id":%s,"response":%s,"error":null}', rid,
    json.encode(cid), response) }
end

-- POST /v1/batches
function M.create(api, req)
  local body = json.decode(req.body or "")
  if type(body) ~= "table" then return api:error(400, "We could not parse the JSON body of your request.") end
  local known = { input_file_id = true, endpoint = true, completion_window = true, metadata = true }
  for k in pairs(body) do
    if not known[k] then return api:error(400, "Unrecognized request argument supplied: " .. tostring(k), nil, k) end
  end
  local f = type(body.input_file_id) == "string" and api.files[body.input_file_id]
  if not f then
    return api:error(400, "Invalid 'input_file_id': " .. tostring(body.input_file_id), nil, "input_file_id")
  end
  if f.purpose ~= "batch" then
    return api:error(400, "The input file must have purpose 'batch'.", nil, "input_file_id")
  end
  if body.endpoint ~= "/v1/chat/completions" then
    return api:error(400, "Invalid 'endpoint': the simulated subject supports '/v1/chat/completions' only.",
      nil, "endpoint")
  end
  if body.completion_window ~= "24h" then
    return api:error(400, "Invalid 'completion_window': must be '24h'.", nil, "completion_window")
  end
  local batch = { id = api:new_id("batch_", 32, body.input_file_id), endpoint = body.endpoint,
    input_file_id = body.input_file_id, completion_window = "24h", created = api:now(),
    duration = api.batch_duration, metadata = type(body.metadata) == "table" and body.metadata or nil,
    results = {}, ok_count = 0 }
  local seen, lineno = {}, 0
  for line in lines(f.content) do
    lineno = lineno + 1
    if line:match("%S") then
      local r, verr = run_line(api, batch, lineno, line, seen)
      if not r then
        batch.failed, batch.errors, batch.results = true, { verr }, {}
        batch.counts = { total = 0, completed = 0, failed = 0 }
        break
      end
      batch.results[#batch.results + 1] = r
      if r.ok then batch.ok_count = batch.ok_count + 1 end
    end
  end
  batch.total = #batch.results
  api.batches[batch.id] = batch
  api.batch_list[#api.batch_list + 1] = batch.id
  local obj = object(api, batch)
  api:save("batch", batch)
  return 200, json.encode(obj)
end

local function missing(api, id)
  return api:error(404, "No batch found with id '" .. id .. "'.", nil, "batch_id", "batch_not_found")
end

-- GET /v1/batches/{id}
function M.retrieve(api, _, id)
  local b = api.batches[id]
  if not b then return missing(api, id) end
  return 200, json.encode(object(api, b))
end

-- GET /v1/batches
function M.list(api, _, _, query)
  local ids = {}
  for i = #api.batch_list, 1, -1 do ids[#ids + 1] = api.batch_list[i] end
  return 200, require("introspect.sim.jobs").page(ids, query, function(id) return object(api, api.batches[id]) end)
end

-- POST /v1/batches/{id}/cancel: results finished so far go to the output file.
function M.cancel(api, _, id)
  local b = api.batches[id]
  if not b then return missing(api, id) end
  local st = refresh(api, b)
  if TERMINAL[st] or st == "cancelling" then
    return api:error(409, "Cannot cancel a batch with status '" .. st .. "'.", nil, "batch_id")
  end
  local now = api:now()
  local frac = b.duration > 0 and math.max(0, math.min(1, (now - b.created - 0.1 * b.duration)
    / (0.8 * b.duration))) or 1
  b.done_at_cancel = math.floor(#b.results * frac)
  b.cancelled_at = now
  api:save("batch", b)
  return 200, json.encode(object(api, b))
end

return M
