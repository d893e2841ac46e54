"""Renderers: each reads a ``Report`` and returns text (terminal tables, CSV).

Nothing here analyses; a renderer prints what the report holds. Plots are in ``plot``.
"""
