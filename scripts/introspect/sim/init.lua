-- The simulated subject as a backend: `local sim = require("introspect.sim")`.
--   sim.api(opts)        -> api object with api:handle(req) -> res (the OpenAI API, in Lua)
--   sim.transport(api)   -> in-process Transport (docs/architecture.md): no sockets
--   sim.profiles         -> the built-in profiles (sim-small, sim-large)
-- The subject is a documented statistical model (docs/simulated-subject.md), never an LLM.
local util = require("introspect.core.util")
local api_mod = require("introspect.sim.api")

local M = {}

M.profiles = require("introspect.sim.profiles")
-- The names of sim.api's options (docs/serve.md).
M.API_OPTIONS = api_mod.OPTIONS
M.subject = require("introspect.sim.subject")

-- api(opts) -> a new simulated OpenAI API (options in docs/serve.md).
function M.api(opts) return api_mod.new(opts) end

local Transport = {}
Transport.__index = Transport
Transport.__name = "introspect.sim.transport"

function Transport.__tostring(t)
  return string.format("introspect.sim.transport (%d requests)", t.requests)
end

-- lower_headers(h) -> copy with lower-case names (the handler expects them lower-case).
local function lower_headers(h)
  local out = {}
  if type(h) == "table" then
    for k, v in pairs(h) do
      if type(k) == "string" then out[k:lower()] = v end
    end
  end
  return out
end

local RETRYABLE = { [408] = true, [409] = true, [429] = true, [500] = true, [502] = true,
                    [503] = true, [504] = true }

local PERFORM_OPTIONS = { on_result = "function", progress = "function", progress_interval = "number" }

---perform_options(where, requests, opts) -> opts: the checks both sim transports' perform
---make of their arguments (raising at the caller's caller, naming `where`).
---@param where string
---@param requests any
---@param opts? table
---@return table
function M.perform_options(where, requests, opts)
  if type(requests) ~= "table" then error(where .. ": argument 1 must be a list of requests", 3) end
  return util.check_options(where, opts, PERFORM_OPTIONS)
end

---call_of(req) -> the handler's request {method=, path=, headers=, body=} of a Transport request
---{method=, url=, headers=, body=}.
---@param req table
---@return table
function M.call_of(req)
  local path = req.url:match("^%a[%w+.-]*://[^/]*(/.*)$") or req.url:match("^/.*$") or "/"
  return { method = (req.method or "GET"):upper(), path = path, headers = lower_headers(req.headers), body = req.body }
end

---calls() -> a function(req) -> call_of(req) that reuses the method, path and headers table of
---the call before when the request has the same method, url and headers table as the one
---before (the requests of one phase share them); the handler only reads them.
---@return fun(req: table): table
function M.calls()
  local method, url, headers, last
  return function(req)
    if last and req.method == method and req.url == url and req.headers == headers then
      return { method = last.method, path = last.path, headers = last.headers, body = req.body }
    end
    last = M.call_of(req)
    method, url, headers = req.method, req.url, req.headers
    return last
  end
end

---clock() -> seconds on a monotonic wall clock: what a result's time (its latency) is measured
---with (the API's clock, introspect.sim.api.clock).
---@return number
M.clock = api_mod.clock

---outcome(res, attempts, started) -> the Transport result of a handler's reply (a simulated
---reset or truncated body is an error), and whether another attempt is worth it.
---@param res table {status=, headers=, body=, fault=}
---@param attempts integer
---@param started number sim.clock() when the request started
---@return table result
---@return boolean retryable
function M.outcome(res, attempts, started)
  local err
  if res.fault == "reset" then
    err = "connection reset by peer (simulated)"
  elseif res.fault == "truncate" then
    err = "transfer closed with outstanding read data remaining (simulated truncated body)"
  end
  if err then return { headers = {}, error = err, attempts = attempts, time = M.clock() - started }, true end
  return { status = res.status, headers = res.headers, body = res.body, attempts = attempts,
    time = M.clock() - started }, RETRYABLE[res.status] or false
end

-- Options of an http pool (introspect.http) that the in-process transport accepts so the two
-- are interchangeable in backend profiles; only max_retries has an effect here.
local POOL_OPTIONS = { concurrency = "number", rpm = "number", tpm = "number", max_retries = "integer",
  backoff_base = "number", backoff_max = "number", retry_after_max = "number",
  connect_timeout = "number", timeout = "number", http2 = "boolean", user_agent = "string",
  ca_file = "string", learn_limits = "boolean" }

-- transport([api,] opts) -> in-process transport.
-- With an api object (from sim.api) the transport calls that api; otherwise it creates one
-- from opts, which may hold any sim.api option (profiles, key, faults, seed, job_duration,
-- batch_duration, clock, state_dir, max_body, organization, rate_limits) and the http pool
-- options (accepted for compatibility; only max_retries, default 2, is used: it bounds the
-- retries of simulated faults, with no waiting between them). transport.api is the api.
function M.transport(api, opts)
  if type(api) == "table" and type(api.handle) == "function" then
    opts = util.check_options("sim.transport", opts, { max_retries = "integer" })
  else
    if opts ~= nil then error("sim.transport: without an api object, pass one options table", 2) end
    local spec = {}
    for k, v in pairs(POOL_OPTIONS) do spec[k] = v end
    for k, v in pairs(api_mod.OPTIONS) do spec[k] = v end
    opts = util.check_options("sim.transport", api, spec)
    local api_opts = {}
    for k, v in pairs(opts) do
      if api_mod.OPTIONS[k] then api_opts[k] = v end
    end
    api = api_mod.new(api_opts)
  end
  return setmetatable({ api = api, max_retries = opts.max_retries or 2, requests = 0 }, Transport)
end

local clock = M.clock

-- transport:perform(requests, opts) -> results (same order); see docs/architecture.md.
-- opts: on_result(i, result) (called as each finishes; false stops the rest, which come back
-- with error "cancelled"), progress(info) with {done=, total=, active=, waiting=, queued=,
-- retries=, elapsed=} (called at the end; false is ignored), progress_interval (accepted).
function Transport:perform(requests, opts)
  opts = M.perform_options("sim.transport:perform", requests, opts)
  local max_retries = self.max_retries
  local results, retries, stopped = {}, 0, false
  local started_all = clock()
  local call_of = M.calls()
  for i, req in ipairs(requests) do
    if type(req) ~= "table" or type(req.url) ~= "string" then
      error(string.format("sim.transport:perform: request %d needs a url", i), 2)
    end
    if stopped then
      results[i] = { error = "cancelled", attempts = 0, time = 0, headers = {} }
    else
      local started = clock()
      local call = call_of(req)
      local attempts, r, again = 0, nil, nil   -- luacheck: ignore 311
      repeat
        attempts = attempts + 1
        self.requests = self.requests + 1
        r, again = M.outcome(self.api:handle(call), attempts, started)
      until attempts > max_retries or not again
      retries = retries + attempts - 1
      results[i] = r
      if opts.on_result and opts.on_result(i, r) == false then stopped = true end
    end
  end
  if opts.progress then
    opts.progress({ done = #results, total = #requests, active = 0, waiting = 0, queued = 0,
                    retries = retries, elapsed = clock() - started_all })
  end
  return results
end

return M
