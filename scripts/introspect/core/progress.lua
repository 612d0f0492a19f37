-- Progress of a run's phases. On a terminal: one live line per phase, rewritten in place
-- (done/total, rate, ETA, retries, cost so far, fine-tuning job state). Elsewhere: plain
-- timestamped lines, at most one per `interval` seconds per phase, plus start and end.
local util = require "introspect.core.util"
local sys = require "introspect.sys"

local M = {}
M.__index = M

local function fmt_duration(s)
  if s == nil or s ~= s or s == math.huge then return "?" end
  if s < 60 then return string.format("%.0fs", s) end
  if s < 3600 then return string.format("%dm%02ds", s // 60, math.floor(s % 60)) end
  return string.format("%dh%02dm", s // 3600, math.floor((s % 3600) / 60))
end
M.format_duration = fmt_duration

-- new(opts) -> progress
-- opts: out (file, default io.stderr), tty (boolean, default: `out` is a terminal and TERM is
-- not "dumb"), interval (seconds between plain lines, default 10), clock (function returning
-- seconds, default the monotonic clock).
function M.new(opts)
  opts = util.check_options("progress.new", opts,
    { out = "any", tty = "boolean", interval = "number", clock = "function" })
  local self = setmetatable({}, M)
  self.out = opts.out or io.stderr
  if opts.tty ~= nil then
    self.tty = opts.tty
  else
    self.tty = os.getenv("TERM") ~= "dumb" and io.type(self.out) == "file" and sys.isatty(self.out)
  end
  self.interval = opts.interval or 10
  self.clock = opts.clock or sys.now
  self.cost = 0
  return self
end

local function timestamp()
  return os.date("!%Y-%m-%dT%H:%M:%SZ")
end

-- line(phase) -> text of the phase's status line
function M:line(p)
  local parts = { string.format("%-28s", p.name) }
  if p.total and p.total > 0 then
    parts[#parts + 1] = string.format("%d/%d", p.done, p.total)
  elseif p.done > 0 then
    parts[#parts + 1] = tostring(p.done)
  end
  local elapsed = self.clock() - p.started
  if p.done > 0 and elapsed > 0 then
    local rate = p.done / elapsed
    parts[#parts + 1] = string.format("%.0f/s", rate)
    if p.total and p.total > p.done and not p.finished then
      parts[#parts + 1] = "ETA " .. fmt_duration((p.total - p.done) / rate)
    end
  end
  if p.retries > 0 then parts[#parts + 1] = p.retries .. " retries" end
  if p.cached > 0 then parts[#parts + 1] = p.cached .. " cached" end
  if self.cost > 0 then parts[#parts + 1] = string.format("$%.2f", self.cost) end
  if p.state then parts[#parts + 1] = p.state end
  if p.finished then parts[#parts + 1] = "done in " .. fmt_duration(elapsed) end
  return table.concat(parts, "  ")
end

function M:emit(p, force)
  local t = self.clock()
  if self.tty then
    self.out:write("\r\27[K", self:line(p), p.finished and "\n" or "")
    self.out:flush()
  elseif force or t - (p.last_emit or -math.huge) >= self.interval then
    p.last_emit = t
    self.out:write(timestamp(), " ", self:line(p), "\n")
    self.out:flush()
  end
end

-- phase(name, total) -> phase handle with :update{done=, add=, retries=, cached=, state=, cost=}
-- and :finish()
function M:phase(name, total)
  local p = { name = name, total = total, done = 0, retries = 0, cached = 0,
    started = self.clock(), progress = self }
  function p.update(ph, u)
    u = util.check_options("progress phase update", u,
      { done = "number", add = "number", retries = "number", cached = "number", state = "string",
        cost = "number", total = "number" })
    if u.done then ph.done = u.done end
    if u.add then ph.done = ph.done + u.add end
    if u.retries then ph.retries = u.retries end
    if u.cached then ph.cached = u.cached end
    if u.state then ph.state = u.state end
    if u.total then ph.total = u.total end
    if u.cost then self.cost = u.cost end
    self:emit(ph, false)
  end
  function p.finish(ph)
    ph.finished = true
    self:emit(ph, true)
    return self.clock() - ph.started
  end
  self:emit(p, true)
  return p
end

-- message(text): a line of its own, not overwritten.
function M:message(text)
  if self.tty then
    self.out:write("\r\27[K", text, "\n")
  else
    self.out:write(timestamp(), " ", text, "\n")
  end
  self.out:flush()
end

return M
