-- `introspect serve`: the simulated subject's OpenAI-compatible API over HTTP (docs/serve.md).
local M = { summary = "serve the simulated subject over an OpenAI-compatible HTTP API" }

local USAGE = "introspect serve [--port=N] [--host=127.0.0.1] [--profile=sim-small,sim-large] "
  .. "[--faults=SPEC] [--key=KEY] [--state-dir=DIR] [--job-duration=S] [--batch-duration=S]"

function M.main(args)
  local options = require("introspect.core.options")
  local opts = options.parse(args, {
    { "port", "integer", 8080, "TCP port (0 picks a free one)" },
    { "host", "string", "127.0.0.1", "address to bind (default: loopback only)" },
    { "profile", "list", nil, "profiles to serve as base models (default: all built-in)" },
    { "faults", "string", nil, "fault injection, e.g. 429=0.02,500=0.01,reset=0.01,latency=20ms,seed=1" },
    { "key", "string", nil, "require this bearer key (default: none; or INTROSPECT_SERVE_KEY)" },
    { "state-dir", "string", nil, "persist files, jobs, models and batches in this directory" },
    { "job-duration", "number", 0, "seconds a fine-tuning job takes (validating, queued, running)" },
    { "batch-duration", "number", 0, "seconds a batch takes" },
    { "seed", "integer", 0, "seed of ids and faults" },
    { "max-body", "integer", 64 * 1024 * 1024, "largest request body in bytes" },
    { "rpm", "number", nil, "enforce this many requests per minute (429 beyond)" },
    { "tpm", "number", nil, "enforce this many tokens per minute (429 beyond)" },
    { "log", "boolean", false, "print one line per request to stderr" },
  }, { usage = USAGE, program = "introspect serve" })
  local sim = require("introspect.sim")
  local httpd = require("introspect.httpd")
  local key = opts.key or os.getenv("INTROSPECT_SERVE_KEY")
  local rate = (opts.rpm or opts.tpm) and { rpm = opts.rpm, tpm = opts.tpm } or nil
  local ok, api = pcall(sim.api, { profiles = opts.profile, faults = opts.faults, key = key,
    state_dir = opts.state_dir, job_duration = opts.job_duration, batch_duration = opts.batch_duration,
    seed = opts.seed, max_body = opts.max_body, rate_limits = rate })
  if not ok then
    io.stderr:write("introspect serve: ", tostring(api), "\n")
    return 2
  end
  local server, err = httpd.new({ host = opts.host, port = opts.port, max_body = opts.max_body })
  if not server then
    io.stderr:write("introspect serve: ", err, "\n")
    return 1
  end
  local host = opts.host:find(":", 1, true) and ("[" .. opts.host .. "]") or opts.host
  local names = {}
  for _, id in ipairs(api.model_list) do names[#names + 1] = id end
  io.stdout:write(string.format("introspect serve: listening on http://%s:%d/v1\n", host, server:port()))
  io.stdout:write("introspect serve: models ", table.concat(names, ", "),
    " (a documented statistical model of a subject, not an LLM)\n")
  io.stdout:flush()
  local log
  if opts.log then log = function(line) io.stderr:write(line, "\n") end end
  -- Ctrl-C or SIGTERM raises "interrupted!" from server:wait or, through the host's hook, from
  -- the next Lua instruction; the nested pcall catches both, so the server is always closed and
  -- says where its state is.
  local loop = require("introspect.sim.server").serve
  local served_ok, serr = pcall(function()
    local ok_inner, err_inner = pcall(loop, server, api, { log = log })
    if not ok_inner then error(err_inner, 0) end
  end)
  server:close()
  if not served_ok then
    if tostring(serr):find("interrupted!", 1, true) then
      local hok, hostlib = pcall(require, "introspect.host")
      local signal = hok and select(2, hostlib.interrupted()) or nil
      io.stdout:write(string.format("introspect serve: stopped (%s); %s\n", signal or "SIGINT",
        opts.state_dir and ("its files, jobs, models and batches are in " .. opts.state_dir ..
          " (serve --state-dir=" .. opts.state_dir .. " continues from them)")
        or "it kept no state (--state-dir=DIR keeps files, jobs, models and batches)"))
      io.stdout:flush()
      return 0
    end
    io.stderr:write("introspect serve: ", tostring(serr), "\n")
    return 1
  end
  return 0
end

return M
