-- tests/coverage/report.lua DIR ROOT: merges the lua-*.txt files hook.lua wrote into DIR and
-- prints per-file line coverage of ROOT/scripts/**/*.lua and ROOT/experiments/*.lua. A line
-- counts as executable unless it is blank, a comment, or only closes a block ("end", "}",
-- "else", ")", "end)", ...): an approximation of Lua's own activelines.
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

local function executable(text)
  local s = text:gsub("%-%-.*$", ""):match("^%s*(.-)%s*$")
  if s == "" then return false end
  if s:match("^[%]%)}]*[,;]?$") or s:match("^end[%s%)%],;}]*$") or s == "else" or s == "do" or s == "repeat" then
    return false
  end
  return true
end

local files = {}
local find = io.popen("cd '" .. root .. "' && find scripts experiments -name '*.lua' | sort")
for f in find:lines() do files[#files + 1] = f end
find:close()
local total_exec, total_hit = 0, 0
print(string.format("%-52s %7s %7s %7s", "Lua file", "lines", "run", "cover"))
for _, f in ipairs(files) do
  local path = root .. "/" .. f
  local n, h, in_long_comment, in_long_string = 0, 0, false, false
  local i = 0
  for text in io.lines(path) do
    i = i + 1
    if in_long_comment then
      if text:find("%]%]") then in_long_comment = false end
    elseif in_long_string then
      if text:find("%]=*%]") then in_long_string = false end
      if hit[path] and hit[path][i] then n, h = n + 1, h + 1 end
    elseif text:match("^%s*%-%-%[%[") and not text:find("%]%]") then
      in_long_comment = true
    elseif executable(text) then
      n = n + 1
      if hit[path] and hit[path][i] then h = h + 1 end
      if text:find("%[=*%[") and not text:find("%]=*%]") then in_long_string = true end
    end
  end
  total_exec, total_hit = total_exec + n, total_hit + h
  if n > 0 then print(string.format("%-52s %7d %7d %6.1f%%", f, n, h, 100 * h / n)) end
end
print(string.format("%-52s %7d %7d %6.1f%%", "Lua total", total_exec, total_hit,
  100 * total_hit / math.max(total_exec, 1)))
