"""Studies: one module per report, turning params and data into one result object.

Each study (``audit``, ``flows``, ``gravity``, ``ranking``, ``brief``) takes plain settings and
the shared data (ledger, partner panel) and returns a result with its settings, a
fingerprint, ``to_frame()``, ``summary()`` and the tables its report shows. Notebooks hold
narrative and calls into these modules, never model fits or data wrangling.
"""
