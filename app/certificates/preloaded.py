"""What the render pool's fork server imports before it forks a render process (pool.PRELOAD): WeasyPrint and the
renderer, with the garbage collector off, then frozen.

Off while importing: the imports make some hundred thousand objects that live as long as the process, and the
collections they would trigger only walk them again (~0.05 s of the fork server's start-up, which every render
process waits for). Frozen afterwards: frozen objects are left out of the collector's passes, in the render
processes forked from the server (which never free the modules they inherit, so their pages stay shared with the
server instead of being copied when a collection touches them), and at the server's exit, which the pool's owner
waits for and which would otherwise collect every object of WeasyPrint's modules (~0.1 s at the end of a batch).
"""

import gc
import importlib

gc.disable()
try:
    for module in ("weasyprint", "app.certificates.render"):
        importlib.import_module(module)
finally:
    gc.freeze()
    gc.enable()
