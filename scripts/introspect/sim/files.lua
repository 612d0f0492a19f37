-- /v1/files of the simulated API: multipart upload, list, retrieve, content, delete.
local json = require("introspect.core.pyjson").compact
local lines = require("introspect.core.util").lines

local M = {}

M.PURPOSES = { ["fine-tune"] = true, batch = true, assistants = true, vision = true,
               user_data = true, evals = true }

-- parse_multipart(body, content_type) -> {name = {value=, filename=, content_type=}} | nil, err
function M.parse_multipart(body, content_type)
  local boundary = content_type and (content_type:match('boundary="([^"]+)"')
    or content_type:match("boundary=([^;%s]+)"))
  if not boundary then return nil, "expected a multipart/form-data body with a boundary" end
  local delim = "--" .. boundary
  local parts = {}
  local pos = body:find(delim, 1, true)
  if not pos then return nil, "multipart body has no boundary line" end
  pos = pos + #delim
  while true do
    if body:sub(pos, pos + 1) == "--" then break end
    if body:sub(pos, pos + 1) ~= "\r\n" then return nil, "malformed multipart boundary line" end
    local head_end = body:find("\r\n\r\n", pos + 2, true)
    if not head_end then return nil, "multipart part without a blank line after its headers" end
    local head = body:sub(pos + 2, head_end - 1)
    local next_delim = body:find("\r\n" .. delim, head_end + 4, true)
    if not next_delim then return nil, "multipart part without a closing boundary" end
    local value = body:sub(head_end + 4, next_delim - 1)
    local name, filename, ctype
    for line in (head .. "\r\n"):gmatch("(.-)\r\n") do
      local lname, lvalue = line:match("^([^:]+):%s*(.*)$")
      if lname and lname:lower() == "content-disposition" then
        name = lvalue:match('[; ]name="([^"]*)"') or lvalue:match("[; ]name=([^;%s]+)")
        filename = lvalue:match('filename="([^"]*)"') or lvalue:match("filename=([^;%s]+)")
      elseif lname and lname:lower() == "content-type" then
        ctype = lvalue
      end
    end
    if not name then return nil, "multipart part without a name" end
    parts[name] = { value = value, filename = filename, content_type = ctype }
    pos = next_delim + 2 + #delim
  end
  return parts
end

-- object(file) -> the public file object.
local function object(f)
  return { id = f.id, object = "file", bytes = #f.content, created_at = f.created_at,
           filename = f.filename, purpose = f.purpose, status = "processed",
           status_details = json.null, expires_at = json.null }
end
M.object = object

-- validate_jsonl(content, purpose) -> objects | nil, message naming the line; objects: each
-- non-blank line's decoded value by line number (util.lines), kept for the fine-tune that reads
-- the file (finetune.parse_examples) so it does not decode every line again
local function validate_jsonl(content, purpose)
  local lineno, count, objects = 0, 0, {}
  for line in lines(content) do
    lineno = lineno + 1
    if line:match("%S") then
      local v = json.decode(line)
      if type(v) ~= "table" then
        return nil, string.format("Invalid file format for %s: line %d is not a JSON object.",
          purpose == "batch" and "Batch API" or "Fine-Tuning API", lineno)
      end
      count = count + 1
      objects[lineno] = v
    end
  end
  if count == 0 then return nil, "The file is empty." end
  return objects
end

-- add(api, content, filename, purpose) -> file record (also used for batch output files).
function M.add(api, content, filename, purpose)
  local f = { id = api:new_id("file-", 24, filename), content = content, filename = filename,
              purpose = purpose, created_at = math.floor(api:now()) }
  api.files[f.id] = f
  api.file_list[#api.file_list + 1] = f.id
  api:save("file", f)
  return f
end

-- POST /v1/files (multipart: purpose, file)
function M.create(api, req)
  local ctype = req.headers and req.headers["content-type"]
  local parts, err = M.parse_multipart(req.body or "", ctype)
  if not parts then return api:error(400, "Invalid file upload: " .. err, nil, "file") end
  local purpose = parts.purpose and parts.purpose.value
  if not purpose then return api:error(400, "Missing required parameter: 'purpose'.", nil, "purpose") end
  if not M.PURPOSES[purpose] then
    return api:error(400, "Invalid value for 'purpose': '" .. purpose .. "'.", nil, "purpose")
  end
  local file = parts.file
  if not file then return api:error(400, "Missing required parameter: 'file'.", nil, "file") end
  local objects, verr
  if purpose == "fine-tune" or purpose == "batch" then
    objects, verr = validate_jsonl(file.value, purpose)
    if not objects then return api:error(400, verr, nil, "file", "invalid_file_format") end
  end
  local f = M.add(api, file.value, file.filename or "upload", purpose)
  if purpose == "fine-tune" then f.objects = objects end   -- in memory only (never journaled)
  return 200, json.encode(object(f))
end

-- GET /v1/files?purpose=&limit=&after=&order=
function M.list(api, _, _, query)
  local data = json.array()
  local ids = {}
  for _, id in ipairs(api.file_list) do
    local f = api.files[id]
    if f and (not query.purpose or query.purpose == f.purpose) then ids[#ids + 1] = id end
  end
  if query.order ~= "asc" then
    local rev = {}
    for i = #ids, 1, -1 do rev[#rev + 1] = ids[i] end
    ids = rev
  end
  local start = 1
  if query.after then
    for i, id in ipairs(ids) do if id == query.after then start = i + 1 end end
  end
  local limit = math.tointeger(tonumber(query.limit or "10000")) or 10000
  for i = start, math.min(#ids, start + limit - 1) do data[#data + 1] = object(api.files[ids[i]]) end
  return 200, json.encode({ object = "list", data = data, has_more = start + limit - 1 < #ids,
    first_id = data[1] and data[1].id or json.null, last_id = data[#data] and data[#data].id or json.null })
end

local function missing(api, id)
  return api:error(404, "No such File object: " .. id, nil, "id", "file_not_found")
end

-- GET /v1/files/{id}
function M.retrieve(api, _, id)
  local f = api.files[id]
  if not f then return missing(api, id) end
  return 200, json.encode(object(f))
end

-- GET /v1/files/{id}/content
function M.content(api, _, id)
  local f = api.files[id]
  if not f then return missing(api, id) end
  return 200, f.content, { ["content-type"] = "application/octet-stream" }
end

-- DELETE /v1/files/{id}
function M.delete(api, _, id)
  local f = api.files[id]
  if not f then return missing(api, id) end
  api.files[id] = nil
  api:save("deleted_file", f)
  return 200, json.encode({ id = id, object = "file", deleted = true })
end

return M
