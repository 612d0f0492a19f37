-- tests/coverage/report.lua DIR ROOT: merges the lua-*.txt files hook.lua wrote into DIR and
-- prints per-file line coverage of ROOT/scripts/**/*.lua and ROOT/experiments/*.lua. A line
-- counts as executable when it holds a bytecode instruction (luac5.4 -l), as Lua's activelines.
local dir, root = arg[1], arg[2]
local hit = {}
local p = io.popen("cat '" .. dir .. "'/lua-*.txt 2>/dev/null")
local lost = 0
for line in p:lines() do
  local path, n = line:match("^(.-)\t(%d+)$")
  if path == "lost" then
    lost = lost + tonumber(n)
  elseif path then
    if path:sub(1, 2) == "./" then path = root .. path:sub(2) end
    if path:sub(1, 1) ~= "/" then path = root .. "/" .. path end
    hit[path] = hit[path] or {}
    hit[path][tonumber(n)] = true
  end
end
p:close()
if lost > 0 then
  io.stderr:write(string.format("coverage: %d line events were not recorded (out of memory): no Lua numbers\n", lost))
  os.exit(1)
end

-- executable(path) -> {[line] = true} for every line that holds a bytecode instruction of the
-- file's functions (luac5.4 -p -l) but VARARGPREP: the lines a line hook can see; raises if
-- luac5.4 fails.
local function executable(path)
  local out = io.popen("luac5.4 -p -l '" .. path .. "' 2>&1")
  local lines, any = {}, false
  for l in out:lines() do
    local n, op = l:match("^%s+%d+%s+%[(%d+)%]%s+(%u+)")
    -- a vararg function's VARARGPREP makes no line event (hooks start after it)
    if n and op ~= "VARARGPREP" then lines[tonumber(n)] = true end
    any = any or n ~= nil
  end
  out:close()
  if not any then error("tests/coverage/report.lua: luac5.4 -p -l " .. path .. " listed no instructions", 0) end
  return lines
end

local files = {}
local find = io.popen("cd '" .. root .. "' && find scripts experiments -name '*.lua' | sort")
for f in find:lines() do files[#files + 1] = f end
find:close()
local total_exec, total_hit = 0, 0
print(string.format("%-52s %7s %7s %7s", "Lua file", "lines", "run", "cover"))
for _, f in ipairs(files) do
  local path = root .. "/" .. f
  local n, h = 0, 0
  for line in pairs(executable(path)) do
    n = n + 1
    if hit[path] and hit[path][line] then h = h + 1 end
  end
  total_exec, total_hit = total_exec + n, total_hit + h
  if n > 0 then print(string.format("%-52s %7d %7d %6.1f%%", f, n, h, 100 * h / n)) end
end
print(string.format("%-52s %7d %7d %6.1f%%", "Lua total", total_exec, total_hit,
  100 * total_hit / math.max(total_exec, 1)))
