-- No silent skips. A spec whose prerequisite is missing calls
--   local skip = require "lib.skip"
--   if skip.missing("stimuli", "../shared/paper-data absent (" .. path .. ")") then return end
-- which, under CI=true, raises (the test FAILS, naming what is missing), unless the
-- prerequisite is declared optional ({optional = "why it may be absent"}). Otherwise it prints
-- "SKIP: ..." and appends "TEST: why" to $INTROSPECT_SKIP_LOG, which `make test` lists at the end.
local M = {}

-- ci() -> true when running under CI=true (or CI=1)
function M.ci()
  local v = os.getenv("CI")
  return v == "true" or v == "1"
end

-- record(test, why): appends one line to the skip log (when the environment names one)
function M.record(test, why)
  local path = os.getenv("INTROSPECT_SKIP_LOG")
  if not path or path == "" then return end
  local f = io.open(path, "a")
  if f then
    f:write(test, ": ", (why:gsub("\n", " ")), "\n")
    f:close()
  end
end

-- missing(test, why[, opts]) -> true (the caller skips) | raises under CI=true.
-- opts.optional: why the prerequisite may legitimately be absent (then it is skipped and
-- listed under CI too).
function M.missing(test, why, opts)
  local optional = opts and opts.optional
  if M.ci() and not optional then
    error(string.format("%s: prerequisite missing under CI=true: %s", test, why), 2)
  end
  local line = optional and (why .. " (optional: " .. optional .. ")") or why
  print("SKIP: " .. line)
  M.record(test, line)
  return true
end

return M
