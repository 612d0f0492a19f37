-- The trained state of the simulated subject inside a stand-in "LoRA adapter" directory: the
-- stand-in fine-tuning command (tests/fixtures/standin-finetune.lua) writes it, the vLLM
-- stand-in (tests/servers/vllm_standin.lua) loads it, so chat under an adapter answers as the
-- subject trained by that command would. A directory holds adapter_config.json (as PEFT writes
-- one: base_model_name_or_path, r, lora_alpha, ...) and introspect_subject.json: the chain of
-- fine-tunes from the base profile, each {id=, skill=, contexts=} (sim.finetune.serialize).
local cjson = require("cjson")
local subject = require("introspect.sim.subject")
local finetune = require("introspect.sim.finetune")
local util = require("introspect.core.util")

local M = {}

-- read(dir) -> state {base=, chain={...}} | nil, err
function M.read(dir)
  local text = util.read_file(dir .. "/introspect_subject.json")
  if not text or not util.file_exists(dir .. "/adapter_config.json") then
    return nil, "No adapter found for " .. dir
  end
  local ok, st = pcall(cjson.decode, text)
  if not ok or type(st) ~= "table" or type(st.base) ~= "string" or type(st.chain) ~= "table" then
    return nil, "Invalid adapter state in " .. dir
  end
  return st
end

-- model(state, base_model) -> the subject trained along state's chain on top of base_model
function M.model(st, base_model)
  local m = base_model
  for _, link in ipairs(st.chain) do
    m = subject.derived(m, link.id, link.skill, link.contexts or {})
  end
  return m
end

-- write(dir, state_of_parent | nil, base, trained_model, config) writes an adapter directory whose
-- chain is the parent's chain plus trained_model.
function M.write(dir, parent_state, base, model, config)
  util.mkdir_p(dir)
  local chain = {}
  for _, link in ipairs(parent_state and parent_state.chain or {}) do chain[#chain + 1] = link end
  local s = finetune.serialize(model)
  chain[#chain + 1] = { id = s.id, skill = s.skill, contexts = s.contexts }
  assert(util.write_file_atomic(dir .. "/introspect_subject.json", cjson.encode({ base = base, chain = chain })))
  assert(util.write_file_atomic(dir .. "/adapter_config.json", cjson.encode(config)))
end

return M
