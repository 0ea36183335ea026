"""Bayesian media-mix model (PyMC).

Not implemented yet: the model, its components and diagnostics arrive with issue 5. Nothing here
pretends otherwise; importing this package only gives this note.
"""
