-- `make bench`: runs every benchmark in tests/bench/ (or those named on the command line) in
-- its own host process and prints what each measured, with its ratio against a peer measured
-- in the same run. Exit status 1 if any benchmark failed to run.
local host = require "introspect.host"

local exe = arg[-1] or "introspect"
local names = {}
for i = 1, #arg do names[#names + 1] = arg[i] end
if #names == 0 then
  local p = io.popen("ls tests/bench/*.lua 2>/dev/null")
  for path in p:lines() do
    local name = path:match("tests/bench/([%w_%-]+)%.lua$")
    if name and name ~= "run" then names[#names + 1] = name end
  end
  p:close()
end

local failures = 0
print((host.version()))
for _, name in ipairs(names) do
  print(string.format("\n== %s ==", name))
  io.stdout:flush()
  local ok = os.execute(string.format("'%s' tests/bench/%s.lua", exe, name))
  if not ok then
    failures = failures + 1
    print(string.format("benchmark %s FAILED", name))
  end
end
print(string.format("\n%d benchmarks run, %d failed", #names, failures))
os.exit(failures == 0 and 0 or 1)
