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
