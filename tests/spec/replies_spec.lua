-- introspect.design.replies: reading a chat completion's text and P(A) from its logprobs.
local replies = require "introspect.design.replies"

local function response(content, top)
  return { choices = { { message = { content = content },
    logprobs = top and { content = { { token = content, top_logprobs = top } } } or nil } } }
end

describe("replies.content", function()
  it("returns the first choice's text", function()
    assert.equal("A", replies.content(response("A")))
  end)
  it("returns nil for anything else", function()
    assert.is_nil(replies.content(nil))
    assert.is_nil(replies.content({ choices = {} }))
    assert.is_nil(replies.content({ choices = { { message = { content = 3 } } } }))
  end)
end)

describe("replies.prob_a", function()
  it("normalises P(A) over the answers A and B", function()
    local r = response("A", { { token = "A", logprob = math.log(0.6) }, { token = " B", logprob = math.log(0.2) },
      { token = "C", logprob = math.log(0.2) } })
    assert.is_true(math.abs(replies.prob_a(r) - 0.75) < 1e-12)
  end)
  it("is nil without logprobs or without A and B among them", function()
    assert.is_nil(replies.prob_a(response("A")))
    assert.is_nil(replies.prob_a(response("A", { { token = "C", logprob = 0 } })))
  end)
end)

-- What counts as a choice: docs/reliability.md, "Replies real models write".
describe("replies.parse_choice", function()
  local counted = {
    ["A"] = "A", ["B"] = "B", ["A."] = "A", ["B!"] = "B", ["Option A"] = "A", ["option b"] = "B",
    [" a"] = "A", ["b\n"] = "B", ["**A**"] = "A", ["*B*"] = "B", ["`A`"] = "A", ['"B"'] = "B",
    ["(A)"] = "A", ["[B]"] = "B", ["**Option B**"] = "B", ["Answer: A"] = "A", ["Choice: B"] = "B",
  }
  for text, letter in pairs(counted) do
    it(string.format("reads %q as %s", text, letter), function()
      assert.equal(letter, (replies.parse_choice(text)))
    end)
  end
  local refused = {
    [""] = "empty", ["   \n"] = "empty",
    ["A because it is cheaper"] = "extra_text", ["I choose B"] = "extra_text", ["A or B"] = "extra_text",
    ["A good choice is B"] = "extra_text", ["B, since the rent is lower."] = "extra_text",
    ["I can only choose between two options (A or B) or report my decision weights as JSON."] = "extra_text",
    ["I'm sorry, I can't help with that."] = "not_a_choice", ["C"] = "not_a_choice", ["AB"] = "not_a_choice",
    ["Both"] = "not_a_choice",
  }
  for text, reason in pairs(refused) do
    it(string.format("refuses %q (%s)", text, reason), function()
      local letter, why, detail = replies.parse_choice(text)
      assert.is_nil(letter)
      assert.equal(reason, why)
      assert.is_string(detail)
    end)
  end
  it("refuses a reply that is not a string", function()
    local letter, why = replies.parse_choice(nil)
    assert.is_nil(letter)
    assert.equal("empty", why)
  end)
end)

-- What counts as a weight report: docs/reliability.md, "Replies real models write".
describe("replies.parse hardening", function()
  local names = { "price", "size" }
  local cases = {
    { '{"price": NaN, "size": 1}', "not_number" },
    { '{"price": Infinity, "size": 1}', "not_number" },
    { '{"price": -Infinity, "size": 1}', "not_number" },
    { '{"price": 1e309, "size": 1}', "not_number" },
    { '{"price": -1e309, "size": 1}', "not_number" },
    { '{"price": "57", "size": 1}', "not_number" },
    { '{"price": {"value": 57}, "size": 1}', "not_number" },
    { '{"price": [57], "size": 1}', "not_number" },
    { '{"price": null, "size": 1}', "not_number" },
    { '{"price": true, "size": 1}', "not_number" },
    { '{"price": 0x10, "size": 1}', "not_number" },
    { '{"price": +5, "size": 1}', "not_number" },
    { '{"price": 05, "size": 1}', "not_number" },
    { '{"price": 1, "size": 2, "colour": 3}', "wrong_keys" },
    { '{"price": 1, "price": 2, "size": 3}', "wrong_keys" },
    { '{"price": 1}', "wrong_keys" },
    { '{"price": 1, "size": 2} I hope this helps!', "not_json" },
    { 'Here are my weights: {"price": 1, "size": 2}', "not_json" },
    { '[1, 2]', "not_object" },
    { '```json\n```', "empty" },
  }
  for _, c in ipairs(cases) do
    it(string.format("refuses %q (%s)", c[1], c[2]), function()
      local values, reason, detail = replies.parse(c[1], names)
      assert.is_nil(values)
      assert.equal(c[2], reason)
      assert.is_string(detail)
    end)
  end
  local good = {
    { '{"price": 57, "size": -100}', { 57, -100 } },
    { '{"price": 57.0, "size": -1.5e1}', { 57, -15 } },
    { '```json\n{"price": 1, "size": 2}\n```', { 1, 2 } },
    { '```\n{"size": 2, "price": 1}\n```  ', { 1, 2 } },
    { '{"price": -0, "size": 0.5}', { 0, 0.5 } },
    { '{"price": 1000, "size": 2}', { 1000, 2 } },
    { '{"price": 1, "size": "x\\"y", "z": 1}', nil },
  }
  for _, c in ipairs(good) do
    it(string.format("reads %q", c[1]), function()
      local values = replies.parse(c[1], names)
      if c[2] then assert.same(c[2], values) else assert.is_nil(values) end
    end)
  end
  it("keeps every rejected reply counted by reason", function()
    local list = {}
    for i, c in ipairs(cases) do list[i] = { scenario = "s", text = c[1], model = "m" } end
    list[#list + 1] = { scenario = "s", text = '{"price": 1, "size": 2}', model = "m" }
    local reports, invalid = replies.collect(list, { s = names })
    assert.equal(1, #reports)
    assert.equal(#cases, invalid.invalid)
    assert.equal(#cases + 1, invalid.total)
    local sum = 0
    for _, n in pairs(invalid.reasons) do sum = sum + n end
    assert.equal(#cases, sum)
    assert.equal(13, invalid.reasons.not_number)
  end)
end)
