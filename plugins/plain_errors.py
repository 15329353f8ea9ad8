"""An error answer costs microseconds, not seconds.

Datasette 0.65's default `handle_exception` prints every exception, a 404 or a bad SQL query too,
with rich's `print_exception(show_locals=True)` whenever rich is importable (typer, a dependency of
our tools, installs it). Rendering the locals of every frame took 1-6 s of CPU per error in the
event loop, stalling every other request of that worker: a cheap way to exhaust the server with
404s or timed-out queries. Without rich, Datasette answers the same and still prints a plain
traceback for a real 500 (`traceback.print_exc()`), which is what an operator needs in the log.
"""
import datasette.handle_exception

datasette.handle_exception.rich = None
