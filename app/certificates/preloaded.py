"""Imported last by the render pool's fork server (pool.PRELOAD), after WeasyPrint: freezes what is loaded.

Frozen objects are left out of the garbage collector's passes: in the render processes forked from the server
(which never free the modules they inherit, so their pages stay shared with the server instead of being copied
when a collection touches them), and at the server's exit, which the pool's owner waits for and which would
otherwise collect every object of WeasyPrint's modules (~0.1 s at the end of a batch).
"""

import gc

gc.freeze()
