"""Events: what happened in the world, as opposed to each outlet's report of it."""
