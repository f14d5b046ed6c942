-- The paying parent says they paid the receiving parent directly.
--
-- Source: ../shared/source-procedures/000 (arrears negotiation and missed payments), step 5
-- of "Determine Reason for Missed Payment"; the steps are in procedures/lib/direct_payment.lua,
-- which arrears_negotiation uses for the same claim made during its call. Started by hand on
-- an Action Missed Payment SR:
--   casekit start direct_payment_claim --casegroup 1 --param sr=7
-- Returns "confirmed", "evidenced" or "negotiate".
local direct_payment = require("direct_payment")

return procedure {
  name = "direct_payment_claim",
  description = "000 step 5: verify a claimed direct payment (evidence within 14 days)",
  run = function(ctx)
    return direct_payment.verify(sr.get(tonumber(ctx.params.sr)))
  end,
}
