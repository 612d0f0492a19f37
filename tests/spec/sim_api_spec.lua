-- The simulated OpenAI API (introspect.sim.api) and the in-process transport.
local cjson = require("cjson")
local S = require("sim_support")
local sim = require("introspect.sim")

local contexts = S.contexts(30)

local function chat_body(model, text, extra)
  local body = { model = model, messages = { { role = "system", content = S.SYSTEM },
    { role = "user", content = text } }, temperature = 0 }
  for k, v in pairs(extra or {}) do body[k] = v end
  return body
end

local function upload(call, purpose, name, content)
  local body, ctype = S.multipart(purpose, name, content)
  return call("POST", "/v1/files", body, { ["content-type"] = ctype })
end

local function manual_clock(t0)
  local clock = { t = t0 or 1700000000.0 }
  function clock.now() return clock.t end
  return clock
end

describe("sim api: chat completions", function()
  local api = sim.api({})
  local call = S.client(api)
  local t = S.trials(contexts[1], 3, 21)
  local decision = S.decision(contexts[1], t, 1)

  it("lists its models", function()
    local status, doc = call("GET", "/v1/models")
    assert.equal(200, status)
    local ids = {}
    for _, m in ipairs(doc.data) do ids[m.id] = m.object end
    assert.same({ ["sim-small"] = "model", ["sim-large"] = "model" }, ids)
  end)

  it("answers a decision prompt with A or B and consistent logprobs", function()
    local status, doc = call("POST", "/v1/chat/completions",
      chat_body("sim-large", decision, { logprobs = true, top_logprobs = 5 }))
    assert.equal(200, status)
    local choice = doc.choices[1]
    assert.is_truthy(choice.message.content == "A" or choice.message.content == "B")
    local tops = choice.logprobs.content[1].top_logprobs
    assert.equal(5, #tops)
    assert.equal(choice.message.content, tops[1].token)
    assert.near(1, math.exp(tops[1].logprob) + math.exp(tops[2].logprob), 1e-9)
    assert.equal(1, doc.usage.completion_tokens)
    assert.equal(doc.usage.prompt_tokens + 1, doc.usage.total_tokens)
    -- the same request to a fresh api gets the same answer
    local _, again = S.client(sim.api({}))("POST", "/v1/chat/completions",
      chat_body("sim-large", decision, { logprobs = true, top_logprobs = 5 }))
    assert.equal(choice.message.content, again.choices[1].message.content)
    assert.equal(tops[1].logprob, again.choices[1].logprobs.content[1].top_logprobs[1].logprob)
  end)

  it("samples n replies reproducibly with a seed", function()
    local report = S.report(contexts[2], t, 2)
    local body = chat_body("sim-small", report, { n = 6, temperature = 1, seed = 17 })
    local _, a = call("POST", "/v1/chat/completions", body)
    local _, b = S.client(sim.api({}))("POST", "/v1/chat/completions", body)
    assert.equal(6, #a.choices)
    local distinct = {}
    for i = 1, 6 do
      assert.equal(a.choices[i].message.content, b.choices[i].message.content)
      distinct[a.choices[i].message.content] = true
    end
    local n = 0
    for _ in pairs(distinct) do n = n + 1 end
    assert.is_true(n > 1)
    -- at T=0 every choice is the same
    local _, z = call("POST", "/v1/chat/completions", chat_body("sim-small", report, { n = 3 }))
    assert.equal(z.choices[1].message.content, z.choices[3].message.content)
  end)

  it("refuses anything that is not a decision or report prompt", function()
    local status, doc = call("POST", "/v1/chat/completions", chat_body("sim-large", "Write a poem."))
    assert.equal(200, status)
    local prompt = require("introspect.sim.prompt")
    assert.equal(prompt.refusal("layout"), doc.choices[1].message.content)
    assert.equal(prompt.REFUSAL, doc.choices[1].message.content:sub(1, #prompt.REFUSAL))
  end)

  it("answers bad requests with OpenAI-style 4xx errors", function()
    local cases = {
      { "{not json", 400, nil },
      { cjson.encode({ model = "sim-large" }), 400, "messages" },
      { cjson.encode(chat_body("sim-large", "x", { n = 0 })), 400, "n" },
      { cjson.encode(chat_body("sim-large", "x", { temperature = 3 })), 400, "temperature" },
      { cjson.encode(chat_body("sim-large", "x", { top_logprobs = 2 })), 400, "logprobs" },
      { cjson.encode(chat_body("sim-large", "x", { bogus = 1 })), 400, "bogus" },
      { cjson.encode(chat_body("sim-large", "x", { stream = true })), 400, "stream" },
      { cjson.encode(chat_body("gpt-nothing", "x")), 404, "model" },
      { cjson.encode({ model = "sim-large", messages = { { role = "wizard", content = "x" } } }), 400,
        "messages[0].role" },
    }
    for _, case in ipairs(cases) do
      local status, doc = call("POST", "/v1/chat/completions", case[1])
      assert.equal(case[2], status, case[1])
      assert.is_string(doc.error.message)
      assert.equal(case[3] or cjson.null, doc.error.param)
    end
    local status, doc = call("GET", "/v1/nothing")
    assert.equal(404, status)
    assert.matches("Invalid URL", doc.error.message)
    local small = sim.api({ max_body = 100 })
    status, doc = S.client(small)("POST", "/v1/chat/completions", chat_body("sim-large", decision))
    assert.equal(413, status)
    assert.equal("request_too_large", doc.error.code)
  end)

  it("requires the bearer key when one is set and never echoes it", function()
    local keyed = S.client(sim.api({ key = "sk-test-secret-123456" }))
    local status, doc = keyed("GET", "/v1/models")
    assert.equal(401, status)
    assert.equal("missing_api_key", doc.error.code)
    local res
    status, doc, res = keyed("GET", "/v1/models", nil, { authorization = "Bearer sk-wrong-key-99999" })
    assert.equal(401, status)
    assert.equal("invalid_api_key", doc.error.code)
    assert.is_nil(res.body:find("sk-", 1, true))
    status = keyed("GET", "/v1/models", nil, { authorization = "Bearer sk-test-secret-123456" })
    assert.equal(200, status)
  end)

  it("enforces optional per-minute limits with 429 and retry-after", function()
    local clock = manual_clock()
    local limited = S.client(sim.api({ rate_limits = { rpm = 2 }, clock = clock.now }))
    assert.equal(200, (limited("GET", "/v1/models")))
    local _, _, res = limited("GET", "/v1/models")
    assert.equal("0", res.headers["x-ratelimit-remaining-requests"])
    local status, doc
    status, doc, res = limited("GET", "/v1/models")
    assert.equal(429, status)
    assert.equal("rate_limit_exceeded", doc.error.code)
    assert.equal("60", res.headers["retry-after"])
    clock.t = clock.t + 61
    assert.equal(200, (limited("GET", "/v1/models")))
  end)
end)

describe("sim api: files, fine-tuning and batches", function()
  local targets = S.weights(contexts, 1)
  local train_ctx = {}
  for i = 1, 10 do train_ctx[i] = contexts[i] end
  local choice_text = S.choice_file(train_ctx, targets, 20, 2)

  it("uploads, lists, retrieves, downloads and deletes files", function()
    local call = S.client(sim.api({}))
    local status, f = upload(call, "fine-tune", "train.jsonl", choice_text)
    assert.equal(200, status)
    assert.equal("file", f.object)
    assert.equal(#choice_text, f.bytes)
    assert.equal("train.jsonl", f.filename)
    local _, list = call("GET", "/v1/files?purpose=fine-tune")
    assert.equal(f.id, list.data[1].id)
    local _, got = call("GET", "/v1/files/" .. f.id)
    assert.equal(f.bytes, got.bytes)
    local _, _, content = call("GET", "/v1/files/" .. f.id .. "/content")
    assert.equal(choice_text, content.body)
    local _, del = call("DELETE", "/v1/files/" .. f.id)
    assert.is_true(del.deleted)
    assert.equal(404, (call("GET", "/v1/files/" .. f.id)))
    local bad_status, bad = upload(call, "fine-tune", "bad.jsonl", '{"messages": []}\nnot json\n')
    assert.equal(400, bad_status)
    assert.matches("line 2", bad.error.message)
    assert.equal(400, (call("POST", "/v1/files", "garbage", { ["content-type"] = "multipart/form-data" })))
    assert.equal(400, (upload(call, "nonsense", "x.jsonl", "{}\n")))
  end)

  it("runs a fine-tuning job through its states and serves the fine-tuned model", function()
    local clock = manual_clock()
    local api = sim.api({ job_duration = 100, clock = clock.now })
    local call = S.client(api)
    local _, f = upload(call, "fine-tune", "train.jsonl", choice_text)
    local status, job = call("POST", "/v1/fine_tuning/jobs", { model = "sim-small", training_file = f.id,
      suffix = "instill", seed = 4, method = { type = "supervised",
      supervised = { hyperparameters = { n_epochs = 3 } } } })
    assert.equal(200, status)
    assert.equal("validating_files", job.status)
    assert.equal(cjson.null, job.fine_tuned_model)
    local seen = {}
    for _, dt in ipairs({ 5, 10, 50, 40 }) do
      clock.t = clock.t + dt
      local _, j = call("GET", "/v1/fine_tuning/jobs/" .. job.id)
      seen[#seen + 1] = j.status
      job = j
    end
    assert.same({ "validating_files", "queued", "running", "succeeded" }, seen)
    assert.matches("^ft:sim%-small:introspect:instill:%x%x%x%x%x%x%x%x$", job.fine_tuned_model)
    assert.equal(3, job.hyperparameters.n_epochs)
    assert.equal(1, #job.result_files)
    local _, events = call("GET", "/v1/fine_tuning/jobs/" .. job.id .. "/events")
    assert.matches("successfully completed", events.data[1].message)
    local metrics = 0
    for _, e in ipairs(events.data) do if e.type == "metrics" then metrics = metrics + 1 end end
    assert.equal(3, metrics)
    local _, models = call("GET", "/v1/models")
    local found = false
    for _, m in ipairs(models.data) do if m.id == job.fine_tuned_model then found = true end end
    assert.is_true(found)
    -- the fine-tuned model follows the trained weights on held-out trials
    local agree, n = 0, 0
    for i, c in ipairs(train_ctx) do
      local t = S.trials(c, 10, 900 + i)
      local want = t:choices(targets[i])
      for j = 1, 10 do
        local _, doc = call("POST", "/v1/chat/completions", chat_body(job.fine_tuned_model, S.decision(c, t, j)))
        n = n + 1
        if doc.choices[1].message.content == want:sub(j, j) then agree = agree + 1 end
      end
    end
    assert.is_true(agree / n > 0.7, "agreement " .. agree / n)
    local _, list = call("GET", "/v1/fine_tuning/jobs?limit=5")
    assert.equal(job.id, list.data[1].id)
  end)

  it("parses an uploaded file once for all its fine-tunes, which train as on a fresh api", function()
    local finetune = require("introspect.sim.finetune")
    local parse, parses = finetune.parse_examples, 0
    finetune.parse_examples = function(...) parses = parses + 1 return parse(...) end
    local ok, err = pcall(function()
      -- finished_model(call, file, base) -> the fine-tuned model of a job on the file, once done
      local function finished_model(call, file, base)
        local _, job = call("POST", "/v1/fine_tuning/jobs", { model = base, training_file = file, seed = 4 })
        local _, done = call("GET", "/v1/fine_tuning/jobs/" .. job.id)
        assert.equal("succeeded", done.status)
        return done.fine_tuned_model
      end
      local call = S.client(sim.api({}))
      local _, f = upload(call, "fine-tune", "train.jsonl", choice_text)
      local small = finished_model(call, f.id, "sim-small")
      local large = finished_model(call, f.id, "sim-large")
      assert.equal(1, parses)
      -- the second job's model answers as one trained on a fresh api, its file parsed anew
      local fresh = S.client(sim.api({}))
      local _, g = upload(fresh, "fine-tune", "train.jsonl", choice_text)
      local alone = finished_model(fresh, g.id, "sim-large")
      assert.equal(2, parses)
      local t = S.trials(train_ctx[1], 5, 77)
      for j = 1, 5 do
        local body = chat_body(large, S.decision(train_ctx[1], t, j), { logprobs = true, top_logprobs = 2 })
        local _, a = call("POST", "/v1/chat/completions", body)
        body.model = alone
        local _, b = fresh("POST", "/v1/chat/completions", body)
        assert.same(a.choices[1].logprobs, b.choices[1].logprobs)
      end
      assert.are_not.equal(small, large)
    end)
    finetune.parse_examples = parse
    assert(ok, err)
  end)

  it("cancels a running job and fails a job with an unusable file", function()
    local clock = manual_clock()
    local call = S.client(sim.api({ job_duration = 10, clock = clock.now }))
    local _, f = upload(call, "fine-tune", "train.jsonl", choice_text)
    local _, job = call("POST", "/v1/fine_tuning/jobs", { model = "sim-large", training_file = f.id })
    clock.t = clock.t + 5
    local status, cancelled = call("POST", "/v1/fine_tuning/jobs/" .. job.id .. "/cancel")
    assert.equal(200, status)
    assert.equal("cancelled", cancelled.status)
    clock.t = clock.t + 50
    local _, later = call("GET", "/v1/fine_tuning/jobs/" .. job.id)
    assert.equal("cancelled", later.status)
    assert.equal(cjson.null, later.fine_tuned_model)
    assert.equal(400, (call("POST", "/v1/fine_tuning/jobs/" .. job.id .. "/cancel")))
    local few = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "A"}]}\n'
    local _, g = upload(call, "fine-tune", "few.jsonl", few)
    local _, bad = call("POST", "/v1/fine_tuning/jobs", { model = "sim-large", training_file = g.id })
    clock.t = clock.t + 20
    local _, failed = call("GET", "/v1/fine_tuning/jobs/" .. bad.id)
    assert.equal("failed", failed.status)
    assert.equal("invalid_training_file", failed.error.code)
    assert.matches("at least 10", failed.error.message)
    assert.equal(400, (call("POST", "/v1/fine_tuning/jobs", { model = "sim-large", training_file = "file-nope" })))
    assert.equal(404, (call("POST", "/v1/fine_tuning/jobs", { model = "nope", training_file = f.id })))
    assert.equal(400, (call("POST", "/v1/fine_tuning/jobs", { model = "sim-large", training_file = f.id,
      hyperparameters = { n_epochs = 0 } })))
  end)

  it("runs a batch into output and error files that match direct calls", function()
    local api = sim.api({})
    local call = S.client(api)
    local t = S.trials(contexts[3], 4, 31)
    local lines = {}
    for j = 1, 4 do
      lines[j] = cjson.encode({ custom_id = "req-" .. j, method = "POST", url = "/v1/chat/completions",
        body = chat_body("sim-large", S.decision(contexts[3], t, j)) })
    end
    lines[5] = cjson.encode({ custom_id = "bad", method = "POST", url = "/v1/chat/completions",
      body = chat_body("no-such-model", "x") })
    local _, f = upload(call, "batch", "in.jsonl", table.concat(lines, "\n") .. "\n")
    local status, batch = call("POST", "/v1/batches", { input_file_id = f.id, endpoint = "/v1/chat/completions",
      completion_window = "24h" })
    assert.equal(200, status)
    assert.equal("completed", batch.status)
    assert.same({ total = 5, completed = 4, failed = 1 }, batch.request_counts)
    local _, _, out = call("GET", "/v1/files/" .. batch.output_file_id .. "/content")
    local n = 0
    for line in out.body:gmatch("[^\n]+") do
      local item = cjson.decode(line)
      n = n + 1
      local j = tonumber(item.custom_id:match("%d+"))
      local _, direct = call("POST", "/v1/chat/completions", chat_body("sim-large", S.decision(contexts[3], t, j)))
      assert.equal(200, item.response.status_code)
      assert.equal(direct.choices[1].message.content, item.response.body.choices[1].message.content)
    end
    assert.equal(4, n)
    local _, _, errs = call("GET", "/v1/files/" .. batch.error_file_id .. "/content")
    assert.equal(404, cjson.decode(errs.body:match("[^\n]+")).response.status_code)
    local _, dup = upload(call, "batch", "dup.jsonl", lines[1] .. "\n" .. lines[1] .. "\n")
    local _, failed = call("POST", "/v1/batches", { input_file_id = dup.id, endpoint = "/v1/chat/completions",
      completion_window = "24h" })
    assert.equal("failed", failed.status)
    assert.equal("duplicate_custom_id", failed.errors.data[1].code)
  end)

  it("persists files, jobs and models in state_dir across restarts", function()
    local dir = os.tmpname()
    os.remove(dir)
    local call = S.client(sim.api({ state_dir = dir }))
    local _, f = upload(call, "fine-tune", "train.jsonl", choice_text)
    local _, job = call("POST", "/v1/fine_tuning/jobs", { model = "sim-large", training_file = f.id, suffix = "p" })
    local _, done = call("GET", "/v1/fine_tuning/jobs/" .. job.id)
    local prompt_text = S.decision(contexts[2], S.trials(contexts[2], 1, 77), 1)
    local _, before = call("POST", "/v1/chat/completions",
      chat_body(done.fine_tuned_model, prompt_text, { logprobs = true }))
    -- a new process (a new api object) on the same directory
    local call2 = S.client(sim.api({ state_dir = dir }))
    local _, again = call2("GET", "/v1/fine_tuning/jobs/" .. job.id)
    assert.equal("succeeded", again.status)
    assert.equal(done.fine_tuned_model, again.fine_tuned_model)
    local _, after = call2("POST", "/v1/chat/completions",
      chat_body(done.fine_tuned_model, prompt_text, { logprobs = true }))
    assert.equal(before.choices[1].logprobs.content[1].logprob, after.choices[1].logprobs.content[1].logprob)
    local _, _, content = call2("GET", "/v1/files/" .. f.id .. "/content")
    assert.equal(choice_text, content.body)
    local _, f2 = upload(call2, "fine-tune", "more.jsonl", choice_text)
    assert.is_not.equal(f.id, f2.id)
    os.execute("rm -rf '" .. dir .. "'")
  end)
end)

describe("sim api: faults and the in-process transport", function()
  it("injects seeded faults at the configured rates", function()
    local function run(seed)
      local api = sim.api({ faults = "429=0.1,500=0.05,503=0.05,reset=0.05,truncate=0.05,latency=10ms,seed="
        .. seed })
      local counts, delays = {}, 0
      local text = S.decision(contexts[1], S.trials(contexts[1], 1, 1), 1)
      local body = cjson.encode(chat_body("sim-large", text))
      local seq = {}
      for i = 1, 2000 do
        local res = api:handle({ method = "POST", path = "/v1/chat/completions", headers = {}, body = body })
        local key = res.fault or tostring(res.status)
        counts[key] = (counts[key] or 0) + 1
        delays = delays + (res.delay or 0)
        seq[i] = key
        if res.status == 429 then assert.equal("1", res.headers["retry-after"]) end
      end
      return counts, delays / 2000, table.concat(seq, ",")
    end
    local counts, mean_delay, seq = run(7)
    assert.is_true(math.abs(counts["429"] / 2000 - 0.1) < 0.03)
    assert.is_true(math.abs(counts["500"] / 2000 - 0.05) < 0.02)
    assert.is_true(math.abs(counts["503"] / 2000 - 0.05) < 0.02)
    assert.is_true(math.abs(counts.reset / 2000 - 0.05) < 0.02)
    assert.is_true(math.abs(counts.truncate / 2000 - 0.05) < 0.02)
    assert.is_true(mean_delay > 0.008 and mean_delay < 0.016, "mean delay " .. mean_delay)
    local _, _, seq2 = run(7)
    assert.equal(seq, seq2)
    local _, _, seq3 = run(8)
    assert.is_not.equal(seq, seq3)
    assert.has_error(function() sim.api({ faults = "429=2" }) end)
    local ok, err = pcall(sim.api, { faults = "explode=0.1" })
    assert.is_false(ok)
    assert.matches("^faults: unknown key 'explode' %(known: 429, ", err)
  end)

  it("implements the Transport contract in process, retrying simulated faults", function()
    local tr = sim.transport({ faults = "500=0.3,reset=0.2,seed=3", max_retries = 8 })
    local text = S.decision(contexts[1], S.trials(contexts[1], 1, 1), 1)
    local reqs = {}
    for i = 1, 50 do
      reqs[i] = { method = "POST", url = "http://sim.invalid/v1/chat/completions",
        headers = { ["Content-Type"] = "application/json" }, body = cjson.encode(chat_body("sim-large", text)) }
    end
    local delivered = 0
    local results = tr:perform(reqs, { on_result = function(i, r)
      assert.equal(reqs[i] and 200, r.status)
      delivered = delivered + 1
    end })
    assert.equal(50, #results)
    assert.equal(50, delivered)
    local retried = 0
    for _, r in ipairs(results) do
      assert.equal(200, r.status)
      assert.equal("application/json", r.headers["content-type"])
      if r.attempts > 1 then retried = retried + 1 end
    end
    assert.is_true(retried > 10)
    local no_retry = sim.transport(sim.api({ faults = "reset=1" }), { max_retries = 0 })
    local r = no_retry:perform({ reqs[1] })[1]
    assert.matches("reset", r.error)
    assert.equal(1, r.attempts)
    local stop = sim.transport({}):perform({ reqs[1], reqs[2], reqs[3] }, { on_result = function() return false end })
    assert.equal("cancelled", stop[2].error)
  end)

  it("handles a chat completion in well under a millisecond", function()
    local api = sim.api({})
    local c = contexts[5]
    local t = S.trials(c, 200, 5)
    local bodies = {}
    for j = 1, 200 do bodies[j] = cjson.encode(chat_body("sim-large", S.decision(c, t, j), { logprobs = true })) end
    local n = 5000
    local started = os.clock()
    for i = 1, n do
      api:handle({ method = "POST", path = "/v1/chat/completions", headers = {}, body = bodies[i % 200 + 1] })
    end
    local per = (os.clock() - started) / n
    print(("in-process chat completion: %.1f us (CPU) each"):format(per * 1e6))
    assert.is_true(per < 300e-6, "too slow: " .. per)
  end)
end)

describe("sim api: state_dir journal", function()
  it("drops a record torn by a kill and reports a corrupt one by line", function()
    local dir = os.tmpname()
    os.remove(dir)
    local call = S.client(sim.api({ state_dir = dir }))
    local body, ctype = S.multipart("batch", "a.jsonl", '{"x": 1}\n')
    local _, f = call("POST", "/v1/files", body, { ["content-type"] = ctype })
    local j = assert(io.open(dir .. "/journal.jsonl", "ab"))
    j:write('{"kind":"file","id":"file-torn')
    j:close()
    local call2 = S.client(sim.api({ state_dir = dir }))
    assert.equal(200, (call2("GET", "/v1/files/" .. f.id)))
    local _, f2 = call2("POST", "/v1/files", body, { ["content-type"] = ctype })
    assert.equal(200, (S.client(sim.api({ state_dir = dir }))("GET", "/v1/files/" .. f2.id)))
    j = assert(io.open(dir .. "/journal.jsonl", "ab"))
    j:write("garbage\n")
    j:close()
    assert.has_error(function() sim.api({ state_dir = dir }) end,
      "sim.api: " .. dir .. "/journal.jsonl line 3: unreadable journal record")
    os.execute("rm -rf '" .. dir .. "'")
  end)
end)
