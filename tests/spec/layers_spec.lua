-- The library's layers (docs/architecture.md): each sub-package of scripts/introspect/ says in
-- its README.md (analysis.lua: in its opening comment) which layers it may use, in a line
-- "May use: a, b, ...". This spec checks that every require of every module names its own layer
-- or one it may use, and that the declared "may use" relation has no cycle, so lower layers
-- never require upper ones.
local util = require "introspect.core.util"

local ROOT = os.getenv("INTROSPECT_SOURCE") or "."
local LIB = ROOT .. "/scripts/introspect"

local function lines_of(cmd)
  local p = assert(io.popen(cmd))
  local out = {}
  for l in p:lines() do out[#out + 1] = l end
  p:close()
  return out
end

-- may_use(text, where) -> set of layer names from the text's "May use:" line.
local function may_use(text, where)
  local list = text:match("May use:%s*([^\n]+)")
  assert(list, where .. ": no 'May use:' line")
  local set = {}
  for name in list:gmatch("[%w_]+") do set[name] = true end
  return set
end

local function bindings()
  local set = { host = true }
  for _, f in ipairs(lines_of("cd '" .. ROOT .. "/bindings' && ls *.c")) do set[f:gsub("%.c$", "")] = true end
  return set
end

-- The layer of a module name ("introspect.design.prompts" -> "design", "introspect.rng" ->
-- "bindings"), or nil for the library table itself.
local function layer_of(name, binding)
  local first, rest = name:match("^introspect%.([%w_]+)(.*)$")
  if not first then return nil end
  if rest == "" and binding[first] then return "bindings" end
  return first
end

describe("library layers", function()
  local binding = bindings()
  local allowed = {}
  for _, dir in ipairs(lines_of("cd '" .. LIB .. "' && ls -d */ | tr -d /")) do
    local text = util.read_file(LIB .. "/" .. dir .. "/README.md")
    assert(text, "scripts/introspect/" .. dir .. " has no README.md saying what belongs there")
    allowed[dir] = may_use(text, dir .. "/README.md")
  end
  allowed.analysis = may_use(assert(util.read_file(LIB .. "/analysis.lua")), "analysis.lua")
  allowed.bindings = {}

  it("every sub-package says what it may use, naming layers that exist", function()
    for layer, set in pairs(allowed) do
      for used in pairs(set) do
        assert.is_truthy(allowed[used], layer .. " may use '" .. used .. "', which is no layer")
      end
    end
  end)

  it("the declared layers have no cycle", function()
    local state = {}
    local function visit(layer, path)
      if state[layer] == "done" then return end
      assert.are_not.equal("open", state[layer], "cycle: " .. path .. " -> " .. layer)
      state[layer] = "open"
      for used in pairs(allowed[layer] or {}) do visit(used, path .. " -> " .. layer) end
      state[layer] = "done"
    end
    for layer in pairs(allowed) do visit(layer, "") end
  end)

  it("every require stays in its layer or goes down", function()
    local bad = {}
    for _, f in ipairs(lines_of("cd '" .. LIB .. "' && find . -name '*.lua' | sort")) do
      local file = f:gsub("^%./", "")
      local own = file:match("^([%w_]+)/") or (file == "analysis.lua" and "analysis")
      if own then
        local text = assert(util.read_file(LIB .. "/" .. file))
        for name in text:gmatch("require%s*%(?%s*[\"'](introspect[%w_%.]*)[\"']") do
          local target = layer_of(name, binding)
          if target ~= own and not (target and allowed[own][target]) then
            bad[#bad + 1] = string.format("%s (layer %s) requires %s (layer %s)", file, own, name,
              tostring(target or "the library table"))
          end
        end
      end
    end
    assert.are.same({}, bad)
  end)

  it("would notice an upward require", function()
    assert.is_nil(allowed.core.study)
    assert.equals("study", layer_of("introspect.study", binding))
    assert.equals("bindings", layer_of("introspect.rng", binding))
  end)
end)
