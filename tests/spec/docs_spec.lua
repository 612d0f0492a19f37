-- docs/scripting.md documents every public function: for every module in scripts/introspect/
-- and every C binding, each function of the module table (and each method of the binding's
-- handle metatables "introspect.NAME.*") whose name does not start with "_" must appear in a
-- code span of that module's section of docs/scripting.md (a heading that names the module in
-- backticks) or of a docs/*.md file that the section links to.
local util = require "introspect.core.util"

local ROOT = os.getenv("INTROSPECT_SOURCE") or "."

local function read(path)
  return assert(util.read_file(ROOT .. "/" .. path), "cannot read " .. path)
end

local function lines_of(cmd)
  local p = assert(io.popen(cmd))
  local out = {}
  for l in p:lines() do out[#out + 1] = l end
  p:close()
  return out
end

-- The modules: scripts/introspect/**.lua and bindings/*.c.
local function module_names()
  local names = {}
  for _, f in ipairs(lines_of("cd '" .. ROOT .. "/scripts' && find introspect -name '*.lua' | sort")) do
    names[#names + 1] = (f:gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", "."))
  end
  -- the C modules: one per introspect_binding(NAME ...) line of CMakeLists.txt (a binding may
  -- have further source files, which are not modules)
  for name in read("CMakeLists.txt"):gmatch("\nintrospect_binding%(([%w_]+)") do
    names[#names + 1] = "introspect." .. name
  end
  return names
end

-- public(mod, name) -> sorted list of the public function names of a module: its table's
-- functions, plus the methods of the metatables it registered as "introspect.<short>.*".
local function public(mod, name)
  local set = {}
  for k, v in pairs(mod) do
    if type(k) == "string" and not k:match("^_") and type(v) == "function" then set[k] = true end
  end
  local short = name:match("^introspect%.(.+)$") or "(library)"
  for key, mt in pairs(debug.getregistry()) do
    if type(key) == "string" and type(mt) == "table" and key:sub(1, #short + 12) == "introspect." .. short .. "." then
      local methods = type(mt.__index) == "table" and mt.__index or mt
      for k, v in pairs(methods) do
        if type(k) == "string" and not k:match("^_") and type(v) == "function" then set[k] = true end
      end
    end
  end
  local list = {}
  for k in pairs(set) do list[#list + 1] = k end
  table.sort(list)
  return list
end

-- sections(text) -> map module name -> the text of the section(s) whose heading names it.
local function sections(text)
  local out = {}
  local lines = {}
  for l in (text .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = l end
  for i, l in ipairs(lines) do
    local hashes = l:match("^(#+) ")
    if hashes then
      local body = {}
      for j = i + 1, #lines do
        local h = lines[j]:match("^(#+) ")
        if h and #h <= #hashes then break end
        body[#body + 1] = lines[j]
      end
      for mod in l:gmatch("`(introspect[%w%._]*)`") do
        out[mod] = (out[mod] or "") .. l .. "\n" .. table.concat(body, "\n") .. "\n"
      end
    end
  end
  return out
end

-- spans(text) -> the text of every inline code span, fenced code blocks removed.
local function spans(text)
  local prose = {}
  local fenced = false
  for l in (text .. "\n"):gmatch("(.-)\n") do
    if l:match("^%s*```") then fenced = not fenced elseif not fenced then prose[#prose + 1] = l end
  end
  -- a span opens with a run of n backticks and closes at the next run of exactly n (CommonMark)
  local body, out, pos = table.concat(prose, "\n"), {}, 1
  while true do
    local s, e = body:find("`+", pos)
    if not s then break end
    local n, close = e - s + 1, e + 1
    local found
    while true do
      local cs, ce = body:find("`+", close)
      if not cs then break end
      if ce - cs + 1 == n then found = cs break end
      close = ce + 1
    end
    if not found then pos = e + 1 else
      out[#out + 1] = body:sub(e + 1, found - 1)
      pos = found + n
    end
  end
  return table.concat(out, "\n")
end

-- linked(section) -> text of the docs/*.md files the section links to or names.
local function linked(section)
  local seen, texts = {}, {}
  for file in section:gmatch("([%w%-_]+%.md)") do
    if not seen[file] and file ~= "scripting.md" and util.file_exists(ROOT .. "/docs/" .. file) then
      seen[file] = true
      texts[#texts + 1] = read("docs/" .. file)
    end
  end
  return table.concat(texts, "\n")
end

describe("docs/scripting.md", function()
  local doc = read("docs/scripting.md")
  local by_module = sections(doc)

  it("has a section for every module and C binding", function()
    local missing = {}
    for _, name in ipairs(module_names()) do
      if not by_module[name] then missing[#missing + 1] = name end
    end
    assert.same({}, missing)
  end)

  it("documents every public function and handle method in the module's section or a linked doc", function()
    local missing, checked = {}, 0
    for _, name in ipairs(module_names()) do
      local ok, mod = pcall(require, name)
      assert.is_true(ok, tostring(mod))
      if type(mod) == "table" and by_module[name] then
        local code = spans(by_module[name] .. "\n" .. linked(by_module[name]))
        for _, f in ipairs(public(mod, name)) do
          checked = checked + 1
          if not code:find("%f[%w_]" .. f .. "%f[^%w_]") then missing[#missing + 1] = name .. ": " .. f end
        end
      end
    end
    assert.is_true(checked > 200, "only " .. checked .. " functions found")
    assert.same({}, missing)
  end)

  it("fails for an undocumented function (the check itself works)", function()
    local code = spans("## `introspect.x`\n`x.documented(a)` and\n```lua\nx.in_fence()\n```\n"
      .. "a ```` ``` ```` span, `x.across(a,\nb)` and plain x.prose()\n")
    assert.truthy(code:find("%f[%w_]documented%f[^%w_]"))
    assert.truthy(code:find("%f[%w_]across%f[^%w_]"))
    assert.falsy(code:find("%f[%w_]in_fence%f[^%w_]"))
    assert.falsy(code:find("%f[%w_]prose%f[^%w_]"))
    assert.is_not_nil(sections("# T\n## `introspect.x`, `introspect.y`\ntext\n## other\n")["introspect.y"])
  end)
end)
