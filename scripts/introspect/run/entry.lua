-- The entry of an experiment script: its options (with --help and did-you-mean), paths beside
-- the script, one-line errors without tracebacks, exit statuses, and a Ctrl-C that closes what
-- the script opened and says how to resume. An experiment file is then its design:
--
--   local entry = require "introspect.run.entry"
--   entry.main({ program = "demo.lua", description = "What it measures.",
--     options = {
--       { "out", "string", "runs/demo", "run directory (re-running resumes it)" },
--       { "scenarios", "string", entry.beside("scenarios/library.lua"), "scenarios file" },
--     } },
--     function(opts)
--       if opts.trials < 2 then entry.usage_error("--trials must be at least 2") end
--       local s = entry.closing(study.new{ out = opts.out, ... })   -- closed however it ends
--       ...
--       if failed > 0 then return entry.FAILED end                 -- exit status 3
--     end)
--
-- Exit statuses: 0 done; 1 error (one line "program: message" on stderr); 2 bad options or a
-- usage_error; 3 the script returned entry.FAILED (finished, but some requests failed after
-- their retries: run it again to retry them); 130 interrupted (Ctrl-C: one line
-- "interrupted; run the same command again to resume"); 143 stopped by SIGTERM (the same, said
-- as "stopped (SIGTERM); ..."). Whatever was registered with
-- entry.closing is closed (a response store is checkpointed, a run directory unlocked) before
-- the process exits. INTROSPECT_TRACEBACK=1 adds the Lua traceback to an error line.
local options = require "introspect.core.options"

local M = {}

M.DONE, M.ERROR, M.USAGE, M.FAILED, M.INTERRUPTED, M.TERMINATED = 0, 1, 2, 3, 130, 143

-- The line an interrupted script prints.
M.INTERRUPTED_MESSAGE = "interrupted; run the same command again to resume"

local USAGE_MT = { __tostring = function(e) return e.message end }

-- usage_error(fmt, ...): raises a usage error: entry.run prints "program: message" and the
-- "--help" hint and ends with status 2. For option values the spec's types cannot check.
function M.usage_error(fmt, ...)
  error(setmetatable({ usage = true, message = string.format(fmt, ...) }, USAGE_MT), 0)
end

