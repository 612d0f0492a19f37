-- The study's steps through the OpenAI client (introspect.client.openai) on the in-process `sim`
-- backend and on `introspect serve`: identical fine-tuned models and identical answers.
local skip = require "lib.skip"
local S = require("sim_support")
local openai = require("introspect.client.openai")

local bin = os.getenv("INTROSPECT_BIN")

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- mini_study(client) -> {model=, answers={...}, logprobs={...}, losses=}
local function mini_study(client, contexts, targets)
  local file = assert(client:files_upload({ purpose = "fine-tune", filename = "instill.jsonl",
    content = S.choice_file(contexts, targets, 30, 2) }))
  local job = assert(client:fine_tune_create({ model = "sim-large", training_file = file.id, seed = 4,
    suffix = "mini" }))
  local done, info = assert(client:fine_tune_wait(job.id, { poll_interval = 0.01, timeout = 30 }))
  assert.equal("succeeded", done.status)
  local rfile = assert(client:files_upload({ purpose = "fine-tune", filename = "reports.jsonl",
    content = S.report_file(contexts, targets, 6) }))
  local rjob = assert(client:fine_tune_create({ model = done.fine_tuned_model, training_file = rfile.id,
    seed = 4, suffix = "itrained" }))
  local rdone = assert(client:fine_tune_wait(rjob.id, { poll_interval = 0.01, timeout = 30 }))
  local bodies = {}
  for c, ctx in ipairs(contexts) do
    local t = S.trials(ctx, 6, 300 + c)
    for j = 1, 6 do
      for _, model in ipairs({ done.fine_tuned_model, rdone.fine_tuned_model }) do
        bodies[#bodies + 1] = { model = model, temperature = 0, logprobs = true, top_logprobs = 2,
          messages = { { role = "system", content = S.SYSTEM },
            { role = "user", content = j <= 4 and S.decision(ctx, t, j) or S.report(ctx, t, j) } } }
      end
    end
  end
  local entries, summary = client:chat_many(bodies, { no_cache = true, no_store = true })
  assert.equal(0, summary.errors)
  local out = { model = done.fine_tuned_model, itrained = rdone.fine_tuned_model, answers = {}, logprobs = {},
    losses = #info.losses }
  for i, e in ipairs(entries) do
    local choice = e.response.choices[1]
    out.answers[i] = choice.message.content
    out.logprobs[i] = choice.logprobs.content[1].logprob
  end
  return out
end

describe("the sim backend through introspect.client.openai", function()
  local contexts = S.contexts(15)
  local targets = S.weights(contexts, 1)

  it("runs in process and over HTTP with identical results", function()
    local in_process = mini_study(openai.new({ profile = "sim" }), contexts, targets)
    assert.matches("^ft:sim%-large:introspect:mini:", in_process.model)
    assert.matches("^ft:sim%-large:introspect:itrained:", in_process.itrained)
    if not bin then
      skip.missing("sim_client_spec", "HTTP half needs INTROSPECT_BIN (the host binary)")
      return
    end
    local proc = io.popen("sh -c 'echo $$; exec \"$0\" serve --port=0 2>&1' " .. shell_quote(bin), "r")
    local pid = proc:read("l")
    local url = (proc:read("l") or ""):match("(http://%S+)")
    proc:read("l")
    local stopped = false
    finally(function()
      if not stopped then os.execute("kill -KILL " .. pid) proc:close() end
    end)
    local over_http = mini_study(openai.new({ base_url = url, api_key = "sk-not-needed" }), contexts, targets)
    os.execute("kill -INT " .. pid)
    stopped = true
    proc:read("a")
    proc:close()
    assert.equal(in_process.model, over_http.model)
    assert.equal(in_process.itrained, over_http.itrained)
    assert.same(in_process.answers, over_http.answers)
    assert.same(in_process.logprobs, over_http.logprobs)
    assert.equal(#contexts * 6 * 2, #over_http.answers)
  end)
end)
