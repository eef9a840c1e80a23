"""Cross-checks against R metafor (live session and pinned reference JSON)."""
