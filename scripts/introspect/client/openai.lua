-- An OpenAI-compatible API client: chat completions (one or a whole phase concurrently),
-- models, a capability probe; files and fine-tuning in openai_files.lua, batches in
-- openai_batch.lua. It talks through any transport (an object with perform(requests, opts)),
-- by default the libcurl pool of introspect.http; responses go to an optional store (cache) and
-- cost meter. The API key lives in a private table: never in the client's fields, errors,
-- stores or tostring output.
local cjson = require("cjson")
local json = require("introspect.core.json")
local util = require("introspect.core.util")
local pyjson = require("introspect.core.pyjson")
local apierror = require("introspect.client.apierror")
local cost = require("introspect.client.cost")

local M = {}

M.DEFAULT_BASE_URL = "https://api.openai.com/v1"

local Client = {}
Client.__index = Client
M.Client = Client

local SECRET = setmetatable({}, { __mode = "k" })   -- client -> API key
local SECRETS = setmetatable({}, { __mode = "k" })  -- client -> {API key}, for scrubbing errors

local has_sys, sys = pcall(require, "introspect.sys")

-- now() -> seconds (introspect.sys's clock; os.time without the binding)
local function now()
  if has_sys then return sys.now() end
  return os.time()
end

M.now = now

local CLIENT_OPTIONS = { api_key = "string", base_url = "string", base_urls = "table",
  organization = "string", project = "string", profile = "string", transport = "any",
  store = "any", meter = "any", pool = "table", headers = "table", set_aside_after = "integer",
  set_aside_for = "number", env = "table", sleep = "function", enqueued_token_limit = "integer",
  adapt = "table" }

-- new([opts]) -> client. Options (all optional):
--   api_key, base_url | base_urls (replicas), organization, project: else from OPENAI_API_KEY,
--     OPENAI_BASE_URL, OPENAI_ORG_ID, OPENAI_PROJECT_ID, or the named `profile` (backend.lua);
--   transport: object with perform(requests, opts) (default: introspect.http pool with `pool`);
--   store: introspect.client.store handle (cache + log); meter: introspect.client.cost meter (budget);
--   headers: extra request headers; set_aside_after (3 failures) / set_aside_for (60 s): when a
--     replica is set aside; env: table used instead of os.getenv; sleep: function(seconds);
--   enqueued_token_limit: Batch API phases go in batches of at most this many estimated tokens
--     (else INTROSPECT_ENQUEUED_TOKEN_LIMIT; default: no limit);
--   adapt: {drop = {field = true}, min_completion_tokens = N}: every chat body is sent without
--     the dropped fields and with at least N output tokens (client:chat_capabilities finds these).
function M.new(opts)
  opts = util.check_options("openai.new", opts, CLIENT_OPTIONS)
  local getenv = os.getenv
  if opts.env then getenv = function(k) return opts.env[k] end end
  local profile = {}
  if opts.profile then
    local backend = require("introspect.client.backend")
    local perr
    profile, perr = backend.get(opts.profile, { env = opts.env })
    if not profile then error("openai.new: " .. perr, 2) end
  end
  local function env(name)
    local v = getenv(name)
    if v == "" then return nil end
    return v
  end
  local key = opts.api_key or profile.api_key or env(profile.api_key_env or "OPENAI_API_KEY")
  local urls = opts.base_urls or (opts.base_url and { opts.base_url })
    or (profile.base_url_env and env(profile.base_url_env) and { env(profile.base_url_env) }) or profile.base_urls
    or (env("OPENAI_BASE_URL") and { env("OPENAI_BASE_URL") }) or { M.DEFAULT_BASE_URL }
  if #urls == 0 then error("openai.new: base_urls is empty", 2) end
  local endpoints = {}
  for i, u in ipairs(urls) do
    if type(u) ~= "string" or not u:match("^https?://") then
      error("openai.new: base URL " .. i .. " must start with http:// or https://", 2)
    end
    endpoints[i] = { url = u:gsub("/+$", ""), failures = 0, aside_until = -math.huge, set_aside = 0,
      requests = 0 }
  end
  -- OpenAI itself, and a profile with a key variable of its own, cannot work without a key:
  -- one line naming the variable to set (an environmental failure, so no code position)
  local key_env = profile.api_key_env or "OPENAI_API_KEY"
  if not key and (key_env ~= "OPENAI_API_KEY" or endpoints[1].url:match("^https://api%.openai%.com")) then
    error(opts.profile and string.format("backend '%s' needs an API key: set the environment variable %s",
      opts.profile, key_env) or string.format("%s needs an API key: set the environment variable %s or pass "
      .. "api_key=", endpoints[1].url, key_env), 0)
  end
  local transport = opts.transport
  if not transport and profile.transport then transport = profile.transport(opts.pool) end
  local pool_opts = opts.pool or profile.pool or {}
  if not transport then transport = require("introspect.http").pool(pool_opts) end
  local self = setmetatable({
    base_url = endpoints[1].url,            -- the identity used in cache keys
    endpoints = endpoints,
    organization = opts.organization or profile.organization or env("OPENAI_ORG_ID"),
    project = opts.project or profile.project or env("OPENAI_PROJECT_ID"),
    transport = transport, store = opts.store, meter = opts.meter,
    extra_headers = opts.headers or {},
    set_aside_after = opts.set_aside_after or 3, set_aside_for = opts.set_aside_for or 60,
    sleep = opts.sleep or require("introspect.http").sleep,
    next_endpoint = 1, profile = opts.profile, pool_opts = pool_opts, adapt = opts.adapt,
    enqueued_token_limit = opts.enqueued_token_limit
      or math.tointeger(tonumber(env("INTROSPECT_ENQUEUED_TOKEN_LIMIT") or "")),
  }, Client)
  SECRET[self] = key
  SECRETS[self] = { key }
  if key and self.store and self.store.add_secret then self.store:add_secret(key) end
  return self
end

function Client:__tostring()
  return string.format("openai client %s (%d base URL%s, API key %s)", self.base_url,
    #self.endpoints, #self.endpoints == 1 and "" or "s", SECRET[self] and "set" or "not set")
end

-- client:secrets() -> list of strings to scrub from anything written (the API key).
function Client:secrets()
  return { SECRET[self] }
end

-- Builds the headers of one request.
function Client:_headers(content_type)
  local h = { accept = "application/json" }
  for k, v in pairs(self.extra_headers) do h[k:lower()] = v end
  if SECRET[self] then h.authorization = "Bearer " .. SECRET[self] end
  if self.organization then h["openai-organization"] = self.organization end
  if self.project then h["openai-project"] = self.project end
  if content_type then h["content-type"] = content_type end
  return h
end

-- Picks the next endpoint round-robin among those not set aside (else the one back soonest).
function Client:_pick_endpoint()
  local n = #self.endpoints
  if n == 1 then return self.endpoints[1] end   -- one endpoint is never set aside
  local t = now()
  for k = 0, n - 1 do
    local i = (self.next_endpoint - 1 + k) % n + 1
    local ep = self.endpoints[i]
    if ep.aside_until <= t then
      self.next_endpoint = i % n + 1
      return ep
    end
  end
  local best = self.endpoints[1]
  for _, ep in ipairs(self.endpoints) do if ep.aside_until < best.aside_until then best = ep end end
  return best
end

-- Whether any endpoint other than `ep` is currently usable.
function Client:_has_other_endpoint(ep)
  local t = now()
  for _, e in ipairs(self.endpoints) do if e ~= ep and e.aside_until <= t then return true end end
  return false
end

-- Updates an endpoint's health from a transport result: consecutive connection errors or 5xx
-- set it aside for set_aside_for seconds.
function Client:_note(ep, res)
  ep.requests = ep.requests + 1
  if res.error or (res.status and res.status >= 500) then
    ep.failures = ep.failures + 1
    local t = now()
    if ep.failures >= self.set_aside_after and #self.endpoints > 1 and ep.aside_until <= t then
      ep.aside_until = t + self.set_aside_for
      ep.set_aside = ep.set_aside + 1
      ep.failures = 0
    end
  elseif res.status then
    ep.failures = 0
  end
end

-- client:perform(calls [, {on_result=, progress=}]) -> results
-- Low level: calls are {method=, path="/chat/completions", body=, content_type=, tokens=}.
-- Each result is the transport's result plus endpoint= (the endpoint table) and url=.
-- on_result(i, result) runs as each completes (false stops new requests).
function Client:perform(calls, opts)
  opts = util.check_options("openai.perform", opts, { on_result = "function", progress = "function" })
  local reqs, eps = {}, {}
  -- the requests of one call share their headers table (one per content type) and, for one
  -- endpoint and path, their URL string
  local headers, last_ep, last_path, url = {}, nil, nil, nil
  for i, c in ipairs(calls) do
    local ep = self:_pick_endpoint()
    eps[i] = ep
    local ctype = c.content_type or false
    local h = headers[ctype]
    if not h then
      h = self:_headers(c.content_type)
      headers[ctype] = h
    end
    if ep ~= last_ep or c.path ~= last_path then url, last_ep, last_path = ep.url .. c.path, ep, c.path end
    reqs[i] = { method = c.method or "GET", url = url, headers = h, body = c.body, tokens = c.tokens }
  end
  local delivered = {}
  local function deliver(i, res)
    if delivered[i] then return nil end
    delivered[i] = true
    res.endpoint, res.url = eps[i], reqs[i].url
    self:_note(eps[i], res)
    if opts.on_result then return opts.on_result(i, res) end
    return nil
  end
  local results = self.transport:perform(reqs, { on_result = deliver, progress = opts.progress })
  for i = 1, #reqs do
    -- transports that do not call on_result are handled here
    if not delivered[i] then deliver(i, results[i] or { error = "transport returned no result" }) end
  end
  return results
end

-- error_from(result [, secrets]) -> structured error for a failed transport result, or nil.
function M.error_from(res, secrets)
  if res.error then
    return apierror.new({ type = "connection_error", code = res.curl_code and tostring(res.curl_code),
      message = res.error, url = res.url }, secrets)
  end
  if res.status and res.status >= 400 then
    local ok, doc = pcall(cjson.decode, res.body or "")
    local e = ok and type(doc) == "table" and type(doc.error) == "table" and doc.error or {}
    if ok and type(doc) == "table" and doc.object == "error" and type(doc.message) == "string" then
      e = doc   -- vLLM's flat ErrorResponse {"object": "error", "message", "type", "code"}
    end
    local msg = e.message
    if type(msg) ~= "string" then
      msg = ok and type(doc) == "table" and type(doc.error) == "string" and doc.error
        or (res.body or ""):sub(1, 300)
    end
    local http = package.loaded["introspect.http"]
    local headers = res.headers or {}
    return apierror.new({ status = res.status, type = type(e.type) == "string" and e.type or "http_error",
      code = (type(e.code) == "string" or math.type(e.code)) and tostring(e.code) or nil,
      param = type(e.param) == "string" and e.param or nil, message = msg,
      request_id = headers["x-request-id"], url = res.url,
      retry_after = http and http.parse_retry_after(headers) or tonumber(headers["retry-after"]) }, secrets)
  end
  return nil
end

-- client:request(method, path [, body [, opts]]) -> decoded JSON | nil, err
-- body: a table (sent as JSON) or a string with opts.content_type. opts.raw returns the body
-- text instead of decoding it.
function Client:request(method, path, body, opts)
  opts = util.check_options("openai.request", opts, { raw = "boolean", content_type = "string" })
  local text, ctype = body, opts.content_type
  if type(body) == "table" then text, ctype = pyjson.encode(body), "application/json" end
  if text == nil and method == "POST" then text = "" end
  local res = self:perform({ { method = method, path = path, body = text, content_type = ctype } })[1]
  local err = M.error_from(res, self:secrets())
  if err then return nil, err end
  if opts.raw then return res.body end
  local ok, doc = pcall(cjson.decode, res.body)
  if not ok or type(doc) ~= "table" then
    return nil, apierror.new({ status = res.status, type = "invalid_response", url = res.url,
      message = "response is not a JSON object: " .. tostring(doc) }, self:secrets())
  end
  return doc
end

-- client:_once_transport() -> a transport that sends each request exactly once (no retries), for
-- requests a retry could duplicate (creating a paid job or batch) and for the first request of a
-- phase (a 429 insufficient_quota must stop the run within one request). For the libcurl pool it
-- is a second pool with max_retries = 0; for the in-process simulated API a transport on the same
-- api object; a transport of another kind may offer transport:without_retries().
function Client:_once_transport()
  if self.once_transport then return self.once_transport end
  local t = self.transport
  local once
  if type(t.without_retries) == "function" then
    once = t:without_retries()
  elseif type(t.api) == "table" and type(t.api.handle) == "function" then
    once = require("introspect.sim").transport(t.api, { max_retries = 0 })
  elseif type(t) == "userdata" and tostring(t):find("^http pool") then
    local o = {}
    for k, v in pairs(self.pool_opts or {}) do o[k] = v end
    o.max_retries = 0
    once = require("introspect.http").pool(o)
  else
    once = t
  end
  self.once_transport = once
  return once
end

-- client:request_once(method, path [, body]) -> decoded JSON | nil, err
-- As client:request, but the request is sent once, never retried by the transport: the caller
-- decides what to do after a connection error or a 5xx (look the object up before sending again).
function Client:request_once(method, path, body)
  local saved = self.transport
  self.transport = self:_once_transport()
  local ok, doc, err = pcall(self.request, self, method, path, body)
  self.transport = saved
  if not ok then error(doc, 0) end
  return doc, err
end

-- Codes of 429 responses that waiting does not cure: the run stops at once.
M.FATAL_429 = { insufficient_quota = true, billing_hard_limit_reached = true, billing_not_active = true }

-- fatal_error(err) -> true when err is an API error no retry can fix (quota, billing, auth).
function M.fatal_error(err)
  if type(err) ~= "table" then return false end
  if err.status == 429 and (M.FATAL_429[err.code] or M.FATAL_429[err.type]) then return true end
  return err.status == 401
end

-- Explains a fatal API error in one line.
local function fatal_message(err)
  if M.FATAL_429[err.code] or M.FATAL_429[err.type] then
    return "stopped: the API refused the request for lack of quota or billing (" .. tostring(err)
      .. "); nothing more was sent. Add credit or raise the limit, then re-run the same command."
  end
  return "stopped: the API refused the key (" .. tostring(err) .. ")"
end
M.fatal_message = fatal_message

---------------------------------------------------------------------------------------------
-- Chat completions.

local CHAT_FIELDS = { model = "string", messages = "table", n = "integer", temperature = "number",
  top_p = "number", seed = "integer", logprobs = "boolean", top_logprobs = "integer",
  max_completion_tokens = "integer", max_tokens = "integer", stop = "any", response_format = "table",
  presence_penalty = "number", frequency_penalty = "number", logit_bias = "table", user = "string",
  tools = "table", tool_choice = "any", parallel_tool_calls = "boolean", store = "boolean",
  metadata = "table", service_tier = "string", reasoning_effort = "string" }
M.CHAT_FIELDS = CHAT_FIELDS

-- chat_ok(body) -> whether a chat body passes check_chat (a table whose fields are all known and
-- of their type, with a model and a non-empty messages list), without building anything.
local function chat_ok(body)
  if type(body) ~= "table" or type(body.model) ~= "string" or type(body.messages) ~= "table"
      or #body.messages == 0 then
    return false
  end
  for k, v in pairs(body) do
    local want = CHAT_FIELDS[k]
    if want ~= "any" and want ~= type(v) and not (want == "integer" and math.type(v) == "integer") then
      return false
    end
  end
  return true
end

-- check_chat(body, where) -> body. Raises naming the field on unknown or mistyped fields.
function M.check_chat(body, where)
  if chat_ok(body) then return body end
  util.check_options(where, body, CHAT_FIELDS)
  if type(body.model) ~= "string" then error(where .. ": 'model' is required", 3) end
  if type(body.messages) ~= "table" or #body.messages == 0 then
    error(where .. ": 'messages' must be a non-empty list", 3)
  end
  return body
end

local BATCH = { batch = true }   -- meter:add_usage's options for a Batch API response

-- Builds a chat entry from a transport result; records it in the store and meter.
function Client:_chat_entry(item, res, batch)
  local entry = { sample = item.sample, attempts = res.attempts, time = res.time,
    status = res.status, cached = false, key = item.key }
  local err = M.error_from(res, SECRETS[self])
  local doc
  if not err then
    local ok
    ok, doc = pcall(json.decode, res.body)
    if not ok or type(doc) ~= "table" or type(doc.choices) ~= "table" then
      err = apierror.new({ status = res.status, type = "invalid_response", url = res.url,
        request_id = res.headers and res.headers["x-request-id"],
        message = "malformed chat completion: " .. (ok and "no choices" or tostring(doc)) },
        SECRETS[self])
      doc = nil
    end
  end
  local usage = doc and type(doc.usage) == "table" and doc.usage or nil
  local dollars
  if usage and self.meter then
    dollars = self.meter:add_usage(doc.model or item.body.model, usage, batch and BATCH or nil)
  end
  if self.store and not item.no_store then
    -- a response that cannot be stored stops the phase: the run must not lose data silently
    assert(self.store:record({ key = item.key, base_url = self.base_url, model = item.body.model,
      sample = item.sample, method = "POST", path = "/chat/completions", request = item.text,
      status = res.status, response = res.body, response_headers = res.headers,
      error = err and tostring(err), ok = err == nil, attempts = res.attempts, latency = res.time,
      prompt_tokens = usage and math.tointeger(usage.prompt_tokens),
      completion_tokens = usage and math.tointeger(usage.completion_tokens), cost = dollars }))
  end
  entry.response, entry.error = doc, err
  entry.system_fingerprint = doc and type(doc.system_fingerprint) == "string" and doc.system_fingerprint or nil
  return entry
end

-- Prepares chat items: encoded body, sample index, cache key.
function Client:_chat_items(bodies, samples, where)
  local items, seen = {}, {}
  local store_key = self.store and require("introspect.client.store").key
  for i, body in ipairs(bodies) do
    if not chat_ok(body) then M.check_chat(body, string.format("%s: request %d", where, i)) end
    if self.adapt then body = M.adapt_body(body, self.adapt) end
    local text = pyjson.encode(body)
    local sample = samples and samples[i]
    if sample == nil then   -- repeats counted per model and text
      local of_model = seen[body.model]
      if not of_model then
        of_model = {}
        seen[body.model] = of_model
      end
      sample = of_model[text] or 0
      of_model[text] = sample + 1
    end
    local input, output = cost.request_tokens(body)
    items[i] = { body = body, text = text, sample = sample, tokens = input + output,
      key = store_key and store_key(self.base_url, body.model, text, sample) }
  end
  return items
end

-- Commits what the store holds uncommitted (a store that batches commits has flush): at the end
-- of a phase, and before a long wait. Raises if the commit fails, as a failed record does.
function Client:_flush_store()
  if self.store and self.store.flush then assert(self.store:flush()) end
end

-- Returns a cached entry for an item, or nil.
function Client:_cached(item)
  if not self.store then return nil end
  local rec = self.store:lookup(item.key, self.base_url, item.body.model, item.text, item.sample)
  if not rec then return nil end
  local doc = json.decode(rec.response)
  return { response = doc, cached = true, sample = item.sample, attempts = 0, status = rec.status, key = item.key,
    system_fingerprint = type(doc.system_fingerprint) == "string" and doc.system_fingerprint or nil }
end

local CHAT_MANY_OPTIONS = { samples = "table", progress = "function", on_result = "function",
  no_cache = "boolean", no_store = "boolean", passes = "integer", keep_going = "boolean" }

-- client:chat_many(bodies [, opts]) -> entries, summary
-- Sends a whole phase of chat requests concurrently through the transport. Each entry (same
-- order) is {response=, error=, cached=, sample=, attempts=, time=, status=, system_fingerprint=,
-- key= (the store key, with a store)}.
-- Repeats of an identical body get sample indices 0, 1, 2... (or opts.samples[i]) so they are
-- never collapsed into one cached answer. opts: on_result(i, entry) as each completes (false
-- stops the phase), progress(info), no_cache, no_store, passes (2: a second pass re-sends
-- malformed responses, and connection failures when another replica is up), keep_going (no
-- quota stop: see below).
-- A phase of more than one request stops at once, raising one line, on an error no retry cures
-- (429 insufficient_quota or billing, 401): its first request goes alone and without transport
-- retries, so such a phase stops within one request (unless keep_going).
-- With a meter that has max_cost, the phase's upper-bound cost is reserved first; a phase that
-- could exceed the budget raises a structured budget_exceeded error before sending anything.
function Client:chat_many(bodies, opts)
  opts = util.check_options("openai.chat_many", opts, CHAT_MANY_OPTIONS)
  local items = self:_chat_items(bodies, opts.samples, "openai.chat_many")
  local entries, pending = {}, {}
  local summary = { total = #items, cached = 0, sent = 0, errors = 0, cost = 0 }
  for i, item in ipairs(items) do
    item.no_store = opts.no_store
    local e = not opts.no_cache and self:_cached(item)
    if e then
      entries[i] = e
      summary.cached = summary.cached + 1
      if opts.on_result then opts.on_result(i, e) end
    else
      pending[#pending + 1] = i
    end
  end
  local reserved = 0
  if self.meter and #pending > 0 then
    local list = {}
    for k, i in ipairs(pending) do list[k] = items[i].body end
    reserved = self.meter:estimate_chat(list)
    local ok, err = self.meter:reserve(reserved)
    if not ok then error(err, 2) end
  end
  local spent0 = self.meter and self.meter.total or 0
  local passes = opts.passes or 2
  local stopped = false
  local fatal
  -- The first request of a phase goes alone and without retries: a quota or key problem stops
  -- the phase within one request instead of after every request's retries.
  if #pending > 1 and not opts.keep_going then
    local i = pending[1]
    local saved = self.transport
    self.transport = self:_once_transport()
    local ok, perr = pcall(self.perform, self, { { method = "POST", path = "/chat/completions",
      body = items[i].text, content_type = "application/json", tokens = items[i].tokens } }, {
      on_result = function(_, res)
        local e = self:_chat_entry(items[i], res)
        if M.fatal_error(e.error) then fatal = e.error end   -- (a phase of more than one request)
        local transient = e.error and (e.error.type == "connection_error" or (e.status or 0) >= 500
          or e.status == 429 or e.error.type == "invalid_response")
        if not transient then
          entries[i] = e
          summary.sent = summary.sent + 1
          if opts.on_result and opts.on_result(i, e) == false then stopped = true end
        else
          items[i].earlier_attempts = res.attempts or 1
        end
        return nil
      end })
    self.transport = saved
    if not ok then
      if self.meter then self.meter:release(reserved) end
      error(perr, 0)
    end
    if fatal then
      if self.meter then self.meter:release(reserved) end
      error(fatal_message(fatal), 0)
    end
    if entries[i] then table.remove(pending, 1) end
  end
  for pass = 1, passes do
    if #pending == 0 or stopped then break end
    local calls, again = {}, {}
    for k, i in ipairs(pending) do
      calls[k] = { method = "POST", path = "/chat/completions", body = items[i].text,
        content_type = "application/json", tokens = items[i].tokens }
    end
    summary.sent = summary.sent + #calls
    local ok, perr = pcall(self.perform, self, calls, { progress = opts.progress,
      on_result = function(k, res)
        local i = pending[k]
        if res.error == "cancelled" and (res.attempts or 0) == 0 then return nil end
        local e = self:_chat_entry(items[i], res)
        if items[i].earlier_attempts then e.attempts = (e.attempts or 0) + items[i].earlier_attempts end
        entries[i] = e
        local t = e.error and e.error.type
        if pass < passes and (t == "invalid_response"
            or ((t == "connection_error" or (e.status or 0) >= 500) and self:_has_other_endpoint(res.endpoint))) then
          again[#again + 1] = i
          return nil
        end
        if M.fatal_error(e.error) and #items > 1 and not opts.keep_going then
          fatal = e.error stopped = true return false
        end
        if opts.on_result and opts.on_result(i, e) == false then stopped = true return false end
        return nil
      end })
    if not ok then
      if self.meter then self.meter:release(reserved) end
      error(perr, 0)
    end
    pending = again
  end
  if fatal then
    if self.meter then self.meter:release(reserved) end
    error(fatal_message(fatal), 0)
  end
  if self.meter then
    self.meter:release(reserved)
    summary.cost = self.meter.total - spent0
  end
  for i = 1, #items do
    if not entries[i] then
      entries[i] = { error = apierror.new({ type = "cancelled", message = "request not sent (phase stopped)" }),
        sample = items[i].sample, cached = false }
    end
    if entries[i].error then summary.errors = summary.errors + 1 end
  end
  self:_flush_store()
  return entries, summary
end

-- client:chat(body [, opts]) -> response, entry | nil, err
-- One chat completion (opts as chat_many, plus sample=).
function Client:chat(body, opts)
  opts = opts or {}
  local many = {}
  for k, v in pairs(opts) do if k ~= "sample" then many[k] = v end end
  if opts.sample ~= nil then many.samples = { opts.sample } end
  local e = self:chat_many({ body }, many)[1]
  if e.error then return nil, e.error end
  return e.response, e
end

---------------------------------------------------------------------------------------------
-- Models and capabilities.

-- client:models() -> list of model objects | nil, err
function Client:models()
  local doc, err = self:request("GET", "/models")
  if not doc then return nil, err end
  return doc.data or (doc[1] and doc) or {}   -- Together answers with a bare list
end

-- adapt_body(body, adapt) -> a copy of a chat body without adapt.drop's fields and with at least
-- adapt.min_completion_tokens output tokens (dropping top_logprobs with logprobs).
function M.adapt_body(body, adapt)
  local out = {}
  for k, v in pairs(body) do out[k] = v end
  for k in pairs(adapt.drop or {}) do out[k] = nil end
  if out.logprobs == nil then out.top_logprobs = nil end
  local min = adapt.min_completion_tokens
  if min then
    local n = out.max_completion_tokens or out.max_tokens
    if n and n < min then
      if out.max_tokens and not out.max_completion_tokens then
        out.max_tokens = min
      else
        out.max_completion_tokens = min
      end
    end
  end
  return out
end

-- client:chat_capabilities(model [, {min_tokens=1024}]) -> caps | nil, err
-- What a chat model takes, found with a few small uncached requests: a request with
-- temperature 0, a seed and logprobs; each field the server rejects by name (HTTP 400 naming it
-- as param or in the message) is dropped and the request sent again. A reply cut off by the
-- token limit with no text (a reasoning model spending its budget) retries with min_tokens.
-- caps = {temperature0=, seed=, logprobs=, min_completion_tokens=nil|N, adapt={drop=, ...},
-- notes = {one line per adaptation}}.
function Client:chat_capabilities(model, opts)
  opts = util.check_options("openai.chat_capabilities", opts, { min_tokens = "integer" })
  local body = { model = model, messages = { { role = "user", content = "Reply with the single letter A." } },
    temperature = 0, seed = 12345, logprobs = true, top_logprobs = 2, max_completion_tokens = 5 }
  local drop, notes, min = {}, {}, nil
  local saved = self.adapt
  self.adapt = nil
  for _ = 1, 6 do
    local e = self:chat_many({ M.adapt_body(body, { drop = drop, min_completion_tokens = min }) },
      { no_cache = true, no_store = true, passes = 1, keep_going = true })[1]
    if e.error and e.error.status == 400 then
      local text = (tostring(e.error.param or "") .. " " .. tostring(e.error.message or "")):lower()
      local field
      for _, f in ipairs({ "temperature", "seed", "top_logprobs", "logprobs", "max_completion_tokens" }) do
        if not drop[f] and text:find(f, 1, true) then field = f break end
      end
      if not field then self.adapt = saved return nil, e.error end
      if field == "max_completion_tokens" then
        self.adapt = saved
        return nil, e.error
      end
      if field == "top_logprobs" then field = "logprobs" end
      drop[field] = true
      notes[#notes + 1] = field == "temperature"
        and "temperature 0 rejected: sampled at the model's default temperature"
        or (field .. " not supported: sent without it")
    elseif e.error then
      self.adapt = saved
      return nil, e.error
    else
      local c = type(e.response.choices) == "table" and e.response.choices[1] or {}
      local text = type(c.message) == "table" and c.message.content or nil
      if (text == nil or text == "" or text == cjson.null) and c.finish_reason == "length" and not min then
        min = opts.min_tokens or 1024
        notes[#notes + 1] = string.format("replies cut off at 5 tokens with no text (a reasoning model): "
          .. "at least %d output tokens per request", min)
      else
        local lp = type(c.logprobs) == "table" and c.logprobs.content
        if not drop.logprobs and type(lp) ~= "table" then
          drop.logprobs = true
          notes[#notes + 1] = "logprobs not returned: choices recorded without P(A)"
        end
        self.adapt = saved
        return { temperature0 = not drop.temperature, seed = not drop.seed, logprobs = not drop.logprobs,
          min_completion_tokens = min, adapt = { drop = drop, min_completion_tokens = min }, notes = notes }
      end
    end
  end
  self.adapt = saved
  return nil, "chat_capabilities: no request succeeded after dropping " .. tostring(next(drop))
end

-- shutdown_line(model [, {until_date="YYYY-MM-DD", today=}]) -> a warning line | nil: a listed
-- model object with a shutdown_date (OpenAI's models carry one when retirement is announced) gets
-- "has shut down" when the date has passed, "shuts down on DATE" when it falls before until_date
-- (default: 30 days from today). introspect.client.preflight runs it on every model a run names.
function M.shutdown_line(m, opts)
  opts = opts or {}
  local date = type(m) == "table" and type(m.shutdown_date) == "string" and m.shutdown_date:sub(1, 10) or nil
  if not date then return nil end
  local today = opts.today or os.date("!%Y-%m-%d")
  local horizon = opts.until_date or os.date("!%Y-%m-%d", os.time() + 30 * 86400)
  if date <= today then
    return string.format("warning: model %s has shut down (shutdown_date %s): requests to it will fail", m.id, date)
  elseif date <= horizon then
    return string.format("warning: model %s shuts down on %s (its shutdown_date): a run that outlives "
      .. "it cannot finish; its fine-tunes may go with it", m.id, date)
  end
  return nil
end

-- client:shutdown_warnings(names [, {until_date="YYYY-MM-DD", today=}]) -> list of warning lines
-- | nil, err. One GET /models; M.shutdown_line for each named model the server lists.
function Client:shutdown_warnings(names, opts)
  opts = util.check_options("openai.shutdown_warnings", opts, { until_date = "string", today = "string" })
  local list, err = self:models()
  if not list then return nil, err end
  local by_id = {}
  for _, m in ipairs(list) do if type(m) == "table" and type(m.id) == "string" then by_id[m.id] = m end end
  local out = {}
  for _, name in ipairs(names) do
    local line = by_id[name] and M.shutdown_line(by_id[name], opts)
    if line then out[#out + 1] = line end
  end
  return out
end

-- client:probe(model) -> {logprobs=, top_logprobs=, seed=, system_fingerprint=,
-- deterministic=} | nil, err. Sends three small uncached requests: one with logprobs, two with
-- the same seed at temperature 1.
function Client:probe(model)
  local msgs = { { role = "user", content = "Reply with the single word OK." } }
  local bodies = {
    { model = model, messages = msgs, logprobs = true, top_logprobs = 2, max_completion_tokens = 5 },
    { model = model, messages = msgs, seed = 12345, temperature = 1, max_completion_tokens = 5 },
    { model = model, messages = msgs, seed = 12345, temperature = 1, max_completion_tokens = 5 },
  }
  local e = self:chat_many(bodies, { no_cache = true, no_store = true, passes = 1, keep_going = true })
  if e[1].error and (e[1].error.status or 0) ~= 400 then return nil, e[1].error end
  local caps = { logprobs = false, top_logprobs = false, seed = false, system_fingerprint = false,
    deterministic = false }
  -- whatever the server sent, only tables are indexed (a completion may lack choices or message)
  local function first_choice(entry)
    local c = not entry.error and type(entry.response.choices) == "table" and entry.response.choices[1]
    return type(c) == "table" and c or nil
  end
  local function content(entry)
    local c = first_choice(entry)
    return c and type(c.message) == "table" and c.message.content or nil
  end
  local c1 = first_choice(e[1])
  local lp = c1 and type(c1.logprobs) == "table" and c1.logprobs.content
  if type(lp) == "table" and type(lp[1]) == "table" then
    caps.logprobs = true
    local top = lp[1].top_logprobs
    caps.top_logprobs = type(top) == "table" and #top > 0
  end
  if not e[2].error and not e[3].error then
    caps.seed = true
    caps.system_fingerprint = e[2].system_fingerprint ~= nil
    local a, b = content(e[2]), content(e[3])
    caps.deterministic = a == b
  end
  return caps
end

require("introspect.client.files")(Client, M)
require("introspect.client.batch")(Client, M)

return M
