-- The paying parent says they paid the receiving parent directly.
--
-- Source: DWP procedure 000 (Arrears Negotiation and Missed Payments), step 5
-- of "Determine Reason for Missed Payment"; the steps are in procedures/lib/direct_payment.lua,
-- which arrears_negotiation uses for the same claim made during its call. Started by hand on
-- an Action Missed Payment SR:
--   casekit start direct_payment_claim --casegroup 1 --param sr=7
-- Returns "confirmed", "evidenced" or "negotiate".
local direct_payment = require("direct_payment")
local service_request = require("service_request")

return procedure {
  name = "direct_payment_claim",
  description = "000 step 5: verify a claimed direct payment (evidence within 14 days)",
  run = function(ctx)
    local cg = ctx.casegroup or error("direct_payment_claim needs a casegroup (--casegroup)")
    local s = service_request.the_sr(ctx, cg, "Action Missed Payment", function()
      error("params.sr (the Action Missed Payment SR of the claim) is required")
    end)
    return direct_payment.verify(s)
  end,
}
