-- The serving loop behind `introspect serve`: takes requests from an introspect.httpd server,
-- answers them with a simulated API (api:handle), and holds back responses that carry a fault
-- latency until they are due, without blocking other requests.
local util = require("introspect.core.util")

local M = {}

-- serve(server, api, opts) -> number of requests handled
-- opts: stop() -> true to end the loop (checked between batches), max_requests, idle (seconds
-- to wait for requests per turn, default 0.25), log (function(line) called once per request
-- with "METHOD PATH STATUS MS"; never headers or bodies).
function M.serve(server, api, opts)
  opts = util.check_options("sim.server.serve", opts,
    { stop = "function", max_requests = "integer", idle = "number", log = "function" })
  local now = require("introspect.httpd").now
  local idle = opts.idle or 0.25
  local held = {}   -- delayed responses {due=, id=, res=}, sorted by due
  local handled = 0
  local function send(id, res)
    server:respond(id, res.status, res.headers, res.body, res.fault, res.fault_seconds)
  end
  while true do
    local timeout = idle
    if #held > 0 then timeout = math.max(0, math.min(idle, held[1].due - now())) end
    local reqs = server:wait(timeout)
    for _, req in ipairs(reqs) do
      local started = now()
      local res = api:handle(req)
      handled = handled + 1
      if opts.log then
        opts.log(string.format("%s %s %d %.1f", req.method, req.path:gsub("%?.*$", ""),
          res.fault and 0 or res.status, (now() - started) * 1000))
      end
      if res.delay and res.delay > 0 then
        local item = { due = started + res.delay, id = req.id, res = res }
        local pos = #held + 1
        while pos > 1 and held[pos - 1].due > item.due do pos = pos - 1 end
        table.insert(held, pos, item)
      else
        send(req.id, res)
      end
    end
    local t = now()
    while #held > 0 and held[1].due <= t do
      local item = table.remove(held, 1)
      send(item.id, item.res)
    end
    if (opts.max_requests and handled >= opts.max_requests and #held == 0)
      or (opts.stop and opts.stop()) then
      break
    end
  end
  return handled
end

return M
