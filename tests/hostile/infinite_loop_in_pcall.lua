-- expect: instruction budget
-- pcall catches the first kill; the hook re-arms so the next instruction fails again.
while true do
  pcall(function() while true do end end)
end
