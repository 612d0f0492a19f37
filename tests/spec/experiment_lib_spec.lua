-- The library pieces an experiment of its own needs (experiments/new-domain.lua): contexts with
-- any number of attributes (analysis, study:use_contexts), a custom prompt set for a study
-- (per call: session:reports{prompts=}), a custom reply parser (replies.parse_ranking, replies.collect{parse=},
-- study:reports{parse=}), ranking replies of the simulated subject, and introspect.run.plot.
local analysis = require "introspect.analysis"
local plot = require "introspect.run.plot"
local prompts = require "introspect.design.prompts"
local replies = require "introspect.design.replies"
local scenarios = require "introspect.design.scenarios"
local sim = require "introspect.sim"
local sim_chat = require "introspect.sim.chat"
local cjson = require "cjson"
local rng = require "introspect.rng"
local study = require "introspect.study"
local util = require "introspect.core.util"

local SOURCE = os.getenv("INTROSPECT_SOURCE") or "."

local THREE = {
  { short_name = "laptops", question = "Which laptop would you buy?", attributes = {
    { name = "price", units = "dollars", min = 400, max = 3000 },
    { name = "battery_life", units = "hours", min = 4, max = 20 },
    { name = "weight", units = "kg", min = 0.9, max = 3 } } },
  { short_name = "flights", question = "Which flight would you book?", attributes = {
    { name = "ticket_price", units = "dollars", min = 80, max = 900 },
    { name = "layovers", units = "stops", min = 0, max = 3 },
    { name = "legroom", units = "cm", min = 70, max = 90 } } },
}
local NAMES = { "price", "battery_life", "weight" }

local function tmpdir()
  local p = os.tmpname()
  os.remove(p)
  return p
end

