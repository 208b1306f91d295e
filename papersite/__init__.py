"""The Paper Notes site builder: the mkdocs plugin, notes and their front matter, executed
twins read back, generated pages, integrity checks and the scaffold for a new paper.

It imports mkdocs, the notebook file formats and its own modules, never torch or numpy, so
the site builds in an environment without the companion runtime (``papernotes``).
"""
