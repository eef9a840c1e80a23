"""Publication figures of the report (matplotlib object API, Agg, no pyplot state)."""
