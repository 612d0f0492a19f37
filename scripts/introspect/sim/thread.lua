-- The simulated subject in a thread of its own (introspect.worker): a Transport
-- (docs/architecture.md) whose api answers in another Lua state on the other core, while the
-- client records the answers it already has. Requests are answered one at a time in the order
-- they were sent, by one api, so the results are those of the in-process transport
-- (sim.transport), only sooner. Options must be plain values (strings, numbers, booleans, lists
-- of profile names): they are copied into the other state. A study session uses it for
-- backend "sim" (introspect.client.backend, threaded = true).
local util = require("introspect.core.util")
local cjson = require("cjson")
local json = require("introspect.core.json")
local sim = require("introspect.sim")

local M = {}

-- What runs in the worker's state: an api from the options, answering until the channel closes.
local CODE = [[
local channel, options = ...
local api = require("introspect.sim.api").new(load(options, "=options", "t", {})())
local cjson = require("cjson")
local json = require("introspect.core.json")
local last_meta, last   -- a phase's requests share their method, path and headers
while true do
  local id, meta, body = channel:recv()
  if not id then return end
  if meta ~= last_meta then last_meta, last = meta, json.decode(meta) end
  local call = { method = last.method, path = last.path, headers = last.headers, body = body }
  local res = api:handle(call)
  channel:send(id, cjson.encode({ status = res.status, headers = res.headers, fault = res.fault }), res.body)
end
]]

-- Requests in flight at once: enough to keep the worker busy while the client works. The window
-- is topped up REFILL requests at a time, so a subject faster than the client is woken once per
-- REFILL requests (a system call each), not once per request.
M.WINDOW, M.REFILL = 256, 64

local Transport = {}
Transport.__index = Transport
Transport.__name = "introspect.sim.thread"

-- literal(v) -> Lua source of a plain value (numbers exact, integers stay integers) | nil
local function literal(v)
  local t = type(v)
  if t == "string" or t == "number" or t == "boolean" then return string.format("%q", v) end
  if t == "table" then
    local parts = {}
    for i, x in ipairs(v) do
      if type(x) ~= "string" then return nil end
      parts[i] = string.format("%q", x)
    end
    for k in pairs(v) do if math.type(k) ~= "integer" or k < 1 or k > #v then return nil end end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return nil
end

-- options_source(opts) -> "return {...}" | nil when a value cannot be copied (a function, a
-- profile table)
function M.options_source(opts)
  local fields = {}
  for k, v in pairs(opts or {}) do
    local text = literal(v)
    if not text then return nil end
    fields[#fields + 1] = string.format("[%q]=%s", k, text)
  end
  table.sort(fields)
  return "return {" .. table.concat(fields, ",") .. "}"
end

---available(opts) -> whether the subject can run in a thread with these api options (the worker
---binding loads, and every option is a plain value).
---@param opts? table sim.api options
---@return boolean
function M.available(opts)
  return M.options_source(opts) ~= nil and (pcall(require, "introspect.worker"))
end

---new(opts [, {max_retries=}]) -> transport: a simulated subject (sim.api options, plain
---values only) answering in its own thread; transport:close() ends it (also at collection).
---@param opts? table
---@param topts? table
---@return table
function M.new(opts, topts)
  topts = util.check_options("sim.thread", topts, { max_retries = "integer" })
  local source = M.options_source(opts)
  if not source then error("sim.thread: options must be plain values (strings, numbers, booleans)", 2) end
  local worker = require "introspect.worker"
  local w, err = worker.start(CODE, source)
  if not w then error(err, 2) end
  return setmetatable({ worker = w, max_retries = topts.max_retries or 2, requests = 0 }, Transport)
end

local clock = sim.clock

---transport:perform(requests, opts) -> results (same order), as sim.transport's: on_result(i,
---result) as each finishes (false stops the rest: "cancelled"), progress(info) at the end.
---@param requests table[]
---@param opts? table
---@return table[]
function Transport:perform(requests, opts)
  opts = sim.perform_options("sim.thread:perform", requests, opts)
  local w, n = self.worker, #requests
  local results, attempts, started, metas = {}, {}, {}, {}
  local next_send, outstanding, done, retries, stopped = 1, 0, 0, 0, false
  local started_all = clock()
  -- the call's method, path and headers as JSON, encoded again only when they change (sim.calls
  -- gives a call a new headers table then)
  local call_of, encoded, encoded_headers = sim.calls(), nil, nil
  local function send(i)
    local req = requests[i]
    if not metas[i] then
      if type(req) ~= "table" or type(req.url) ~= "string" then
        error(string.format("sim.thread:perform: request %d needs a url", i), 3)
      end
      local call = call_of(req)
      if call.headers ~= encoded_headers then
        call.body = nil
        encoded, encoded_headers = cjson.encode(call), call.headers
      end
      metas[i] = encoded
      started[i] = clock()
    end
    attempts[i] = (attempts[i] or 0) + 1
    self.requests = self.requests + 1
    local ok, serr = w:send(i, metas[i], req.body)
    if not ok then error("sim.thread: the simulated subject's thread has ended: " .. tostring(w:error() or serr), 0) end
    outstanding = outstanding + 1
  end
  while true do
    if outstanding <= M.WINDOW - M.REFILL then
      while not stopped and next_send <= n and outstanding < M.WINDOW do
        send(next_send)
        next_send = next_send + 1
      end
    end
    if outstanding == 0 then break end
    local id, meta, body = w:recv()
    if id then
      outstanding = outstanding - 1
      local res = json.decode(meta)
      res.status, res.body = math.tointeger(res.status), body   -- cjson reads numbers as floats
      local r, again = sim.outcome(res, attempts[id], started[id])
      if again and attempts[id] <= self.max_retries and not stopped then
        retries = retries + 1
        send(id)
      elseif not stopped then
        results[id], done = r, done + 1
        if opts.on_result and opts.on_result(id, r) == false then stopped = true end
      end
    elseif meta == "closed" then
      error("sim.thread: the simulated subject's thread has ended: " .. tostring(w:error() or "?"), 0)
    end
    -- "interrupted": the host raises "interrupted!" at the next Lua instruction
  end
  for i = 1, n do
    if not results[i] then results[i] = { error = "cancelled", attempts = 0, time = 0, headers = {} } end
  end
  if opts.progress then
    opts.progress({ done = done, total = n, active = 0, waiting = 0, queued = 0, retries = retries,
      elapsed = clock() - started_all })
  end
  return results
end

---transport:close(): ends the subject's thread (requests still queued are dropped). Harmless twice.
function Transport:close()
  if self.worker then self.worker:close() end
end

function Transport:__tostring()
  return string.format("introspect.sim.thread (%d requests)", self.requests)
end

return M
