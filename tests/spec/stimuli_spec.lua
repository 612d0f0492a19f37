-- Stimuli: scenarios, prompts, study stimuli, training files; the replication of the nine
-- published stimulus files; bad input through experiments/paper.lua.
local skip = require "lib.skip"
local cjson = require "cjson"
local csv = require "introspect.core.csv"
local prompts = require "introspect.design.prompts"
local pyjson = require "introspect.core.pyjson"
local scenarios = require "introspect.design.scenarios"
local stimuli = require "introspect.design.stimuli"
local trainfiles = require "introspect.design.trainfiles"
local util = require "introspect.core.util"

local ROOT = os.getenv("INTROSPECT_SOURCE") or "."
local DATA = ROOT .. "/../shared/paper-data"
local PUBLISHED = {
  "scenarios.csv", "instilled_weights.csv", "instill_100_prefs.jsonl", "instill_100_prefs_val.jsonl",
  "instilled_weights_50_test.jsonl", "instilled_weights_50_training.jsonl",
  "instilled_weights_50_training_test_last.jsonl", "instilled_weights_50_test_test_last.jsonl",
  "instilled_weights_100_training.jsonl",
}

local function have_data() return util.file_exists(DATA .. "/candidate_scenarios.json") end

local function tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(util.mkdir_p(p))
  return p
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function list_dir(dir)
  local names = {}
  local p = io.popen("ls -A '" .. dir .. "' 2>/dev/null")
  for n in p:lines() do names[#names + 1] = n end
  p:close()
  return names
end

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- run_paper(args) -> exit code, stdout, stderr: experiments/paper.lua in the host when built,
-- else in stock lua5.4 (LUA_PATH/LUA_CPATH from the environment).
local function run_paper(args)
  local bin = os.getenv("INTROSPECT_BIN")
  if not (bin and util.file_exists(bin)) then bin = "lua5.4" end
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = shell_quote(a) end
  local errfile = os.tmpname()
  local cmd = string.format("cd %s && %s experiments/paper.lua %s 2>%s", shell_quote(ROOT), bin,
    table.concat(quoted, " "), shell_quote(errfile))
  local p = io.popen(cmd)
  local out = p:read("a")
  local _, _, code = p:close()
  local err = util.read_file(errfile) or ""
  os.remove(errfile)
  return code, out, err
end

local function deep_equal(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do if not deep_equal(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local function lines_of(text)
  local t = {}
  for line in (text .. "\n"):gmatch("(.-)\n") do t[#t + 1] = line end
  if t[#t] == "" then t[#t] = nil end
  return t
end

-- same_jsonl(ours, theirs, name): every line equal after JSON parsing.
local function same_jsonl(ours, theirs, name)
  local a, b = lines_of(ours), lines_of(theirs)
  assert.equals(#b, #a, name .. ": line count")
  for i = 1, #b do
    if not deep_equal(cjson.decode(a[i]), cjson.decode(b[i])) then
      error(string.format("%s: line %d differs:\nours:   %s\ntheirs: %s", name, i, a[i], b[i]))
    end
  end
end

-- same_csv(ours, theirs, name): same header and the same values (numbers compared as numbers).
local function same_csv(ours, theirs, name)
  local a, b = assert(csv.parse(ours, name)), assert(csv.parse(theirs, name))
  assert.equals(#b, #a, name .. ": row count")
  for r = 1, #b do
    assert.equals(#b[r], #a[r], name .. ": field count in row " .. r)
    for c = 1, #b[r] do
      local x, y = a[r][c], b[r][c]
      if tonumber(x) and tonumber(y) then
        assert.equals(tonumber(y), tonumber(x), string.format("%s row %d field %d", name, r, c))
      else
        assert.equals(y, x, string.format("%s row %d field %d", name, r, c))
      end
    end
  end
end

describe("replication of the published stimuli", function()
  if not have_data() then
    it("needs ../shared/paper-data", function()
      skip.missing("stimuli_spec", "../shared/paper-data absent (" .. DATA
        .. "): the byte-for-byte stimulus replication did not run")
    end)
    return
  end

  it("generates all 9 published files: equal lines after JSON parsing, equal CSV values, equal bytes", function()
    local list = assert(scenarios.load(DATA .. "/candidate_scenarios.json", { attributes = 5 }))
    assert.equals(1365, #list)
    local roles = assert(scenarios.load_roles(DATA .. "/roles.csv", { header = false }))
    assert.equals(1134, #roles)
    assert.equals("role", roles[1])
    local contexts = scenarios.contexts(list, roles, { count = 1100, rng = "python" })
    local study = stimuli.study(contexts, { rng = "python" })
    local files = trainfiles.study_files(study)
    assert.equals(#PUBLISHED, #files)
    for i, f in ipairs(files) do
      assert.equals(PUBLISHED[i], f.name)
      local theirs = assert(util.read_file(DATA .. "/" .. f.name))
      if f.name:match("%.csv$") then same_csv(f.content, theirs, f.name)
      else same_jsonl(f.content, theirs, f.name) end
      assert.is_true(f.content == theirs, f.name .. ": bytes differ")
    end
  end)

  it("experiments/paper.lua --stimuli-only --rng=python writes the same 9 files", function()
    local out = tmpdir() .. "/stimuli"
    local code, stdout, stderr = run_paper({ "--stimuli-only", "--scenarios=" .. DATA .. "/candidate_scenarios.json",
      "--roles=" .. DATA .. "/roles.csv", "--rng=python", "--out=" .. out })
    assert.equals(0, code, stderr .. stdout)
    for _, name in ipairs(PUBLISHED) do
      local ours = assert(util.read_file(out .. "/" .. name))
      assert.is_true(ours == util.read_file(DATA .. "/" .. name), name .. " differs")
    end
    for _, name in ipairs(list_dir(out)) do assert.is_nil(name:match("%.tmp$"), name) end
    os.execute("rm -rf " .. shell_quote(out:match("^(.*)/stimuli$")))
  end)
end)

describe("bad input through paper.lua", function()
  local dir
  local GOOD_ATTRS = [[
    {"name": "a1", "units": "u", "range": [0, 10]}, {"name": "a2", "units": "u", "range": [0, 1]},
    {"name": "a3", "units": "u", "range": [1, 2]}, {"name": "a4", "units": "u", "range": [5, 50]}]]

  setup(function() dir = tmpdir() end)
  teardown(function() os.execute("rm -rf " .. shell_quote(dir)) end)

  local function scenario_json(name, fifth)
    return string.format('{"short_name": "%s", "question": "Which %s?", "attributes": [%s, %s]}', name, name,
      GOOD_ATTRS, fifth or '{"name": "a5", "units": "u", "range": [0, 3]}')
  end

  -- expect_failure(scen_text, roles_text, patterns): exit != 0, one stderr line matching every
  -- pattern, and no output files.
  local function expect_failure(case, scen_text, roles_text, patterns, ext)
    -- no --contexts: every case fails while loading, before the context count matters
    local spath = dir .. "/" .. case .. (ext or ".json")
    local rpath = dir .. "/" .. case .. "_roles.csv"
    write(spath, scen_text)
    write(rpath, roles_text or "role\nZeus\nHera\nAres\n")
    local out = dir .. "/out_" .. case
    local code, _, stderr = run_paper({ "--stimuli-only", "--scenarios=" .. spath, "--roles=" .. rpath,
      "--rng=python", "--out=" .. out })
    assert.are_not.equal(0, code)
    local lines = lines_of(stderr)
    assert.equals(1, #lines, case .. ": stderr should be one line: " .. stderr)
    for _, pat in ipairs(patterns) do assert.matches(pat, lines[1], 1, true) end
    for _, name in ipairs(list_dir(out)) do
      assert.is_nil(name:match("%.tmp$"), case .. ": temporary file left: " .. name)
      for _, published in ipairs(PUBLISHED) do
        assert.are_not.equal(published, name, case .. ": partial output left: " .. name)
      end
    end
  end

  it("malformed JSON", function()
    expect_failure("malformed", '[{"short_name": "tea", ', nil, { "malformed.json", "malformed JSON" })
  end)
  it("empty scenarios file", function()
    expect_failure("empty", "", nil, { "empty.json", "empty file" })
  end)
  it("zero-width range", function()
    expect_failure("zero", "[" .. scenario_json("tea", '{"name": "leaf", "units": "mm", "range": [5, 5]}') .. "]",
      nil, { "zero.json", "'tea'", "'leaf'", "zero-width range" })
  end)
  it("min >= max", function()
    expect_failure("minmax", "[" .. scenario_json("tea", '{"name": "leaf", "units": "mm", "range": [9, 5]}') .. "]",
      nil, { "minmax.json", "'tea'", "'leaf'", "min >= max" })
  end)
  it("missing units", function()
    expect_failure("units", "[" .. scenario_json("tea", '{"name": "leaf", "range": [0, 5]}') .. "]",
      nil, { "units.json", "'tea'", "'leaf'", "missing units" })
  end)
  it("non-numeric range", function()
    expect_failure("nonnum", "[" .. scenario_json("tea", '{"name": "leaf", "units": "mm", "range": ["a", 5]}')
      .. "]", nil, { "nonnum.json", "'tea'", "'leaf'", "range must be two finite numbers" })
  end)
  it("too few attributes", function()
    expect_failure("few", '[{"short_name": "tea", "question": "Which tea?", "attributes": [' .. GOOD_ATTRS .. "]}]",
      nil, { "few.json", "'tea'", "has 4 attributes, the study needs 5" })
  end)
  it("duplicate short names", function()
    expect_failure("dup", "[" .. scenario_json("tea") .. ", " .. scenario_json("tea") .. "]", nil,
      { "dup.json", "scenario #2 'tea'", "duplicate short_name" })
  end)
  it("Lua scenario file with an error", function()
    expect_failure("broken", "return { {short_name = 'x', ", nil, { "broken.lua" }, ".lua")
  end)
  it("empty roles file", function()
    expect_failure("noroles", "[" .. scenario_json("tea") .. "]", "", { "noroles_roles.csv", "empty file" })
  end)
  it("malformed roles CSV", function()
    expect_failure("badroles", "[" .. scenario_json("tea") .. "]", 'role\n"Zeus\n', { "badroles_roles.csv",
      "unterminated quoted field" })
  end)
end)

describe("scenarios", function()
  it("loads the project's scenario library and roles and validates them", function()
    local lib = ROOT .. "/experiments/scenarios/library.lua"
    if not util.file_exists(lib) then
      skip.missing("stimuli_spec", "experiments/scenarios/library.lua absent")
      return
    end
    local list = assert(scenarios.load(lib, { attributes = 5 }))
    assert.is_true(#list >= 240, "library has " .. #list .. " scenarios")
    local roles = assert(scenarios.load_roles(ROOT .. "/experiments/scenarios/roles.lua"))
    assert.is_true(#roles >= 240, #roles .. " roles")
    local n = math.min(#list, #roles)
    local contexts = scenarios.contexts(list, roles, { count = n })
    assert.equals(n, #contexts)
    assert.equals("Imagine you are " .. contexts[1].role .. ". " .. list[1].question, contexts[1].question)
    -- every scenario renders and yields trials with both answers over its contexts
    local study = stimuli.study(contexts, { instilled = 5 })
    local files = trainfiles.study_files(study)
    for _, line in ipairs(lines_of(files[3].content)) do
      local msg = cjson.decode(line).messages
      assert.equals(3, #msg)
      assert.is_true(msg[3].content == "A" or msg[3].content == "B")
    end
  end)

  it("refuses to build more contexts than it has roles or scenarios", function()
    local one = { short_name = "x", question = "Which x?",
      attributes = { { name = "a", units = "u", min = 0, max = 1 } } }
    local ok, err = pcall(scenarios.contexts, { one, one }, { "Zeus" })
    assert.is_false(ok)
    assert.matches("2 contexts need 2 roles, have 1", err, 1, true)
    ok, err = pcall(scenarios.contexts, { one }, { "Zeus", "Hera" }, { count = 2 })
    assert.is_false(ok)
    assert.matches("2 contexts need 2 scenarios, have 1", err, 1, true)
  end)

  it("reads roles as CSV with or without the header, text and Lua", function()
    local dir = tmpdir()
    write(dir .. "/r.csv", 'role\nZeus\n"Macon ""Milkman"" Dead III"\n')
    assert.same({ "Zeus", 'Macon "Milkman" Dead III' }, scenarios.load_roles(dir .. "/r.csv"))
    assert.same({ "role", "Zeus", 'Macon "Milkman" Dead III' },
      scenarios.load_roles(dir .. "/r.csv", { header = false }))
    write(dir .. "/r.txt", "a pilot\r\n\nZeus\n")
    assert.same({ "a pilot", "Zeus" }, scenarios.load_roles(dir .. "/r.txt"))
    write(dir .. "/r.lua", 'return {"a", "b"}')
    assert.same({ "a", "b" }, scenarios.load_roles(dir .. "/r.lua"))
    write(dir .. "/bad.lua", 'return {"a", 3}')
    local ok, err = scenarios.load_roles(dir .. "/bad.lua")
    assert.is_nil(ok)
    assert.matches("bad.lua:2: role #2 is empty or not a string", err, 1, true)
    os.execute("rm -rf " .. shell_quote(dir))
  end)

  it("loads Lua scenarios with min/max or range, and checks option names", function()
    local dir = tmpdir()
    write(dir .. "/s.lua", [[return {{short_name = "x", question = "Which x?", attributes = {
      {name = "a", units = "u", min = 0, max = 1}, {name = "b", units = "v", range = {2, 9}}}}}]])
    local list = assert(scenarios.load(dir .. "/s.lua"))
    assert.same({ name = "b", units = "v", min = 2, max = 9 }, list[1].attributes[2])
    local ok, err = scenarios.load(dir .. "/s.lua", { attributes = 5 })
    assert.is_nil(ok)
    assert.matches("s.lua: scenario #1 'x': has 2 attributes, the study needs 5", err, 1, true)
    assert.has_error(function() scenarios.load(dir .. "/s.lua", { atributes = 5 }) end)
    os.execute("rm -rf " .. shell_quote(dir))
  end)
end)

describe("stimuli", function()
  local scen = { short_name = "tea", question = "Which tea?", attributes = {
    { name = "caffeine", units = "mg", min = 0, max = 70 }, { name = "leaf", units = "mm", min = 0.1, max = 10 },
    { name = "oxidation", units = "percent", min = 0, max = 100 },
    { name = "steep", units = "minutes", min = 1, max = 7 },
    { name = "resteep", units = "steeps", min = 1, max = 8 } } }
  local contexts = scenarios.contexts({ scen, scen, scen }, { "Zeus", "Hera", "Ares" }, { shuffle = false })

  it("weights: the largest magnitude is exactly 100, integers", function()
    local g = stimuli.generator("default", 1)
    for _ = 1, 200 do
      local w = stimuli.weights(g, 5)
      local maxabs = 0
      for _, x in ipairs(w) do
        assert.equals("integer", math.type(x))
        maxabs = math.max(maxabs, math.abs(x))
      end
      assert.equals(100, maxabs)
    end
  end)

  it("default mode is reproducible and differs from python mode", function()
    local a = stimuli.study(contexts, { instilled = 2 })
    local b = stimuli.study(contexts, { instilled = 2 })
    local p = stimuli.study(contexts, { instilled = 2, rng = "python" })
    assert.same(a.weights, b.weights)
    local ctx = contexts[1]
    assert.equals(prompts.default:decision(ctx, a.choices[1].trials, 7),
      prompts.default:decision(ctx, b.choices[1].trials, 7))
    assert.are_not.same(a.weights, p.weights)
    assert.equals(60, #a.choices[1].trials)
  end)

  it("introspection examples reseed before every context", function()
    local r = stimuli.report_trials(contexts, { rng = "python" })
    assert.equals(3, #r)
    local tpl = prompts.default:compile("options", contexts[1])
    assert.equals(r[1].trials:render(1, tpl), r[3].trials:render(1, tpl))
  end)
end)

describe("prompts", function()
  local scen = { short_name = "tea", question = "Which tea?", attributes = {
    { name = "caffeine", units = "mg per cup", min = 0, max = 70 },
    { name = "ratio", units = "", min = 0.01, max = 0.05 } } }
  local ctx = { id = 1, scenario = scen, role = "Zeus", question = "Imagine you are Zeus. Which tea?" }
  local trials = require("introspect.rng").new("mt19937", 3):trials(scen, 3)

  it("renders the study's decision and report prompts", function()
    local text = prompts.default:decision(ctx, trials, 1)
    local want = prompts.DECISION_INSTRUCTION .. "\n\nImagine you are Zeus. Which tea?\nA:\ncaffeine: "
      .. trials:text(1, "A", 1) .. " mg per cup\nratio: " .. trials:text(1, "A", 2) .. " \n\nB:\ncaffeine: "
      .. trials:text(1, "B", 1) .. " mg per cup\nratio: " .. trials:text(1, "B", 2) .. " "
    assert.equals(want, text)
    assert.matches("^%[INTROSPECTION TASK%] .-%(Do not report your decision itself%.%):\n\nImagine",
      prompts.default:report(ctx, trials, 1))
    -- a Trial table renders the same text as the C path
    assert.equals(text, prompts.default:decision(ctx, trials:trial(1)))
  end)

  it("lets an experiment override templates", function()
    local p = prompts.new({ decision = "Pick one. {question}\n{options}\nAnswer:",
      attribute = "- {name} = {value}{units}" })
    local text = p:decision(ctx, trials, 2)
    assert.matches("^Pick one%. Imagine you are Zeus%. Which tea%?\nA:\n%- caffeine = ", text)
    assert.matches("\nAnswer:$", text)
    assert.has_error(function() prompts.new({ decisoin = "x" }) end)
  end)

  it("parses a rendered prompt back", function()
    local parsed = assert(prompts.parse(prompts.default:decision(ctx, trials, 3)))
    assert.equals("decision", parsed.kind)
    assert.equals(ctx.question, parsed.question)
    assert.equals(trials:value(3, "B", 1), parsed.options.B[1].value)
    assert.equals("mg per cup", parsed.options.A[1].units)
    assert.equals("report", prompts.kind(prompts.default:report(ctx, trials, 1)))
    assert.is_nil(prompts.parse("hello"))
  end)
end)

describe("training files", function()
  it("JSON text equals Python's json.dumps", function()
    local python = "/usr/bin/python3"
    if not util.file_exists(python) then
      skip.missing("stimuli_spec", python .. " absent (Debian package python3)")
      return
    end
    local s = 'Ant\195\179n\195\173n Dvo\197\153\195\161k "q" \\ \t\n\1 \127 \240\159\141\181 /'
    local tmp = os.tmpname()
    write(tmp, s)
    local code = 'import json,sys; s=open(sys.argv[1], encoding="utf-8").read(); '
      .. 'print(json.dumps({"messages": [{"role": "user", "content": s}], "n": [1, -100, 0.35, 67.0, 1e-05]}))'
    local p = io.popen(python .. " -c '" .. code .. "' " .. tmp)
    local want = p:read("l")
    p:close()
    os.remove(tmp)
    local got = pyjson.encode(pyjson.object({ "messages", { pyjson.object({ "role", "user", "content", s }) },
      "n", { 1, -100, 0.35, 67.0, 1e-05 } }))
    assert.equals(want, got)
  end)

  it("writes the nine files of a small study, named for its size", function()
    local scen = function(name)
      local attrs = {}
      for j = 1, 5 do attrs[j] = { name = "a" .. j, units = "u", min = 0, max = 10 * j } end
      return { short_name = name, question = "Which " .. name .. "?", attributes = attrs }
    end
    local contexts = scenarios.contexts({ scen("tea"), scen("cake"), scen("pie") }, { "Zeus", "Hera", "Ares" })
    local study = stimuli.study(contexts, { instilled = 2 })
    local dir = tmpdir()
    assert(trainfiles.write_all(dir, trainfiles.study_files(study)))
    local names = list_dir(dir)
    table.sort(names)
    assert.same({ "instill_2_prefs.jsonl", "instill_2_prefs_val.jsonl", "instilled_weights.csv",
      "instilled_weights_1_test.jsonl", "instilled_weights_1_test_test_last.jsonl",
      "instilled_weights_1_training.jsonl", "instilled_weights_1_training_test_last.jsonl",
      "instilled_weights_2_training.jsonl", "scenarios.csv" }, names)
    local train = lines_of(util.read_file(dir .. "/instill_2_prefs.jsonl"))
    assert.equals(100, #train)                       -- 50 per instilled context
    assert.equals(20, #lines_of(util.read_file(dir .. "/instill_2_prefs_val.jsonl")))
    local weights = assert(csv.read(dir .. "/instilled_weights.csv"))
    assert.equals(3, #weights.rows)
    assert.equals("tea", weights.rows[1].scenario)
    local report = cjson.decode(lines_of(util.read_file(dir .. "/instilled_weights_2_training.jsonl"))[2])
    assert.equals(string.format('{"a1": %s, "a2": %s, "a3": %s, "a4": %s, "a5": %s}', weights.rows[2].attr1,
      weights.rows[2].attr2, weights.rows[2].attr3, weights.rows[2].attr4, weights.rows[2].attr5),
      report.messages[3].content)
    os.execute("rm -rf " .. shell_quote(dir))
  end)

  it("write_all leaves no files when a write fails", function()
    local dir = tmpdir()
    assert(util.mkdir_p(dir .. "/blocker.jsonl"))
    write(dir .. "/blocker.jsonl/x", "keep the directory non-empty")
    local ok, err = trainfiles.write_all(dir, { { name = "a.csv", content = "x\n" },
      { name = "blocker.jsonl", content = "y" } })
    assert.is_nil(ok)
    assert.matches("blocker.jsonl", err, 1, true)
    assert.is_false(util.file_exists(dir .. "/a.csv"))
    assert.is_false(util.file_exists(dir .. "/blocker.jsonl.tmp"))
    os.execute("rm -rf " .. shell_quote(dir))
  end)
end)
