-- The OpenAI API of the simulated subject as a pure Lua handler:
--   api:handle{method=, path=, headers=, body=} -> {status=, headers=, body=, delay=, fault=}
-- The in-process transport (introspect.sim) and `introspect serve` both call this handler, so
-- the two backends answer identically. See docs/serve.md for the endpoints and options.
local util = require("introspect.core.util")
local json = require("introspect.core.pyjson").compact
local hash = require("introspect.sim.hash")
local subject = require("introspect.sim.subject")
local profiles = require("introspect.sim.profiles")
local prompt = require("introspect.sim.prompt")
local faults = require("introspect.sim.faults")

local M = {}

local floor = math.floor

local API = {}
API.__index = API
API.__name = "introspect.sim.api"

local has_sys, sys = pcall(require, "introspect.sys")
local function wall_clock()
  if has_sys then return sys.time() end
  return os.time() + 0.0
end
---clock() -> seconds on a monotonic wall clock (introspect.sys; os.clock without the binding):
---openai-processing-ms here, and a result's latency in the sim transports (sim.clock).
---@return number
M.clock = has_sys and sys.now or os.clock
local processing_clock = M.clock

local OPTIONS = {
  profiles = "table",        -- list of profile names or profile tables (default: all built-in)
  key = "string",            -- optional bearer key
  faults = "any",            -- fault spec (string or table), see introspect.sim.faults
  seed = "integer",          -- seeds ids and faults
  job_duration = "number",   -- seconds from created to succeeded (default 0)
  batch_duration = "number", -- seconds from created to completed (default 0)
  clock = "function",        -- wall clock in seconds (default sys.time / os.time)
  state_dir = "string",      -- persist files, jobs, models and batches here
  max_body = "integer",      -- largest request body in bytes (default 64 MiB)
  organization = "string",   -- organization name in fine-tuned model ids (default "introspect")
  rate_limits = "table",     -- {rpm=, tpm=}: enforce per-minute limits with 429s
}

-- new(opts) -> api object (see OPTIONS above and docs/serve.md).
function M.new(opts)
  opts = util.check_options("sim.api", opts, OPTIONS)
  local self = setmetatable({
    key = opts.key,
    seed = opts.seed or 0,
    job_duration = opts.job_duration or 0,
    batch_duration = opts.batch_duration or 0,
    clock = opts.clock or wall_clock,
    max_body = opts.max_body or 64 * 1024 * 1024,
    organization = opts.organization or "introspect",
    state_dir = opts.state_dir,
    parser = prompt.new(),
    models = {}, model_list = {},
    files = {}, file_list = {},
    jobs = {}, job_list = {},
    batches = {}, batch_list = {},
    counter = 0, request_count = 0,
    limits = opts.rate_limits and { rpm = opts.rate_limits.rpm, tpm = opts.rate_limits.tpm },
    window = { start = 0, requests = 0, tokens = 0 },
  }, API)
  if opts.rate_limits then
    util.check_options("sim.api rate_limits", opts.rate_limits, { rpm = "number", tpm = "number" })
  end
  -- the fixed first step of the request and chat completion ids' hashes
  self.request_seed = hash.combine(self.seed, 0x5eed)
  self.chat_seed = hash.combine(self.seed, 0xc4a7)
  if self.job_duration < 0 or self.batch_duration < 0 then
    error("sim.api: durations must be >= 0", 2)
  end
  self.faults = faults.new(opts.faults, self.seed)
  local list = opts.profiles or profiles.names
  for _, p in ipairs(list) do
    local name, profile = p, p
    if type(p) == "table" then
      name = p.name
      if type(name) ~= "string" then error("sim.api: a profile table needs a 'name'", 2) end
      profile = profiles.derive(p)
    elseif not profiles.get(p) then
      error("sim.api: unknown profile '" .. tostring(p) .. "' (known: "
        .. table.concat(profiles.names, ", ") .. ")", 2)
    end
    self:add_model(subject.base(profile, name), "introspect")
  end
  if self.state_dir then
    local ok, err = require("introspect.sim.state").load(self)
    if not ok then error("sim.api: " .. err, 2) end
  end
  return self
