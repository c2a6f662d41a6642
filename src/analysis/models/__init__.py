"""Model layer: estimators and indices on plain arguments (flows, nowcast, reconcile,
gravity, censored, partners, fdi_potential, ranking, investor_evidence) and their
applications (scenarios, indicators, validation). Models import neither ``config`` nor
``present``."""
