-- The route script of routes.yaml: client-a's messages to the UK go to the upstream budget;
-- everyone else's go on to the next route.
function route(msg, ctx)
  if ctx.client_id == "client-a" then
    return "budget"
  end
  return nil
end
