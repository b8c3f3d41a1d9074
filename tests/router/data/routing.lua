-- A route script for routes.yaml (Lua routing is not built yet: the route never matches).
return nil