end

-- api:add_model(model, owner) registers a model for chat and fine-tuning.
function API:add_model(model, owner)
  if not self.models[model.id] then self.model_list[#self.model_list + 1] = model.id end
  self.models[model.id] = model
  model.owned_by = owner
  model.created = model.created or math.floor(self:now())
  model.fingerprint = model.fingerprint or hash.hex(hash.string(model.id), 8)
end

-- api:truth(model_id, messages) -> the served model's ground truth for the context and condition
-- the messages identify (actual weights, access, expected report...) | nil, err. See
-- introspect.sim.truth and docs/scripting.md.
function API:truth(model_id, messages)
  return require("introspect.sim.truth").truth(self, model_id, messages)
end

-- api:now() -> wall-clock seconds.
function API:now() return self.clock() end

-- api:new_id(prefix, len, salt) -> a fresh id, a deterministic function of the api seed and
-- the number of ids handed out before (so a replayed run gets the same ids).
function API:new_id(prefix, len, salt)
  self.counter = self.counter + 1
  local h = hash.combine(hash.combine(self.seed, self.counter), hash.string(prefix .. (salt or "")))
  local s = hash.hex(h, 16) .. hash.hex(hash.mix(h), 16)
  return prefix .. s:sub(1, len or 24)
end

-- Errors in OpenAI's shape: {"error": {"message", "type", "param", "code"}}.
function API.error(_, status, message, etype, param, code)
  return status, json.encode({ error = { message = message, type = etype or "invalid_request_error",
    param = param or json.null, code = code or json.null } })
end

-- api:model(id) -> model | nil (refreshing jobs first so finished fine-tunes appear).
function API:model(id)
  local m = self.models[id]
  if m then return m end
  if type(id) == "string" and id:sub(1, 3) == "ft:" then
    require("introspect.sim.jobs").refresh_all(self)
    return self.models[id]
  end
  return nil
end

local function url_decode(s)
  return (s:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- parse_query(q) -> table of decoded query parameters.
local function parse_query(q)
  local out = {}
  if q == "" then return out end
  for pair in q:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    out[url_decode(k)] = url_decode(v)
  end
  return out
end
M.parse_query = parse_query

-- Routes: {method, pattern, module, function name}; captures become arguments.
local ROUTES = {
  { "GET", "^/v1/models$", "models", "list" },
  { "GET", "^/v1/models/([^/]+)$", "models", "retrieve" },
  { "DELETE", "^/v1/models/([^/]+)$", "models", "delete" },
  { "POST", "^/v1/chat/completions$", "chat", "create" },
  { "POST", "^/v1/files$", "files", "create" },
  { "GET", "^/v1/files$", "files", "list" },
  { "GET", "^/v1/files/([^/]+)$", "files", "retrieve" },
  { "GET", "^/v1/files/([^/]+)/content$", "files", "content" },
  { "DELETE", "^/v1/files/([^/]+)$", "files", "delete" },
  { "POST", "^/v1/fine_tuning/jobs$", "jobs", "create" },
  { "GET", "^/v1/fine_tuning/jobs$", "jobs", "list" },
  { "GET", "^/v1/fine_tuning/jobs/([^/]+)$", "jobs", "retrieve" },
  { "POST", "^/v1/fine_tuning/jobs/([^/]+)/cancel$", "jobs", "cancel" },
  { "GET", "^/v1/fine_tuning/jobs/([^/]+)/events$", "jobs", "events" },
  { "GET", "^/v1/fine_tuning/jobs/([^/]+)/checkpoints$", "jobs", "checkpoints" },
  { "POST", "^/v1/batches$", "batches", "create" },
  { "GET", "^/v1/batches$", "batches", "list" },
  { "GET", "^/v1/batches/([^/]+)$", "batches", "retrieve" },
  { "POST", "^/v1/batches/([^/]+)/cancel$", "batches", "cancel" },
}
local handlers = {}
local function handler_module(name)
  local h = handlers[name]
  if not h then
    h = require("introspect.sim." .. name)
    handlers[name] = h
  end
  return h
end

-- route(method, path) -> module name, function name, capture | nil
local function route(method, path)
  for _, r in ipairs(ROUTES) do
    if r[1] == method then
      local cap = path:match(r[2])
      if cap then return r[3], r[4], cap ~= path and url_decode(cap) or nil end
    end
  end
  return nil
end

-- api:authorized(headers) -> true | status, body
function API:authorized(headers)
  if not self.key then return true end
  local auth = headers and headers.authorization
  if type(auth) ~= "string" or auth == "" then
    return self:error(401, "You didn't provide an API key. You need to provide your API key in an "
      .. "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", nil, nil,
      "missing_api_key")
  end
  if auth ~= "Bearer " .. self.key then
    return self:error(401, "Incorrect API key provided.", nil, nil, "invalid_api_key")
  end
  return true
end

-- api:rate_limit(tokens) -> nil | retry_after seconds; also the header values.
function API:rate_headers(headers, tokens)
  local limits = self.limits
  local rpm, tpm = limits and limits.rpm or 100000000, limits and limits.tpm or 100000000000
  local now = self.clock()
  local w = self.window
  if now - w.start >= 60 then w.start, w.requests, w.tokens = now, 0, 0 end
  local reset = 60 - (now - w.start)
  reset = reset > 0 and reset or 0   -- math.max(0, reset), inline
  local over = limits and ((w.requests + 1 > rpm) or (w.tokens + tokens > tpm))
  if not over then w.requests, w.tokens = w.requests + 1, w.tokens + tokens end
  local limit_texts = self.limit_texts   -- the limits are fixed (copied by new): texts made once
  if not limit_texts then
    limit_texts = { tostring(math.floor(rpm)), tostring(math.floor(tpm)) }
    self.limit_texts = limit_texts
  end
  headers["x-ratelimit-limit-requests"] = limit_texts[1]
  headers["x-ratelimit-limit-tokens"] = limit_texts[2]
  local left_requests, left_tokens = floor(rpm - w.requests), floor(tpm - w.tokens)
  left_requests = left_requests > 0 and left_requests or 0   -- math.max(0, ...), inline
  left_tokens = left_tokens > 0 and left_tokens or 0
  headers["x-ratelimit-remaining-requests"] = "" .. left_requests   -- as tostring prints it
  headers["x-ratelimit-remaining-tokens"] = "" .. left_tokens
  local reset_text = string.format("%.3fs", reset)
  headers["x-ratelimit-reset-requests"] = reset_text
  headers["x-ratelimit-reset-tokens"] = reset_text
  return over and reset or nil
end

-- api:handle(req) -> res. Never raises for anything a client sends: a bad request gets an
-- OpenAI-style 4xx, an internal failure a 500 with the request id.
function API:handle(req)
  self.request_count = self.request_count + 1
  local started = processing_clock()
  local request_id = "req_" .. hash.hex(hash.combine(self.request_seed, self.request_count), 16)
    .. hash.hex(hash.mix(self.request_count), 16)
  -- the nil fields size the table for the headers a chat completion gets (no rehash as they come)
  local headers = { ["content-type"] = "application/json", ["x-request-id"] = request_id,
                    ["openai-version"] = "2020-10-01", ["openai-organization"] = self.organization,
                    ["x-ratelimit-limit-requests"] = nil, ["x-ratelimit-limit-tokens"] = nil,
                    ["x-ratelimit-remaining-requests"] = nil, ["x-ratelimit-remaining-tokens"] = nil,
                    ["x-ratelimit-reset-requests"] = nil, ["x-ratelimit-reset-tokens"] = nil,
                    ["openai-processing-ms"] = nil }
  local method, full = req.method or "GET", req.path or "/"
  local path, query = full, ""
  if full:find("?", 1, true) then path, query = full:match("^([^?]*)%??(.*)$") end
  local res = { headers = headers }
  local status, body, extra
  local mod, fn, cap = route(method, path)
  local fault = mod and self.faults:draw(mod == "chat")
  if fault and fault.delay then res.delay = fault.delay end
  if fault and fault.status then
    status, body = self:error(fault.status, fault.message, fault.type, nil, fault.code)
    if fault.retry_after then
      headers["retry-after"] = tostring(fault.retry_after)
      headers["retry-after-ms"] = tostring(math.floor(fault.retry_after * 1000))
    end
  elseif fault and fault.reset then
    res.fault = "reset"
    status, body = 500, ""
  else
    local ok
    ok, status = self:authorized(req.headers)
    if ok ~= true then
      status, body = ok, status
    elseif req.body and #req.body > self.max_body then
      status, body = self:error(413, string.format("Request body of %d bytes exceeds the limit of %d bytes.",
        #req.body, self.max_body), nil, nil, "request_too_large")
    elseif not mod then
      status, body = self:error(404, string.format("Invalid URL (%s %s)", method, path), nil, nil,
        "unknown_url")
    else
      local tokens = req.body and (#req.body // 4) or 0
      local retry = self:rate_headers(headers, tokens)
      if retry then
        headers["retry-after"] = tostring(math.ceil(retry))
        headers["retry-after-ms"] = tostring(math.floor(retry * 1000))
        status, body = self:error(429, "Rate limit reached for requests. Please try again in "
          .. string.format("%.3fs", retry) .. ".", "requests", nil, "rate_limit_exceeded")
      else
        -- The state changes of one request are journaled together after it (see api:save).
        self.pending_changes = self.state_dir and {} or nil
        local call_ok, s, b, x = pcall(handler_module(mod)[fn], self, req, cap, parse_query(query))
        self:flush_changes()
        if call_ok then
          status, body, extra = s, b, x
        elseif type(s) == "string" and s:match("interrupted!$") then
          error(s, 0)   -- Ctrl-C in an in-process request stops the caller, not this request
        else
          io.stderr:write("introspect sim: internal error on ", method, " ", path, ": ", tostring(s), "\n")
          status, body = self:error(500, "The server had an error while processing your request "
            .. "(request id " .. request_id .. ").", "server_error")
        end
      end
    end
    if fault and fault.truncate and status == 200 then res.fault = "truncate" end
  end
  if extra then for k, v in pairs(extra) do headers[k] = v end end
  if fault and not res.fault then body = self.faults:shape(fault, res, status, body or "") end
  headers["openai-processing-ms"] = tostring(math.floor((processing_clock() - started) * 1000))
  res.status, res.body = status, body or ""
  return res
end

-- api:save(kind, obj) persists a change (no-op without state_dir); called after every change.
-- Inside a request the change is held and journaled with the request's other changes when the
-- request is done, so a process killed mid-request leaves none of them half-recorded.
function API:save(kind, obj)
  if not self.state_dir then return end
  if self.pending_changes then
    self.pending_changes[#self.pending_changes + 1] = { kind, obj }
    return
  end
  local ok, err = require("introspect.sim.state").save(self, kind, obj)
  if not ok then io.stderr:write("introspect sim: cannot save state: ", tostring(err), "\n") end
end

-- api:flush_changes() journals the changes held for the current request.
function API:flush_changes()
  local changes = self.pending_changes
  self.pending_changes = nil
  if changes and #changes > 0 then
    local ok, err = require("introspect.sim.state").save_all(self, changes)
    if not ok then io.stderr:write("introspect sim: cannot save state: ", tostring(err), "\n") end
  end
end

M.API = API
M.OPTIONS = OPTIONS
return M
