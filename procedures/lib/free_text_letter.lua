-- CMEL9271, the generic free-text letter. Source 001 (its letters) says it "should be signed
-- off by senior manager before sending out", and it may be used in any process: so every
-- procedure sends it through `send`, which puts the text to a senior manager who neither
-- wrote nor amended it. Not signed off, it goes back to a caseworker with the reasons, to
-- amend (and be signed off again) or withdraw. The engine holds the rule too: letter.send
-- refuses CMEL9271 without the sign-off of this text, to this recipient, by a senior manager.
local M = {}

local TEMPLATE = "CMEL9271"

local function names_of(clients)
  local names = {}
  for _, c in ipairs(clients) do names[#names + 1] = c.name end
  return table.concat(names, " and ")
end

-- Sends CMEL9271 with `text` to each client in `to`, about SR `s` of casegroup `cg`, once a
-- senior manager has signed it off; `author` is the user who wrote the text. Returns the
-- letters sent, or nil when the letter was withdrawn instead.
function M.send(s, cg, to, text, author)
  local prepared_by = { author }
  local ids = {}
  for _, client in ipairs(to) do ids[#ids + 1] = client.id end
  while true do
    local sign = task.await {
      inbox = "senior_manager", kind = "letter_sign_off", sr = s, due_in_days = 2,
      title = "Sign off " .. TEMPLATE .. " to " .. names_of(to) .. ": \"" .. text .. "\"",
      details = { template = TEMPLATE, free_text = text, to = ids },
      outcomes = { "signed off", "rejected" }, fields = { "reasons" },
      required = { rejected = { "reasons" } }, not_by = prepared_by,
    }
    if sign.outcome == "signed off" then
      s:add_note(TEMPLATE .. " to " .. names_of(to) .. " signed off by " .. sign.by)
      local sent = {}
      for _, client in ipairs(to) do
        sent[#sent + 1] = letter.send { template = TEMPLATE, to = client, casegroup = cg, sr = s,
                                        fields = { free_text = text }, signed_off = sign.work_item }
      end
      return sent
    end
    s:add_note(TEMPLATE .. " not signed off by " .. sign.by .. ": " .. sign.fields.reasons)
    local again = task.await {
      inbox = "caseworker", kind = "letter_amend", sr = s, due_in_days = 2,
      title = TEMPLATE .. " to " .. names_of(to) .. " was not signed off (" .. sign.fields.reasons
        .. "): amend the text, or withdraw the letter",
      outcomes = { "amended", "withdrawn" }, fields = { "letter_text" },
      required = { amended = { "letter_text" } },
    }
    if again.outcome == "withdrawn" then
      s:add_note(TEMPLATE .. " to " .. names_of(to) .. " withdrawn by " .. again.by)
      return nil
    end
    text = again.fields.letter_text
    prepared_by[#prepared_by + 1] = again.by
  end
end

return M
