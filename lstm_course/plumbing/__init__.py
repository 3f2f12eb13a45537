"""The course's own plumbing: notebook set-up, the runtime, argument checks, safe writes, the book, the lab.

``notebook`` (every chapter's set-up cell, ``show_source``, ``glue``), ``runtime`` (threads, seeds,
the machine's description), ``validation`` (the public functions' argument checks), ``atomic``
(writing a file so an interrupt never leaves it half-written), ``book`` (building the Jupyter Book)
and ``lab`` (JupyterLab on the chapters). Every chapter's first cells; the tests, tools and the
instructor's package.
"""
