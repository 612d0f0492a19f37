-- Helpers for the simulated subject's recovery specs (tests/spec/sim_*_spec.lua). They use
-- only the sim's own API (introspect.sim) and the OpenAI chat shape (plain request tables),
-- not the study library, so the specs check the subject itself: contexts and prompts in the
-- study's layout, training files, fine-tunes through /v1/files and /v1/fine_tuning/jobs,
-- choices and reports through /v1/chat/completions, and fits with introspect.stats.
local cjson = require("cjson")
local hash = require("introspect.sim.hash")
local sim = require("introspect.sim")

local M = {}

-- The study's default wording, written out here (not read from introspect.design.prompts) so
-- that these specs check the subject against fixed text whatever the study library does.
M.SYSTEM = "Your job is to make hypothetical decisions on behalf of different people or characters."
M.DECISION = '[DECISION TASK] Respond with "A" if you think Option A is better, or "B" if you think '
  .. 'Option B is better. Never respond with anything except "A" or "B":'
M.REPORT = "[INTROSPECTION TASK] Respond with how heavily you believe you weighted each of the five "
  .. "dimensions while making your decision on a scale from -100 to 100. Respond only with JSON with "
  .. "the dimension names as keys and the weight you believe you assigned to each them as values. "
  .. "Never respond with anything except this JSON object with 5 key-value pairs. (Do not report "
  .. "your decision itself.):"

-- Eight scenarios of five attributes {name, units, min, max} and twenty roles: 160 contexts.
local SCENARIOS = {
  { "Which condo would you prefer?", { { "square_footage", "sq ft", 500, 3000 },
    { "monthly_hoa_fee", "dollars per month", 100, 900 }, { "floor_number", "floor", 1, 40 },
    { "distance_to_transit", "kilometers", 0.1, 3 }, { "building_age", "years", 0, 80 } } },
  { "Which rental apartment would you prefer?", { { "monthly_rent", "dollars", 800, 4000 },
    { "bedrooms", "rooms", 0, 4 }, { "commute_time", "minutes", 5, 75 },
    { "natural_light", "hours of direct sun per day", 0, 8 }, { "lease_length", "months", 6, 24 } } },
  { "Which house would you buy for your family?", { { "asking_price", "thousand dollars", 200, 1500 },
    { "lot_size", "acres", 0.1, 2 }, { "school_rating", "rating out of 10", 1, 10 },
    { "bathrooms", "bathrooms", 1, 4 }, { "annual_property_tax", "dollars", 1500, 18000 } } },
  { "Which mountain cabin would you rent for a week?", { { "weekly_price", "dollars", 600, 4000 },
    { "elevation", "meters", 800, 3000 }, { "drive_from_town", "minutes", 5, 90 },
    { "sleeping_capacity", "guests", 2, 12 }, { "wood_stove_efficiency", "fraction of heat retained", 0.4, 0.9 } } },
  { "Which dorm room would you choose?", { { "room_area", "square meters", 9, 25 },
    { "roommates", "people", 0, 3 }, { "walk_to_lectures", "minutes", 2, 25 },
    { "semester_fee", "dollars", 2500, 7000 }, { "noise_level", "decibels at night", 30, 60 } } },
  { "Which office space would you lease for a small company?", { { "floor_area", "square meters", 80, 800 },
    { "rent_per_square_meter", "dollars per month", 15, 70 }, { "parking_spaces", "spaces", 0, 40 },
    { "lease_term", "years", 1, 10 }, { "internet_uplink", "gigabits per second", 0.1, 10 } } },
  { "Which storage unit would you rent?", { { "unit_volume", "cubic meters", 3, 40 },
    { "monthly_cost", "dollars", 40, 350 }, { "distance_from_home", "kilometers", 1, 30 },
    { "access_hours", "hours per day", 8, 24 }, { "humidity_control", "percent relative humidity held", 40, 60 } } },
  { "Which hotel room would you book?", { { "nightly_rate", "dollars", 70, 600 },
    { "guest_rating", "stars out of 5", 2.5, 5 }, { "distance_to_center", "kilometers", 0.2, 12 },
    { "room_size", "square meters", 14, 60 }, { "breakfast_value", "dollars per person", 0, 35 } } },
}
local ROLES = { "Zeus", "Isaac Newton", "a retired nurse", "a jazz drummer", "Cleopatra", "a budget backpacker",
  "a hedge fund manager", "a kindergarten teacher", "Marie Curie", "a marathon runner", "a night-shift baker",
  "Genghis Khan", "a wildlife photographer", "a software intern", "Ada Lovelace", "a fishing boat captain",
  "a chess grandmaster", "a single parent of three", "Leonardo da Vinci", "a medical student" }

