-- The same statistics in process, over HTTP against a fresh `introspect serve`, and against a
-- server that has already run another study (docs/simulated-subject.md, "Determinism"): a small
-- study (instill, measure learned weights, reports, introspection training, seeded sampling at
-- T = 1) driven through plain OpenAI-shaped requests gives identical numbers on all three.
local R = require("sim_recovery")
local sim = require("introspect.sim")

local bin = os.getenv("INTROSPECT_BIN")
local N = 20
local ctxs = R.contexts(N)

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- study(api, seed) -> the study's statistics (targets drawn from `seed`)
local function study(api, seed)
  local targets = R.weights(N, seed)
  local instilled = R.train(api, "sim-large", R.choice_examples(ctxs, targets, 40, seed), { seed = 4 })
  local learned, reports = {}, {}
  for i, c in ipairs(ctxs) do
    learned[i] = R.measure(api, instilled, c, 40, 100 + i)
    reports[i] = R.mean_report(api, instilled, c, 4, 200 + i) or { 0, 0, 0, 0, 0 }
  end
  local half, rest, half_w = {}, {}, {}
  for i = 1, N // 2 do half[i], rest[i], half_w[i] = ctxs[i], ctxs[N // 2 + i], learned[i] end
  local trained = R.train(api, instilled, R.report_examples(half, half_w, 2, seed + 1), { seed = 5 })
  local after, learned_rest = {}, {}
  for i, c in ipairs(rest) do
    after[i] = R.mean_report(api, trained, c, 4, 300 + i) or { 0, 0, 0, 0, 0 }
    learned_rest[i] = learned[N // 2 + i]
  end
  local a, b = R.trial(ctxs[1], R.stream(seed))
  local sampled = R.chat(api, { model = instilled, temperature = 1, n = 50, seed = 9,
    messages = R.messages("decision", ctxs[1], a, b) })
  local a_count = 0
  for _, ch in ipairs(sampled.choices) do if ch.message.content == "A" then a_count = a_count + 1 end end
  return { learned_vs_target = R.pearson(R.flat(learned), R.flat(targets)),
           instilled = R.pearson(R.flat(reports), R.flat(learned)),
           trained_held_out = R.pearson(R.flat(after), R.flat(learned_rest)), a_of_50 = a_count }
end

-- serve() -> base url, stop(): a fresh `introspect serve` on a free port
local function serve()
  local proc = io.popen("sh -c 'echo $$; exec \"$0\" serve --port=0 --profile=sim-large 2>&1' "
    .. shell_quote(bin), "r")
  local pid = proc:read("l")
  local url = (proc:read("l") or ""):match("(http://%S+)/v1")
  proc:read("l")
  return url, function()
    os.execute("kill -INT " .. pid)
    proc:read("a")
    proc:close()
  end
end

describe("sim statistics", function()
  it("are the same in process, over HTTP on a fresh server, and on a server that ran another study", function()
    local in_process = study(sim.api({ profiles = { "sim-large" } }), 1)
    print(string.format("in process: learned vs target %.3f, instilled %.3f, trained (held out) %.3f, %d A of 50",
      in_process.learned_vs_target, in_process.instilled, in_process.trained_held_out, in_process.a_of_50))
    assert.is_true(in_process.instilled > 0.2 and in_process.trained_held_out > in_process.instilled)
    -- a server that already ran another study in process gives the same numbers
    local busy = sim.api({ profiles = { "sim-large" }, seed = 5 })
    study(busy, 2)
    assert.same(in_process, study(busy, 1))
    if not bin then
      print("SKIP: HTTP half needs INTROSPECT_BIN (the host binary)")
      return
    end
    local http = require("introspect.http")
    local url, stop = serve()
    local ok, err = pcall(function()
      local api = R.over(http.pool({ concurrency = 1, max_retries = 0 }), url)
      assert.same(in_process, study(api, 1))   -- fresh server
      study(api, 3)
      assert.same(in_process, study(api, 1))   -- after another study (and a repeat of this one)
    end)
    stop()
    assert(ok, err)
  end)
end)
