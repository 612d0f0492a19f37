-- Structured API errors: {status=, type=, code=, message=, request_id=, retry_after=} with a
-- __tostring. Messages are scrubbed of secrets (API keys) before they are stored.
local M = {}

local Error = {}
Error.__index = Error
Error.__name = "introspect.client.apierror"

-- Patterns of API-key-like strings removed from every message (when at least 12 long).
local KEY_PATTERNS = { "%f[%w]sk%-[%w%-_%*%.]+", "Bearer%s+[%w%-_%.%*]+" }

local function redact_long(token)
  if #token >= 12 then return "[REDACTED]" end
  return token
end

-- scrub(text, secrets) -> text with every secret and every key-like token replaced.
function M.scrub(text, secrets)
  if type(text) ~= "string" then return text end
  for _, s in ipairs(secrets or {}) do
    -- a plain search first: most texts hold no secret, and gsub is the expensive part
    if type(s) == "string" and #s >= 4 and text:find(s, 1, true) then
      local plain = s:gsub("%p", "%%%0")
      text = text:gsub(plain, "[REDACTED]")
    end
  end
  if text:find("sk-", 1, true) or text:find("Bearer", 1, true) then
    for _, pat in ipairs(KEY_PATTERNS) do text = text:gsub(pat, redact_long) end
  end
  return text
end

local FIELDS = { status = true, type = true, code = true, message = true, request_id = true,
  retry_after = true, param = true, url = true, body = true }

-- new(fields, secrets) -> error object. Unknown fields raise; message is scrubbed.
function M.new(fields, secrets)
  local e = {}
  for k, v in pairs(fields) do
    if not FIELDS[k] then error("apierror.new: unknown field '" .. tostring(k) .. "'", 2) end
    e[k] = v
  end
  e.message = M.scrub(e.message or "unknown error", secrets)
  e.body = e.body and M.scrub(e.body, secrets)
  return setmetatable(e, Error)
end

function Error.__tostring(e)
  local parts = {}
  if e.status then parts[#parts + 1] = "HTTP " .. tostring(e.status) end
  if e.type then parts[#parts + 1] = tostring(e.type) end
  if e.code and e.code ~= e.type then parts[#parts + 1] = "(" .. tostring(e.code) .. ")" end
  local head = #parts > 0 and table.concat(parts, " ") .. ": " or ""
  local tail = ""
  if e.url then tail = tail .. " [" .. e.url .. "]" end
  if e.request_id then tail = tail .. " [request " .. tostring(e.request_id) .. "]" end
  if e.retry_after then tail = tail .. string.format(" [retry after %gs]", e.retry_after) end
  return head .. tostring(e.message) .. tail
end

-- is(x) -> true when x is a structured API error.
function M.is(x)
  return getmetatable(x) == Error
end

return M