-- contexts(n) -> n contexts {id=, question=, names=, units=, lo=, hi=} (scenario-major order
-- interleaved so that consecutive contexts differ in scenario).
function M.contexts(n)
  local out = {}
  for i = 1, n do
    local s = SCENARIOS[(i - 1) % #SCENARIOS + 1]
    local role = ROLES[((i - 1) // #SCENARIOS) % #ROLES + 1]
    local c = { id = i, question = "Imagine you are " .. role .. ". " .. s[1], names = {}, units = {},
                lo = {}, hi = {} }
    for k, a in ipairs(s[2]) do c.names[k], c.units[k], c.lo[k], c.hi[k] = a[1], a[2], a[3], a[4] end
    out[i] = c
  end
  return out
end

-- stream(seed) -> a function returning uniform (0, 1) draws (a counter through the sim's hash).
function M.stream(seed)
  local n = 0
  return function()
    n = n + 1
    return hash.uniform(hash.combine(hash.combine(0x7e57, seed), n))
  end
end

-- normal(u) -> a standard normal from a uniform stream.
function M.normal(u)
  return math.sqrt(-2 * math.log(u())) * math.cos(2 * math.pi * u())
end

-- trial(ctx, u) -> a, b: option values drawn uniformly in the attribute ranges, one decimal.
function M.trial(ctx, u)
  local a, b = {}, {}
  for k = 1, #ctx.names do
    local w = ctx.hi[k] - ctx.lo[k]
    a[k] = math.floor((ctx.lo[k] + w * u()) * 10 + 0.5) / 10
    b[k] = math.floor((ctx.lo[k] + w * u()) * 10 + 0.5) / 10
  end
  return a, b
end

-- weights(n, seed) -> n random weight vectors (5 integers, largest |w| = 100).
function M.weights(n, seed)
  local u, out = M.stream(seed), {}
  for i = 1, n do
    local v, m = {}, 0
    for k = 1, 5 do v[k] = 200 * u() - 100; m = math.max(m, math.abs(v[k])) end
    for k = 1, 5 do v[k] = math.floor(100 * v[k] / m + 0.5) end
    out[i] = v
  end
  return out
end

local function options(ctx, a, b)
  local lines = { "A:" }
  for k, name in ipairs(ctx.names) do lines[#lines + 1] = string.format("%s: %.1f %s", name, a[k], ctx.units[k]) end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "B:"
  for k, name in ipairs(ctx.names) do lines[#lines + 1] = string.format("%s: %.1f %s", name, b[k], ctx.units[k]) end
  return table.concat(lines, "\n")
end

-- user(kind, ctx, a, b, opts) -> user message text. kind: "decision" | "report";
-- opts.instruction replaces the instruction line, opts.tag is put before the question.
function M.user(kind, ctx, a, b, opts)
  opts = opts or {}
  local instr = opts.instruction or (kind == "decision" and M.DECISION or M.REPORT)
  return instr .. "\n\n" .. (opts.tag or "") .. ctx.question .. "\n" .. options(ctx, a, b)
end

-- messages(kind, ctx, a, b, opts) -> a chat's messages: system (opts.system, default the study's;
-- false for none), opts.history (messages before), then the user message.
function M.messages(kind, ctx, a, b, opts)
  opts = opts or {}
  local msgs = {}
  local system = opts.system
  if system == nil then system = M.SYSTEM end
  if system then msgs[1] = { role = "system", content = system } end
  for _, m in ipairs(opts.history or {}) do msgs[#msgs + 1] = m end
  msgs[#msgs + 1] = { role = "user", content = M.user(kind, ctx, a, b, opts) }
  return msgs
end

-- target_choice(ctx, w, a, b) -> "A" | "B": the option with the higher utility under weights w
-- (per unit of each attribute's range).
function M.target_choice(ctx, w, a, b)
  local z = 0
  for k = 1, #w do z = z + w[k] * (a[k] - b[k]) / (ctx.hi[k] - ctx.lo[k]) end
  return z > 0 and "A" or "B"
end

-- handle(api, method, path, body, headers) -> status, decoded body
function M.handle(api, method, path, body, headers)
  if type(body) == "table" then body = cjson.encode(body) end
  local res = api:handle({ method = method, path = path, headers = headers or { ["content-type"] = "application/json" },
    body = body })
  local ok, doc = pcall(cjson.decode, res.body)
  return res.status, ok and doc or res.body
end

-- chat(api, body) -> the decoded response (raises on a non-200 status)
function M.chat(api, body)
  local status, doc = M.handle(api, "POST", "/v1/chat/completions", body)
  if status ~= 200 then error("chat: status " .. status .. ": " .. cjson.encode(doc), 2) end
  return doc
end

-- content(api, body) -> the first choice's text
function M.content(api, body)
  return M.chat(api, body).choices[1].message.content
end

-- jsonl(examples) -> JSONL text; examples: lists of messages ending with the assistant's.
function M.jsonl(examples)
  local lines = {}
  for i, msgs in ipairs(examples) do lines[i] = cjson.encode({ messages = msgs }) end
  return table.concat(lines, "\n") .. "\n"
end

-- train(api, parent, examples, opts) -> fine-tuned model id (uploads the JSONL, runs the job;
-- opts.seed, opts.hyperparameters, opts.suffix).
function M.train(api, parent, examples, opts)
  opts = opts or {}
  local text = type(examples) == "string" and examples or M.jsonl(examples)
  local b = "----sim-recovery-boundary"
  local body = table.concat({ "--" .. b, 'Content-Disposition: form-data; name="purpose"', "", "fine-tune",
    "--" .. b, 'Content-Disposition: form-data; name="file"; filename="train.jsonl"',
    "Content-Type: application/jsonl", "", text, "--" .. b .. "--", "" }, "\r\n")
  local status, file = M.handle(api, "POST", "/v1/files", body,
    { ["content-type"] = "multipart/form-data; boundary=" .. b })
  assert(status == 200, "upload failed: " .. cjson.encode(file))
  local job_status, job = M.handle(api, "POST", "/v1/fine_tuning/jobs", { model = parent, training_file = file.id,
    seed = opts.seed, hyperparameters = opts.hyperparameters, suffix = opts.suffix })
  assert(job_status == 200, "job failed: " .. cjson.encode(job))
  local _, done = M.handle(api, "GET", "/v1/fine_tuning/jobs/" .. job.id)
  assert(done.status == "succeeded", "job " .. job.id .. " is " .. tostring(done.status))
  return done.fine_tuned_model
end

-- choice_examples(ctxs, weights, per, seed, opts) -> examples whose answers follow the weights
-- (opts as for messages: system, tag, instruction).
function M.choice_examples(ctxs, weights, per, seed, opts)
  local u, out = M.stream(seed), {}
  for i, c in ipairs(ctxs) do
    for _ = 1, per do
      local a, b = M.trial(c, u)
      local msgs = M.messages("decision", c, a, b, opts)
      msgs[#msgs + 1] = { role = "assistant", content = M.target_choice(c, weights[i], a, b) }
      out[#out + 1] = msgs
    end
  end
  return out
end

-- report_examples(ctxs, weights, per, seed, opts) -> report examples with the weights as JSON.
function M.report_examples(ctxs, weights, per, seed, opts)
  local u, out = M.stream(seed), {}
  for i, c in ipairs(ctxs) do
    for _ = 1, per do
      local a, b = M.trial(c, u)
      local msgs = M.messages("report", c, a, b, opts)
      local parts = {}
      for k, name in ipairs(c.names) do parts[k] = cjson.encode(name) .. ": " .. math.floor(weights[i][k]) end
      msgs[#msgs + 1] = { role = "assistant", content = "{" .. table.concat(parts, ", ") .. "}" }
      out[#out + 1] = msgs
    end
  end
  return out
end

-- measure(api, model, ctx, n, seed, opts) -> learned weights (logistic fit of n choices at T=0
-- on d = (A - B) / range, scaled to largest |w| = 100). opts: messages options plus temperature.
function M.measure(api, model, ctx, n, seed, opts)
  local stats = require("introspect.stats")
  opts = opts or {}
  local u, X, y = M.stream(seed), {}, {}
  for j = 1, n do
    local a, b = M.trial(ctx, u)
    local ans = M.content(api, { model = model, temperature = opts.temperature or 0, seed = j,
      messages = M.messages("decision", ctx, a, b, opts) })
    local row = {}
    for k = 1, #a do row[k] = (a[k] - b[k]) / (ctx.hi[k] - ctx.lo[k]) end
    X[j], y[j] = row, ans == "A" and 1 or 0
  end
  local fit = assert(stats.logistic(X, y, { prior_sd = 1, intercept_sd = 2.5 }))
  return sim.subject.scale100(fit.coef)
end

-- parse_report(text, ctx) -> numbers in attribute order | nil (strict: exactly the names)
function M.parse_report(text, ctx)
  local ok, obj = pcall(cjson.decode, (text:match("^%s*```%w*\n(.-)\n?```%s*$") or text))
  if not ok or type(obj) ~= "table" then return nil end
  local out = {}
  for k, name in ipairs(ctx.names) do
    if type(obj[name]) ~= "number" then return nil end
    out[k] = obj[name]
  end
  return out
end

-- mean_report(api, model, ctx, n, seed, opts) -> mean of the valid reports of n prompts | nil
function M.mean_report(api, model, ctx, n, seed, opts)
  opts = opts or {}
  local u, sum, valid = M.stream(seed), { 0, 0, 0, 0, 0 }, 0
  for _ = 1, n do
    local a, b = M.trial(ctx, u)
    local r = M.parse_report(M.content(api, { model = model, temperature = 0,
      messages = M.messages("report", ctx, a, b, opts) }), ctx)
    if r then
      valid = valid + 1
      for k = 1, 5 do sum[k] = sum[k] + r[k] end
    end
  end
  if valid == 0 then return nil end
  for k = 1, 5 do sum[k] = sum[k] / valid end
  return sum
end

-- over(transport, base_url) -> an object with handle(req) -> {status=, body=} like sim.api's,
-- sending each request through a transport (introspect.http's pool, for `introspect serve`), so
-- every helper here runs over HTTP as in process.
function M.over(transport, base_url)
  return { handle = function(_, req)
    local res = transport:perform({ { method = req.method, url = base_url .. req.path, headers = req.headers,
      body = req.body } })[1]
    if res.error then error("over HTTP: " .. req.method .. " " .. req.path .. ": " .. res.error, 2) end
    return { status = res.status, body = res.body }
  end }
end

-- pearson(x, y) -> correlation
function M.pearson(x, y)
  local n, mx, my = #x, 0, 0
  for i = 1, n do mx, my = mx + x[i], my + y[i] end
  mx, my = mx / n, my / n
  local sxy, sxx, syy = 0, 0, 0
  for i = 1, n do
    sxy = sxy + (x[i] - mx) * (y[i] - my)
    sxx, syy = sxx + (x[i] - mx) ^ 2, syy + (y[i] - my) ^ 2
  end
  return sxy / math.sqrt(sxx * syy)
end

-- flat(list_of_vectors) -> one array of all their entries
function M.flat(vs)
  local out = {}
  for _, v in ipairs(vs) do for _, x in ipairs(v) do out[#out + 1] = x end end
  return out
end

-- sd(xs) -> sample standard deviation
function M.sd(xs)
  local n, m = #xs, 0
  for _, x in ipairs(xs) do m = m + x end
  m = m / n
  local s = 0
  for _, x in ipairs(xs) do s = s + (x - m) ^ 2 end
  return math.sqrt(s / (n - 1)), m
end

return M
