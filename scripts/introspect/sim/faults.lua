-- Seeded fault injection for the simulated API (testing clients): latency, 429 with and
-- without retry-after, 500, 503, a proxy's HTML 502, connection resets, truncated bodies, wrong
-- content types, slowly trickled (slow-loris) bodies and oversized bodies.
--
-- Spec: a string "429=0.02,500=0.01,503=0.01,reset=0.01,truncate=0.01,latency=20ms,
-- latency_sigma=0.5,retry_after=1,seed=7,scope=chat" or a table with the same keys. Rates are
-- probabilities per request; latency is the median of a log-normal delay (seconds, or with an
-- "ms" suffix); scope "chat" (default) injects into chat completions only, "all" into every
-- endpoint. Faults that create nothing (429/429_bare/500/502/503/html/reset) are drawn before the
-- request is handled; truncate, content_type, slow and oversize change successful chat
-- responses only (the body's JSON is unchanged by all but truncate).
local hash = require("introspect.sim.hash")

local M = {}

local KEYS = {
  ["429"] = "rate", ["500"] = "rate", ["503"] = "rate", reset = "rate", truncate = "rate",
  latency = "seconds", latency_sigma = "number", retry_after = "number", seed = "number",
  scope = "scope",
  ["429_bare"] = "rate",      -- 429 without retry-after / retry-after-ms
  html = "rate",              -- 502 with a proxy's text/html error page
  content_type = "rate",      -- a successful response labelled text/plain
  slow = "rate",              -- a successful body trickled over slow_seconds (slow-loris)
  slow_seconds = "seconds",   -- default 2
  oversize = "rate",          -- a successful body padded with white space to oversize_bytes
  oversize_bytes = "number",  -- default 4 MiB
}

-- Rate keys in the order their intervals are laid out on [0, 1): new classes come last, so a
-- spec without them draws exactly as before.
local RATES = { "429", "500", "503", "reset", "truncate", "429_bare", "html", "content_type", "slow",
  "oversize" }

M.HTML_502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
  .. "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"

-- parse(spec) -> table of fault settings | raises with the offending key named.
function M.parse(spec)
  local out = {}
  if spec == nil or spec == "" then return out end
  local items = {}
  if type(spec) == "string" then
    for item in spec:gmatch("[^,]+") do
      local k, v = item:match("^%s*([%w_]+)%s*=%s*(.-)%s*$")
      if not k then error(string.format("faults: cannot read '%s' (want key=value)", item), 0) end
      items[#items + 1] = { k, v }
    end
  elseif type(spec) == "table" then
    for k, v in pairs(spec) do items[#items + 1] = { tostring(k), v } end
  else
    error("faults: spec must be a string or a table", 0)
  end
  for _, kv in ipairs(items) do
    local k, v = kv[1], kv[2]
    local kind = KEYS[k]
    if not kind then
      local names = {}
      for name in pairs(KEYS) do names[#names + 1] = name end
      table.sort(names)
      error(string.format("faults: unknown key '%s' (known: %s)", k, table.concat(names, ", ")), 0)
    end
    local x
    if kind == "scope" then
      if v ~= "chat" and v ~= "all" then error("faults: scope must be chat or all", 0) end
      x = v
    elseif kind == "seconds" and type(v) == "string" and v:match("ms$") then
      x = tonumber(v:sub(1, -3))
      x = x and x / 1000
    elseif kind == "seconds" and type(v) == "string" then
      x = tonumber((v:gsub("s$", "")))
    else
      x = tonumber(v)
    end
    if x == nil then error(string.format("faults: '%s' needs a number, got '%s'", k, tostring(v)), 0) end
    if kind == "rate" and (x < 0 or x > 1) then
      error(string.format("faults: rate '%s' must be between 0 and 1, got %s", k, tostring(v)), 0)
    end
    if kind ~= "scope" and kind ~= "rate" and x < 0 then
      error(string.format("faults: '%s' must be >= 0", k), 0)
    end
    out[k] = x
  end
  local total = 0
  for _, k in ipairs(RATES) do total = total + (out[k] or 0) end
  if total > 1 then error("faults: the rates add up to more than 1", 0) end
  return out
end

local Faults = {}
Faults.__index = Faults

-- new(spec, seed) -> fault source (draws are a function of the seed and the request number).
function M.new(spec, seed)
  local f = M.parse(spec)
  local self = setmetatable(f, Faults)
  self.n = 0
  self.h = hash.combine(hash.mix(seed or 0), math.tointeger(f.seed or 0) or 0)
  local total = 0
  for _, k in ipairs(RATES) do total = total + (f[k] or 0) end
  self.active = total > 0 or (f.latency or 0) > 0
  return self
end

-- faults:draw(is_chat) -> nil | {delay=, status=, message=, type=, code=, retry_after=,
-- reset=, truncate=, html=, content_type=, slow=, oversize=}
function Faults:draw(is_chat)
  if not self.active or (not is_chat and self.scope ~= "all") then return nil end
  self.n = self.n + 1
  local h = hash.combine(self.h, self.n)
  local out = {}
  if (self.latency or 0) > 0 then
    out.delay = self.latency * math.exp((self.latency_sigma or 0.5) * hash.normal(hash.combine(h, 1)))
  end
  local u = hash.uniform(hash.mix(h))
  local edge = self["429"] or 0
  if u < edge then
    out.status, out.type, out.code = 429, "requests", "rate_limit_exceeded"
    out.retry_after = self.retry_after or 1
    out.message = "Rate limit reached for requests (simulated fault). Please try again in "
      .. tostring(out.retry_after) .. "s."
    return out
  end
  edge = edge + (self["500"] or 0)
  if u < edge then
    out.status, out.type = 500, "server_error"
    out.message = "The server had an error while processing your request (simulated fault)."
    return out
  end
  edge = edge + (self["503"] or 0)
  if u < edge then
    out.status, out.type = 503, "server_error"
    out.message = "The engine is currently overloaded, please try again later (simulated fault)."
    return out
  end
  edge = edge + (self.reset or 0)
  if u < edge then out.reset = true return out end
  edge = edge + (self.truncate or 0)
  if u < edge then
    if is_chat then out.truncate = true end
    return out
  end
  edge = edge + (self["429_bare"] or 0)
  if u < edge then
    out.status, out.type, out.code = 429, "requests", "rate_limit_exceeded"
    out.message = "Rate limit reached for requests (simulated fault, no retry-after)."
    return out
  end
  edge = edge + (self.html or 0)
  if u < edge then
    out.status, out.type, out.html = 502, "server_error", true
    out.message = "Bad gateway (simulated fault)."
    return out
  end
  for _, k in ipairs({ "content_type", "slow", "oversize" }) do
    edge = edge + (self[k] or 0)
    if u < edge then
      if is_chat then out[k] = true end
      return out
    end
  end
  return out
end

-- faults:shape(fault, res, status, body) -> body: applies the faults that change a response
-- (an HTML 502 page; on a 200: a text/plain content type, a slow body (res.fault = "slow",
-- res.fault_seconds), white-space padding) to res.headers and returns the body to send.
function Faults:shape(fault, res, status, body)
  if fault.html then
    res.headers["content-type"] = "text/html"
    return M.HTML_502
  end
  if status ~= 200 then return body end
  if fault.content_type then res.headers["content-type"] = "text/plain; charset=utf-8" end
  if fault.slow then res.fault, res.fault_seconds = "slow", self.slow_seconds or 2 end
  if fault.oversize then
    local want = math.tointeger(self.oversize_bytes or (4 << 20)) or (4 << 20)
    if want > #body then body = body .. string.rep(" ", want - #body - 1) .. "\n" end
  end
  return body
end

return M
