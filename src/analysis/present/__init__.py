"""Presentation layer: figures (``plots``), labels and number formats for readers
(``formatting``) and CSV tables (``tables``). Takes results, never estimators; models
never import it."""
