-- `introspect probe`: which OpenAI API features a (compatible) server supports for a model.
local M = { summary = "probe a server for logprobs, seed and determinism support" }

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
  for _, k in ipairs({ "logprobs", "top_logprobs", "seed", "system_fingerprint", "deterministic" }) do
    io.stdout:write(string.format("  %-20s %s\n", k, caps[k] and "yes" or "no"))
  end
  return 0
end

return M
