"""The plan layer: a model and a run compiled into plain arrays for the engines
(:mod:`collision.plans.general`: the step program of a general collision model)."""
