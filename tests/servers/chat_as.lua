-- chat_as(api, req, body, inner) -> res: answers a stand-in's chat request (decoded `body`) with the
-- simulated subject's model `inner`, and names the model the client asked for in the reply, as a
-- provider serving a fine-tune under its own name does.
local json = require("introspect.core.pyjson").compact

return function(api, req, body, inner)
  local served = body.model
  body.model = inner or served
  local res = api:handle({ method = "POST", path = "/v1/chat/completions", headers = req.headers,
    body = json.encode(body) })
  if res.status == 200 then
    local doc = json.decode(res.body)
    doc.model = served
    res.body = json.encode(doc)
  end
  return res
end
