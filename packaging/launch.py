"""The bundle's entry point: the same `hearth` command, double-clicked or run from a terminal.

One hidden argument, kept as small as this: ``hearth --calculator-worker ...`` runs the calculator's
sandboxed worker loop instead (assistant/tools/calculator_worker.py). A frozen app has no
``python -m``, so the calculator starts its worker by running this executable again with that
flag (see calculator_sandbox.worker_command). It is checked before the CLI is imported, so the
worker starts without the rest of Hearth.
"""

import sys

from assistant.tools.calculator_worker import WORKER_FLAG

if __name__ == "__main__":
    if sys.argv[1:2] == [WORKER_FLAG]:
        from assistant.tools.calculator_worker import main as calculator_worker

        raise SystemExit(calculator_worker(sys.argv[2:]))
    from assistant.cli import main

    raise SystemExit(main())
