-- Fuzz target: what the simulated API does with uploaded content (behind `introspect serve`):
-- the multipart parser, then the bytes uploaded (POST /v1/files) as a fine-tuning training
-- file and as a batch input file, a job trained on the one and a batch run on the other.
-- Contract: parse_multipart returns parts (each value a piece of the body) or nil, err; no
-- upload, job or batch request gives a 500 (an internal error): a bad file is a 400 naming its
-- line, or a failed job or batch.
local sim = require("introspect.sim")
local files = require("introspect.sim.files")
local cjson = require("cjson")
local S = require("fuzz_support")

local api, used = nil, 0

local function call(method, path, body)
  local res = api:handle({ method = method, path = path, headers = { ["content-type"] = "application/json" },
    body = body and cjson.encode(body) or "" })
  if res.status == 500 then S.finding("internal error on %s %s", method, path) end
  return res.status, (res.body ~= "" and cjson.decode(res.body) or nil)
end

-- upload(content, purpose) -> file id | nil: POST /v1/files as a client would (the API checks the
-- JSONL and refuses an empty file with a 400)
local BOUNDARY = "fuzz-boundary-7f3a0c"
local function upload(content, purpose)
  local body = "--" .. BOUNDARY .. "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n" .. purpose
    .. "\r\n--" .. BOUNDARY .. "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.jsonl\"\r\n\r\n"
    .. content .. "\r\n--" .. BOUNDARY .. "--\r\n"
  local res = api:handle({ method = "POST", path = "/v1/files",
    headers = { ["content-type"] = "multipart/form-data; boundary=" .. BOUNDARY }, body = body })
  if res.status == 500 then S.finding("internal error on an upload") end
  return res.status == 200 and cjson.decode(res.body).id or nil
end

return function(data)
  local parts, err = files.parse_multipart(data, "multipart/form-data; boundary=XX")
  if parts == nil then
    if type(err) ~= "string" then S.finding("parse_multipart: nil without a message") end
  else
    for name, p in pairs(parts) do
      if not data:find(p.value, 1, true) then S.finding("part %s is not a piece of the body", name) end
    end
  end
  if api == nil or used >= 200 then
    api, used = sim.api({ job_duration = 0, batch_duration = 0, profiles = { "sim-small" } }), 0
  end
  used = used + 1
  local train = upload(data, "fine-tune")
  local status, job = call("POST", "/v1/fine_tuning/jobs", { model = "sim-small", training_file = train })
  if train and status == 200 then
    local st, got = call("GET", "/v1/fine_tuning/jobs/" .. job.id)
    if st ~= 200 or (got.status ~= "succeeded" and got.status ~= "failed") then
      S.finding("job %s: %s %s", job.id, tostring(st), tostring(got and got.status))
    end
    if got.status == "succeeded" then
      call("POST", "/v1/chat/completions", { model = got.fine_tuned_model,
        messages = { { role = "user", content = "[DECISION TASK] A or B?\n\nQ?\nA:\nx: 1 u\n\nB:\nx: 2 u" } } })
    end
  end
  local input = upload(data, "batch")
  local bst, batch = call("POST", "/v1/batches", { input_file_id = input, endpoint = "/v1/chat/completions",
    completion_window = "24h" })
  if input and bst == 200 then
    call("GET", "/v1/batches/" .. batch.id)
    call("GET", "/v1/batches/" .. batch.id)
  end
end
