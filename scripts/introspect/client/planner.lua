-- The planning transport: a dry run is a client whose transport records and prices every
-- request and sends nothing. It answers as an OpenAI-compatible server would, so the study's
-- steps run unchanged: a chat completion with empty content and usage = the request's input
-- tokens plus its full max_completion_tokens (the upper bound the meter prices), uploads get
-- file ids, and a fine-tuning job succeeds at once with trained_tokens = the training file's
-- estimated tokens times its epochs (3 when "auto"), served as "ft:BASE:dry-run:SUFFIX".
-- planner:phase(name) names the phase later requests count for; planner.phases lists
-- {phase=, requests=, tokens=, input_tokens=, output_tokens=} in order (the meter has the cost).
local cjson = require "cjson"
local cost = require "introspect.client.cost"
local pyjson = require "introspect.core.pyjson"

local M = {}

local Planner = {}
Planner.__index = Planner

---new() -> a planning transport (transport:perform(requests, opts) -> results).
---@return table
function M.new()
  return setmetatable({ phases = {}, by_name = {}, files = {}, jobs = {}, current = "requests" }, Planner)
end

---planner:phase(name): later requests are counted under `name`.
---@param name string
function Planner:phase(name) self.current = name end

-- count(self, requests, input, output)
local function count(self, input, output)
  input, output = math.tointeger(input) or input, math.tointeger(output) or output
  local p = self.by_name[self.current]
  if not p then
    p = { phase = self.current, requests = 0, tokens = 0, input_tokens = 0, output_tokens = 0 }
    self.by_name[self.current] = p
    self.phases[#self.phases + 1] = p
  end
  p.requests, p.input_tokens, p.output_tokens = p.requests + 1, p.input_tokens + input, p.output_tokens + output
  p.tokens = p.input_tokens + p.output_tokens
end

local function ok(doc)
  return { status = 200, headers = { ["content-type"] = "application/json" }, body = pyjson.compact.encode(doc),
    attempts = 0, time = 0 }
end

-- answer(self, req) -> result for one request.
function Planner:answer(req)
  local path = req.url:match("^https?://[^/]+(/.*)$") or req.url
  path = path:gsub("%?.*$", ""):gsub("^/v1", "")
  local body = req.method == "POST" and req.body and req.body:sub(1, 1) == "{" and cjson.decode(req.body) or nil
  if path == "/chat/completions" and body then
    local input, output = cost.request_tokens(body)
    count(self, input, output)
    return ok({ id = "chatcmpl-dry-run", object = "chat.completion", model = body.model,
      choices = { { index = 0, message = { role = "assistant", content = "" }, finish_reason = "stop" } },
      usage = { prompt_tokens = input, completion_tokens = output, total_tokens = input + output } })
  elseif path == "/files" and req.method == "POST" then
    local id = "file-dry-run-" .. (#self.files + 1)
    self.files[#self.files + 1] = { id = id, bytes = #(req.body or "") }
    self.files[id] = self.files[#self.files]
    return ok({ id = id, object = "file", bytes = #(req.body or ""), purpose = "fine-tune", filename = id })
  elseif path == "/fine_tuning/jobs" and body then
    local hp = type(body.hyperparameters) == "table" and body.hyperparameters
      or (type(body.method) == "table" and type(body.method.supervised) == "table"
        and body.method.supervised.hyperparameters) or {}
    local epochs = type(hp.n_epochs) == "number" and hp.n_epochs or 3
    local file = self.files[body.training_file] or { bytes = 0 }
    local tokens = math.ceil(file.bytes / 4) * epochs
    count(self, tokens, 0)
    local base = body.model:match("^ft:([^:]+)") or body.model
    local job = { id = "ftjob-dry-run-" .. (#self.jobs + 1), object = "fine_tuning.job", model = body.model,
      status = "succeeded", fine_tuned_model = "ft:" .. base .. ":dry-run:" .. tostring(body.suffix or "model"),
      trained_tokens = tokens, hyperparameters = hp, seed = body.seed }
    self.jobs[#self.jobs + 1] = job
    self.jobs[job.id] = job
    return ok(job)
  elseif path:match("^/fine_tuning/jobs/[^/]+$") and self.jobs[path:match("([^/]+)$")] then
    return ok(self.jobs[path:match("([^/]+)$")])
  elseif req.method == "GET" then
    return ok({ object = "list", data = pyjson.array(), has_more = false })
  end
  return { status = 404, headers = {}, body = '{"error":{"message":"dry run: nothing is sent"}}', attempts = 0 }
end

---planner:perform(requests, opts) -> results (the transport contract, docs/architecture.md).
---@param requests table[]
---@param opts? table on_result, progress, progress_interval
---@return table[]
function Planner:perform(requests, opts)
  opts = opts or {}
  local results = {}
  for i, req in ipairs(requests) do
    results[i] = self:answer(req)
    if opts.on_result then opts.on_result(i, results[i]) end
  end
  return results
end

return M
