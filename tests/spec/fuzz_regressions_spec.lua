-- Replays the fuzzers' inputs without libFuzzer: every seed (tests/fuzz/corpus/NAME/*) and every
-- saved finding (tests/fuzz/regressions/NAME-*) goes through the Lua fuzz target
-- tests/fuzz/targets/NAME.lua, which raises on a contract violation. (The C parsers' harnesses,
-- http_*, are covered by tests/c/test_http.c.) Findings that are not fixed yet are pending tests.
local csv = require "introspect.core.csv"

local root = os.getenv("INTROSPECT_SOURCE") or "."
package.path = root .. "/tests/fuzz/?.lua;" .. package.path

local function ls(dir)
  local p = io.popen("ls -1 '" .. dir .. "' 2>/dev/null")
  local out = {}
  for name in p:lines() do out[#out + 1] = name end
  p:close()
  return out
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local targets = {}
for _, file in ipairs(ls(root .. "/tests/fuzz/targets")) do
  local name = file:match("^(.+)%.lua$")
  if name then targets[#targets + 1] = name end
end

describe("fuzz targets", function()
  it("exist for every Lua parser of outside input", function()
    table.sort(targets)
    assert.same({ "analysis_readers", "api_handle", "batch_join", "csv", "openai_response", "replies", "roles",
      "scenarios", "sim_journal", "sim_prompt", "sim_uploads" },
      targets)
  end)

  for _, name in ipairs(targets) do
    it(name .. ": accepts its seed corpus and saved findings", function()
      local fn = dofile(root .. "/tests/fuzz/targets/" .. name .. ".lua")
      local inputs = {}
      for _, f in ipairs(ls(root .. "/tests/fuzz/corpus/" .. name)) do
        inputs[#inputs + 1] = root .. "/tests/fuzz/corpus/" .. name .. "/" .. f
      end
      for _, f in ipairs(ls(root .. "/tests/fuzz/regressions")) do
        if f:sub(1, #name + 1) == name .. "-" then inputs[#inputs + 1] = root .. "/tests/fuzz/regressions/" .. f end
      end
      assert.is_true(#inputs >= 2, name .. ": " .. #inputs .. " inputs")
      for _, path in ipairs(inputs) do
        local ok, err = pcall(fn, read(path))
        assert.is_true(ok, path .. ": " .. tostring(err))
      end
    end)
  end

  it("raise on a contract violation (the targets can fail)", function()
    local fn = dofile(root .. "/tests/fuzz/targets/replies.lua")
    local S = require("fuzz_support")
    assert.has_error(function() S.finding("x %d", 1) end)
    assert.is_true(pcall(fn, '{"a": 1}'))
    local real = require("introspect.design.replies").parse
    package.loaded["introspect.design.replies"].parse = function() return { 1 } end
    local ok, err = pcall(fn, 'a,b\0{"a": 1, "b": 2}')
    package.loaded["introspect.design.replies"].parse = real
    assert.is_false(ok)
    assert.matches("FINDING: 1 values for 2 names", err)
  end)
end)

describe("fuzz findings", function()
  -- tests/fuzz/regressions/csv-bom-roundtrip: format_row wrote a first field starting with a
  -- UTF-8 BOM unquoted, and reading the file back dropped the BOM; such fields are now quoted.
  it("csv: a field starting with a BOM survives a write and a read", function()
    local rows = { { "\239\187\191id", "" }, { "", "" } }
    local text = csv.format_row(rows[1]) .. csv.format_row(rows[2])
    assert.same(rows, csv.parse(text, "bom.csv"))
  end)
end)
