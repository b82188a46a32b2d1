"""Change sets (DESIGN.md §7): snapshots in a shadow repository, worktree isolation,
three-way apply and discard, and line provenance — all with the git CLI as the engine."""
