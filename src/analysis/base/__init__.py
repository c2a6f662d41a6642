"""Base layer: shared vocabulary and plumbing (errors, paths, atomic files, safe YAML,
the results cache, versions and provenance, summaries, the message catalogue). Imports
nothing above it."""
