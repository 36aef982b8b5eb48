"""The engines: drivers that take a plan and return a result, never the model
(:mod:`collision.engines.general`: density and trajectories for any collision model)."""
