-- The default stimulus set: experiments/scenarios/library.lua (scenarios) and roles.lua (roles).
-- Checks counts, uniqueness, attribute shape and ranges, that the narrow ranges which exercise
-- the study's rounding rule are present, that no short_name is taken from the published
-- candidate_scenarios.json (when ../shared/paper-data is present), and that
-- introspect.design.scenarios (when it exists) loads the library.
local skip = require "lib.skip"
local root = os.getenv("INTROSPECT_SOURCE") or "."
local library_path = root .. "/experiments/scenarios/library.lua"
local roles_path = root .. "/experiments/scenarios/roles.lua"
local paper_data = root .. "/../shared/paper-data"

local MIN_COUNT = 240
local ATTRIBUTES = 5

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- where(s, a) -> "library.lua: scenario 'x' attribute 'y'" for assertion messages.
local function where(s, a)
  local text = string.format("library.lua: scenario '%s'", tostring(s.short_name))
  if a then text = text .. string.format(" attribute '%s'", tostring(a.name)) end
  return text
end

-- decimals(width) -> number of decimals the study rounds a value of this range width to.
local function decimals(width)
  if width < 1 then return math.abs(math.floor(math.log(width, 10))) + 1 end
  if width < 5 then return 1 end
  return 0
end

describe("scenario library", function()
  local library = dofile(library_path)

  it("has at least " .. MIN_COUNT .. " scenarios", function()
    assert.is_table(library)
    assert.is_true(#library >= MIN_COUNT, "only " .. #library .. " scenarios")
  end)

  it("has unique short names and questions", function()
    local names, questions = {}, {}
    for i, s in ipairs(library) do
      assert.is_nil(names[s.short_name], where(s) .. " repeats entry " .. tostring(names[s.short_name]))
      assert.is_nil(questions[s.question], where(s) .. " repeats the question of entry "
        .. tostring(questions[s.question]))
      names[s.short_name], questions[s.question] = i, i
    end
  end)

  it("uses snake_case short names and questions ending in '?'", function()
    for _, s in ipairs(library) do
      assert.is_string(s.short_name, where(s))
      assert.truthy(s.short_name:match("^[a-z][a-z0-9_]*$"), where(s) .. ": short_name not snake_case")
      assert.is_string(s.question, where(s))
      assert.truthy(s.question:match("^%u.*%?$"), where(s) .. ": question must start upper-case and end with '?'")
    end
  end)

  it("gives every scenario exactly " .. ATTRIBUTES .. " well-formed attributes", function()
    for _, s in ipairs(library) do
      assert.is_table(s.attributes, where(s))
      assert.equal(ATTRIBUTES, #s.attributes, where(s) .. ": attribute count")
      local seen = {}
      for _, a in ipairs(s.attributes) do
        assert.is_string(a.name, where(s, a))
        assert.truthy(a.name:match("^[a-z][a-z0-9_]*$"), where(s, a) .. ": name not snake_case")
        assert.is_nil(seen[a.name], where(s, a) .. ": duplicate attribute name")
        seen[a.name] = true
        assert.is_string(a.units, where(s, a) .. ": units")
        assert.truthy(a.units:match("%S"), where(s, a) .. ": empty units")
        assert.is_number(a.min, where(s, a) .. ": min")
        assert.is_number(a.max, where(s, a) .. ": max")
        assert.is_true(a.min < a.max, where(s, a) .. ": min must be below max")
      end
    end
  end)

  it("includes ranges that exercise every branch of the rounding rule", function()
    local by_decimals = {}
    for _, s in ipairs(library) do
      for _, a in ipairs(s.attributes) do
        local p = decimals(a.max - a.min)
        by_decimals[p] = (by_decimals[p] or 0) + 1
      end
    end
    assert.is_true((by_decimals[0] or 0) >= 100, "ranges of width >= 5 (integers)")
    assert.is_true((by_decimals[1] or 0) >= 20, "ranges rounded to 1 decimal (width < 5)")
    assert.is_true((by_decimals[2] or 0) >= 3, "ranges rounded to 2 decimals (width < 0.1)")
    assert.is_true((by_decimals[3] or 0) >= 1, "ranges rounded to 3 decimals (width < 0.01)")
  end)

  it("shares no short_name with the published candidate_scenarios.json", function()
    local published_path = paper_data .. "/candidate_scenarios.json"
    if not file_exists(published_path) then
      skip.missing("scenario_library_spec", "../shared/paper-data absent (" .. published_path .. ")")
      return
    end
    local f = assert(io.open(published_path, "rb"))
    local published = require("cjson").decode(f:read("a"))
    f:close()
    assert.is_true(#published > 0, "published list is empty")
    local taken = {}
    for _, s in ipairs(published) do taken[s.short_name] = true end
    for _, s in ipairs(library) do
      assert.is_nil(taken[s.short_name], where(s) .. ": short_name also in the published set")
    end
  end)

  it("loads and validates through introspect.design.scenarios when that module exists", function()
    local ok, scenarios = pcall(require, "introspect.design.scenarios")
    if not ok or type(scenarios) ~= "table" or type(scenarios.load) ~= "function" then
      skip.missing("scenario_library_spec", "introspect.design.scenarios.load not available: "
        .. tostring(scenarios):match("^[^\n]*"))
      return
    end
    local loaded, err = scenarios.load(library_path, { attributes = ATTRIBUTES })
    assert.is_table(loaded, "scenarios.load failed: " .. tostring(err))
    assert.equal(#library, #loaded)
    for i, s in ipairs(library) do
      assert.equal(s.short_name, loaded[i].short_name)
      assert.equal(ATTRIBUTES, #loaded[i].attributes)
    end
    if type(scenarios.load_roles) == "function" then
      local roles, rerr = scenarios.load_roles(roles_path)
      assert.is_table(roles, "scenarios.load_roles failed: " .. tostring(rerr))
      assert.same(dofile(roles_path), roles)
    end
  end)
end)

describe("role library", function()
  local roles = dofile(roles_path)

  it("has at least " .. MIN_COUNT .. " roles", function()
    assert.is_table(roles)
    assert.is_true(#roles >= MIN_COUNT, "only " .. #roles .. " roles")
  end)

  it("has unique, non-empty, trimmed roles that read after 'Imagine you are'", function()
    local seen = {}
    for i, role in ipairs(roles) do
      local at = string.format("roles.lua: entry %d (%q)", i, tostring(role))
      assert.is_string(role, at)
      assert.truthy(role:match("^%S.*%S$"), at .. ": empty or untrimmed")
      assert.is_falsy(role:match("[%.%?!]$"), at .. ": ends with punctuation")
      local key = role:lower()
      assert.is_nil(seen[key], at .. ": duplicate of entry " .. tostring(seen[key]))
      seen[key] = i
    end
  end)
end)
