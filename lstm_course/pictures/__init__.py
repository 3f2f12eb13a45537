"""The course's pictures, drawn by code: one colour per gate everywhere.

``palette`` holds the colours (gate order ``i, f, g, o``); ``diagrams`` draws the cell, the
unrolled graph and every other figure; ``explorer`` is chapter 2's interactive figure that needs no
kernel. Every chapter but chapter 8, which plots its training curves directly.
"""