describe("replies.parse_ranking", function()
  it("reads numbered, bulleted, comma and > separated rankings into ranks per attribute", function()
    assert.same({ 2, 1, 3 }, replies.parse_ranking("1. battery_life\n2. price\n3. weight", NAMES))
    assert.same({ 3, 1, 2 }, replies.parse_ranking("- **battery_life**\n- weight\n- price", NAMES))
    assert.same({ 1, 3, 2 }, replies.parse_ranking("price, weight, battery_life", NAMES))
    assert.same({ 1, 2, 3 }, replies.parse_ranking("```\n1) price > 2) battery_life > 3) weight\n```", NAMES))
  end)

  it("rejects a ranking that misses, repeats or invents a name, naming it", function()
    local v, reason, detail = replies.parse_ranking("1. price\n2. weight", NAMES)
    assert.is_nil(v)
    assert.equal("not_ranking", reason)
    assert.equal("missing 'battery_life'", detail)
    v, reason, detail = replies.parse_ranking("price\nprice\nweight\nbattery_life", NAMES)
    assert.is_nil(v)
    assert.equal("not_ranking", reason)
    assert.equal("'price' listed twice", detail)
    v, reason, detail = replies.parse_ranking("Here is my ranking:\n1. price\n2. weight\n3. battery_life", NAMES)
    assert.is_nil(v)
    assert.equal("not_ranking", reason)
    assert.equal("unexpected item 'Here is my ranking:'", detail)
    assert.equal("empty", select(2, replies.parse_ranking("  ", NAMES)))
  end)

  it("is used by replies.collect through opts.parse, and counted by reason", function()
    local list = { { scenario = "laptops", text = "price\nweight\nbattery_life", model = "m" },
      { scenario = "laptops", text = '{"price": 1, "battery_life": 2, "weight": 3}', model = "m" } }
    local reports, invalid = replies.collect(list, { laptops = NAMES }, { parse = replies.parse_ranking })
    assert.equal(1, #reports)
    assert.same({ 1, 3, 2 }, reports[1].report)
    assert.equal(1, invalid.reasons.not_ranking)
    assert.has_error(function() replies.collect(list, { laptops = NAMES }, { parser = replies.parse }) end)
  end)
end)

describe("analysis with three attributes", function()
  it("fit_weights recovers the order of known weights from simulated choices", function()
    local g = rng.new("xoshiro256**", 3)
    local true_w = { price = { -3, 1.5, 0.3 }, flights = { -2.5, -1, 0.6 } }
    local selections = {}
    for _, s in ipairs(THREE) do
      local w = true_w[s.short_name] or true_w.price
      for _ = 1, 400 do
        local a, b, z = {}, {}, 0
        for j, attr in ipairs(s.attributes) do
          a[j] = attr.min + g:random() * (attr.max - attr.min)
          b[j] = attr.min + g:random() * (attr.max - attr.min)
          z = z + w[j] * (a[j] - b[j]) / (attr.max - attr.min)
        end
        local sel = g:random() < 1 / (1 + math.exp(-z)) and "A" or "B"
        selections[#selections + 1] = { scenario = s.short_name, selection = sel, a = a, b = b }
      end
    end
    local weights, _, problems = analysis.fit_weights(selections, THREE, { method = "map" })
    assert.same({}, problems)
    assert.equal(3, #weights.laptops)
    assert.equal(-100, weights.laptops[1])
    assert.is_true(weights.laptops[2] > 20 and weights.laptops[3] < weights.laptops[2])
    assert.equal(-100, weights.flights[1])
    assert.is_true(weights.flights[2] < 0 and weights.flights[3] > 0)
    -- accuracy works on three-attribute vectors too
    local reports = { { model = "m", scenario = "laptops", report = { -90, 60, 10 } },
      { model = "m", scenario = "flights", report = { -100, -30, 20 } } }
    local R = assert(analysis.accuracy(reports, weights))
    assert.equal(6, R.n)
    assert.is_true(R.slope > 0.5)
  end)

  it("leaves out a context whose choices have the wrong number of values, saying so", function()
    local sel = { { scenario = "laptops", selection = "A", a = { 1, 2, 3, 4, 5 }, b = { 1, 2, 3, 4, 5 } } }
    local _, problems = analysis.design(sel, THREE)
    assert.matches("context 'laptops': choice 1 has 5 and 5 attribute values, the context has 3", problems[1])
  end)
end)

describe("the simulated subject's ranking replies", function()
  it("answer an instruction that asks for a ranking with every attribute name once", function()
    local api = sim.api({})
    local ctx = { question = "Imagine you are a pilot. " .. THREE[1].question, scenario = THREE[1] }
    local trial = { a = { 1200, 10, 1.5 }, b = { 900, 6, 2.5 } }
    local p = prompts.new({ report = "Rank the attributes by importance, most important first:\n\n"
      .. "{question}\n{options}" })
    local seen = {}
    for i = 1, 20 do
      trial.a[1] = 1000 + i
      local status, body = sim_chat.run(api, { model = "sim-large", temperature = 0,
        messages = { { role = "user", content = p:report(ctx, trial) } } })
      assert.equal(200, status)
      local text = cjson.decode(body).choices[1].message.content
      local ranks = replies.parse_ranking(text, NAMES)
      if ranks then seen[table.concat(ranks, ",")] = true end
      assert.is_nil(text:find("{", 1, true), text)
    end
    assert.is_not_nil(next(seen))
    -- the study's JSON report, a ranking asked for as JSON and a decision mentioning a rank
    -- are what they were
    local function reply(instruction)
      local text = prompts.new({ report = instruction .. "\n\n{question}\n{options}" }):report(ctx, trial)
      local status, body = sim_chat.run(api, { model = "sim-large", temperature = 0,
        messages = { { role = "user", content = text } } })
      assert.equal(200, status)
      return cjson.decode(body).choices[1].message.content
    end
    assert.is_table(replies.parse(reply(prompts.REPORT_INSTRUCTION), NAMES))
    assert.is_table(replies.parse(reply("Rank the attributes; reply with JSON weights"), NAMES))
    assert.matches("^[AB]$", reply('Respond with "A" if option A ranks higher, else "B":'))
  end)
end)

describe("a study on contexts of its own", function()
  it("samples choices and ranking reports for three-attribute contexts with a custom prompt set", function()
    local roles = { "a pilot", "a nurse" }
    local contexts = scenarios.contexts(THREE, roles, { shuffle = false })
    local p = prompts.new({ report = "Rank the attributes, most important first:\n\n{question}\n{options}" })
    local dir = tmpdir()
    local s = study.session({ out = dir, backend = "sim", progress = { phase = function()
      return { update = function() end, finish = function() return 0 end } end, message = function() end } })
    local records = s:choices({ model = "sim-large", contexts = contexts, per_context = 30, seed = 1,
      file = "selections.csv" })
    local sel = study.selections(records)
    assert.equal(60, #sel)
    assert.equal(3, #sel[1].a)
    local weights = analysis.fit_weights(sel, THREE, { method = "map" })
    assert.equal(3, #weights.laptops)
    local recs, counts = s:reports({ model = "sim-large", contexts = contexts, per_context = 4, seed = 7, prompts = p,
      parse = replies.parse_ranking, file = "rankings.csv" })
    local reports = study.reports(recs)
    assert.equal(8, counts.total)
    assert.is_true(#reports >= 4)
    for _, r in ipairs(reports) do
      local sorted = { table.unpack(r.report) }
      table.sort(sorted)
      assert.same({ 1, 2, 3 }, sorted)
    end
    -- the ranking prompt is what was sent
    assert.matches("^Rank the attributes, most important first:", recs[1].trial and
      study.requests({ recs[1].trial }, { model = "m", kind = "report", prompts = p })[1].body.messages[2].content)
    -- the published CSV layout with three attribute columns per option
    local csv = require "introspect.core.csv"
    local t = assert(csv.read(dir .. "/selections.csv"))
    assert.equal(60, #t.rows)
    assert.same({ "model", "scenario", "selection", "A_attribute_1", "A_attribute_2", "A_attribute_3",
      "B_attribute_1", "B_attribute_2", "B_attribute_3" }, t.header)
    t = assert(csv.read(dir .. "/rankings.csv"))
    assert.equal(#reports, #t.rows)
    assert.equal("report_attr3", t.header[6])
    assert.equal("A_attribute_1", t.header[7])
    assert.equal(12, #t.header)
    local manifest = cjson.decode((assert(util.read_file(dir .. "/manifest.json"))))
    local call = manifest.calls["reports sim-large"]
    assert.equal(require("introspect.study.session").template_hashes(p).report, call.templates.report)
    -- one CSV file cannot mix attribute counts: refused before anything is sent
    local five = { short_name = "five", question = "Which?", attributes = {} }
    for j = 1, 5 do five.attributes[j] = { name = "x" .. j, units = "u", min = 0, max = 10 } end
    local mixed = { contexts[1], { id = 2, scenario = five, question = "Imagine you are a nurse. Which?" } }
    assert.has_error(function()
      s:choices({ model = "sim-large", contexts = mixed, per_context = 2, seed = 1, file = "mixed.csv" })
    end, "mixed.csv: contexts laptops and five have 3 and 5 attributes; one CSV file needs one count")
    assert.is_false(util.file_exists(dir .. "/mixed.csv"))
    s:close()
  end)
end)

describe("introspect.run.plot", function()
  it("draws one polyline per series, a reference line and rejects x <= 0 on a log axis", function()
    local svg = plot.lines({ { label = "a", points = { { 10, 1 }, { 100, 0.5 } } },
      { label = "b <c>", points = { { 10, 2 }, { 100, nil }, { 1000, 0.2 } } } },
      { logx = true, hline = 0.3, title = "t" })
    assert.matches('data%-series="2" data%-points="4"', svg)
    assert.equal(2, select(2, svg:gsub("<polyline", "")))
    assert.matches("b &lt;c&gt;", svg)
    assert.matches('class="hline"', svg)
    assert.has_error(function() plot.lines({ { points = { { 0, 1 } } } }, { logx = true }) end,
      "plot.lines: x = 0 is not positive (logx)")
    assert.has_error(function() plot.lines({}, { colour = "red" }) end)
    local styled = plot.standalone('<svg width="1"><line class="ci"/></svg>')
    assert.matches('^<svg width="1">\n<style>.-%.ci{', styled)
    assert.has_error(function() plot.standalone("<p>") end, "plot.standalone: not an SVG document")
  end)
end)

describe("docs/experiments.md", function()
  it("documents every example and the library pieces it relies on", function()
    local text = assert(util.read_file(SOURCE .. "/docs/experiments.md"))
    for _, word in ipairs({ "power.lua", "logprobs.lua", "curriculum.lua", "new-domain.lua", "study.trials", "trials =",
      "parse_ranking", "prompts.new", "plot.lines", "plot.standalone", "labels = \"learned\"" }) do
      assert.is_truthy(text:find(word, 1, true), word)
    end
  end)
end)
