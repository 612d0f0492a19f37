-- `introspect probe`: which OpenAI API features a (compatible) server supports for a model:
-- chat (logprobs, seed, determinism), and the server's fine-tuning API (OpenAI's or Together's),
-- Batch API and runtime LoRA loading (vLLM). Each is asked with a request that changes nothing.
local M = { summary = "probe a server for logprobs, seed, fine-tuning, batch and LoRA-adapter support" }

-- Asks the server about its APIs; returns rows {name, answer}.
local function server_apis(client)
  local rows = {}
  local _, err = client:request("GET", "/fine_tuning/jobs?limit=1")
  local ft = not err and "yes (OpenAI's /fine_tuning/jobs)"
  if not ft then
    local _, terr = client:request("GET", "/fine-tunes")
    ft = not terr and "yes (Together's /fine-tunes)" or "no"
  end
  rows[#rows + 1] = { "fine-tuning API", ft }
  local _, berr = client:request("GET", "/batches?limit=1")
  rows[#rows + 1] = { "batch API", berr and "no" or "yes" }
  -- vLLM answers an empty load request with 400 "Both 'lora_name' and 'lora_path' must be
  -- provided." when runtime LoRA updating is on, and 404 when it is off; nothing is loaded.
  local _, lerr = client:request("POST", "/load_lora_adapter", {}, { raw = true })
  local lora = lerr and lerr.status == 400 and tostring(lerr.message):find("lora_name", 1, true)
  rows[#rows + 1] = { "runtime LoRA loading", lora and "yes (/v1/load_lora_adapter)"
    or "no (vLLM: --enable-lora and VLLM_ALLOW_RUNTIME_LORA_UPDATING=True)" }
  return rows
end

function M.main(args)
  local options = require "introspect.core.options"
  local opts = options.parse(args, {
    { "backend", "string", "openai", "backend profile name or base URL(s), comma-separated" },
    { "model", "string", nil, "model to probe (default: the first one the server lists)" },
  }, { usage = "introspect probe [--backend=URL|PROFILE] [--model=NAME]", program = "introspect probe" })
  local openai = require "introspect.client.openai"
  local ok, client = pcall(openai.new, { profile = opts.backend })
  if not ok then
    io.stderr:write("introspect probe: " .. tostring(client) .. "\n")
    return 1
  end
  local model = opts.model
  if not model then
    local models, err = client:models()
    if not models or not models[1] then
      io.stderr:write("introspect probe: cannot list models: " .. tostring(err or "none listed") .. "\n")
      return 1
    end
    model = models[1].id
  end
  local caps, err = client:probe(model)
  if not caps then
    io.stderr:write("introspect probe: " .. tostring(err) .. "\n")
    return 1
  end
  io.stdout:write(string.format("%s model %s\n", client.base_url, model))
  io.stdout:write(string.format("  %-20s %s\n", "chat", "yes"))
  for _, k in ipairs({ "logprobs", "top_logprobs", "seed", "system_fingerprint", "deterministic" }) do
    io.stdout:write(string.format("  %-20s %s\n", k, caps[k] and "yes" or "no"))
  end
  local chat = client:chat_capabilities(model)
  if chat then
    io.stdout:write(string.format("  %-20s %s\n", "temperature 0", chat.temperature0 and "yes" or "no"))
    for _, note in ipairs(chat.notes) do io.stdout:write("  adapt: ", note, "\n") end
  end
  for _, row in ipairs(server_apis(client)) do
    io.stdout:write(string.format("  %-20s %s\n", row[1], row[2]))
  end
  return 0
end

return M
