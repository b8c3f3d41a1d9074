-- The script of explain.yaml: messages whose text says "vip" go to the upstream vip.
function route(msg, ctx)
  if msg.text == "vip" then
    return "vip"
  end
  return nil
end