-- here([argv]) -> the directory of the running script (arg[0]'s directory, "." if none).
function M.here(argv)
  argv = argv or _G.arg
  local script = argv and argv[0] or ""
  return script:match("^(.*)/[^/]*$") or "."
end

-- beside(name [, argv]) -> the path of `name` relative to the running script's directory.
function M.beside(name, argv)
  if name:sub(1, 1) == "/" then return name end
  return M.here(argv) .. "/" .. name
end

-- Options that say where and how a run goes, not what it measures: never part of its design.
M.NOT_DESIGN = { "out", "backend", "model", "models", "max_cost", "prices", "dry_run", "poll_interval", "help",
  "_args" }

-- design(opts [, except]) -> a copy of the parsed options that make up the run's design (what
-- besides backend and models makes two runs the same run; study.session's design=): all but
-- M.NOT_DESIGN and the names in `except` (option names with _ for -). A new option is thus part
-- of the design unless said otherwise, so a re-run that changes it is refused, never mixed in.
function M.design(opts, except)
  local skip = {}
  for _, list in ipairs({ M.NOT_DESIGN, except or {} }) do
    for _, k in ipairs(list) do skip[k] = true end
  end
  local out = {}
  for k, v in pairs(opts) do
    if not skip[k] then out[k] = v end
  end
  return out
end

-- The objects entry.closing registered, closed in reverse order when the script ends.
local closables = {}

-- closing(obj) -> obj: obj:close() runs when the script ends, however it ends (done, error,
-- Ctrl-C); closing an object twice must be harmless (study sessions, stores and run
-- directories are). Returns obj, so `local s = entry.closing(study.new{...})`.
function M.closing(obj)
  if type(obj) ~= "table" and type(obj) ~= "userdata" then
    error("entry.closing: expected an object with a close method, got " .. type(obj), 2)
  end
  closables[#closables + 1] = obj
  return obj
end

-- Closes every registered object (newest first); returns the first failure's message or nil.
local function close_all()
  local first
  for i = #closables, 1, -1 do
    local obj = closables[i]
    closables[i] = nil
    local ok, err = pcall(function() return obj:close() end)
    if not ok and not first then first = tostring(err) end
  end
  return first
end

local RUNTIME = { "attempt to ", "bad argument", "stack overflow", "table index is" }

-- message(err) -> one line for an error value: a structured error's own text, positions
-- ("scripts/introspect/x.lua:12: ", or the script's own) removed from a message raised on
-- purpose; a Lua runtime error (a bug) keeps its position and says it is one; a position in any
-- other file (a data file written in Lua) stays.
function M.message(err)
  if type(err) == "table" then
    local mt = getmetatable(err)
    if mt and mt.__tostring then return tostring(err) end
    if type(err.message) == "string" then return err.message end
  end
  local msg = tostring(err)
  for _, r in ipairs(RUNTIME) do
    local at = msg:find(r, 1, true)
    if at and msg:sub(1, at - 1):match("^[^\n]*%.lua:%d+: $") then
      return "internal error: " .. msg .. " (please report it; INTROSPECT_TRACEBACK=1 shows where)"
    end
  end
  -- positions inside the library or the script itself are dropped; a position in another file
  -- (a scenarios file with a syntax error) is the message's point and stays
  local script = _G.arg and _G.arg[0]
  while true do
    local file, rest = msg:match("^([^\n:]*%.lua):%d+: (.*)$")
    if not file or not (file:find("introspect/", 1, true) or file == script) then break end
    msg = rest
  end
  return msg
end

-- interrupted(err) -> whether err (or the host's flag) says the user pressed Ctrl-C or the
-- process got SIGTERM; second value "SIGINT" or "SIGTERM".
function M.interrupted(err)
  local ok, host = pcall(require, "introspect.host")
  local flagged, signal = false, nil
  if ok and type(host) == "table" and host.interrupted then flagged, signal = host.interrupted() end
  if flagged then return true, signal or "SIGINT" end
  if type(err) == "string" and err:match("interrupted!$") then return true, "SIGINT" end
  return false
end

local function program_name(info, argv)
  if info.program then return info.program end
  local script = argv and argv[0] or "introspect"
  return script:match("([^/]*)$")
end

-- run(info, fn [, argv [, stderr]]) -> exit status (never exits; entry.main does).
-- info: program (for messages; default the script's file name), usage, description, options
-- (an introspect.core.options spec), arguments (a usage text such as "FILE...": positionals
-- are accepted and passed as opts._args; without it a positional is a usage error).
-- Parses argv (default the global arg); --help prints the help on stdout (status 0); then
-- calls fn(opts) and maps how it ends to an exit status.
function M.run(info, fn, argv, stderr)
  argv = argv or _G.arg or {}
  stderr = stderr or io.stderr
  local program = program_name(info, argv)
  local usage = info.usage or ("introspect " .. (argv[0] or program) .. " [options]"
    .. (info.arguments and " " .. info.arguments or ""))
  local opts, list = options.try_parse(argv, info.options or {})
  if opts and #opts._args > 0 and not info.arguments and not opts.help then
    opts, list = nil, string.format("unexpected argument '%s' (options are written --name=value)",
      opts._args[1])
  end
  if not opts then
    stderr:write(program, ": ", list, "\nusage: ", usage, "\nRun with --help for the options.\n")
    return M.USAGE
  end
  if opts.help then
    list.__normalized = true
    io.stdout:write(options.help(list, { usage = usage, description = info.description }))
    return M.DONE
  end
  opts.help = nil
  local trace
  local ok, result = xpcall(fn, function(err)
    if os.getenv("INTROSPECT_TRACEBACK") and not M.interrupted(err) then
      trace = debug.traceback(nil, 2)
    end
    return err
  end, opts)
  local status
  if ok then
    status = math.type(result) == "integer" and result or M.DONE
  elseif M.interrupted(result) then
    local _, signal = M.interrupted(result)
    if signal == "SIGTERM" then
      stderr:write("stopped (SIGTERM); run the same command again to resume\n")
      status = M.TERMINATED
    else
      stderr:write(M.INTERRUPTED_MESSAGE, "\n")
      status = M.INTERRUPTED
    end
  elseif type(result) == "table" and result.usage then
    stderr:write(program, ": ", result.message, "\nRun with --help for the options.\n")
    status = M.USAGE
  else
    stderr:write(program, ": ", M.message(result), "\n")
    if trace then stderr:write(trace, "\n") end
    status = M.ERROR
  end
  local cerr = close_all()
  if cerr then
    stderr:write(program, ": while closing: ", M.message(cerr), "\n")
    if status == M.DONE then status = M.ERROR end
  end
  return status
end

-- main(info, fn): entry.run, then exits with its status, closing the Lua state (so every
-- handle still open is finalized: SQLite files checkpointed, locks released).
function M.main(info, fn)
  os.exit(M.run(info, fn), true)
end

return M
