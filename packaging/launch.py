"""The bundle's entry point: the same `hearth` command, double-clicked or run from a terminal.

Two hidden arguments, kept as small as this: ``hearth --calculator-worker ...`` runs the
calculator's sandboxed worker loop instead (assistant/tools/calculator_worker.py), and ``hearth
--parse-worker ...`` the document reader's (assistant/knowledge/parse_worker.py). A frozen app has
no ``python -m``, so each starts its worker by running this executable again with its flag (see
calculator_sandbox.worker_command and parse_pool.worker_command). They are checked before the CLI
is imported, so a worker starts without the rest of Hearth.
"""

import sys

from assistant.knowledge.parse_worker import WORKER_FLAG as PARSE_WORKER_FLAG
from assistant.tools.calculator_worker import WORKER_FLAG

if __name__ == "__main__":
    if sys.argv[1:2] == [WORKER_FLAG]:
        from assistant.tools.calculator_worker import main as calculator_worker

        raise SystemExit(calculator_worker(sys.argv[2:]))
    if sys.argv[1:2] == [PARSE_WORKER_FLAG]:
        from assistant.knowledge.parse_worker import main as parse_worker

        raise SystemExit(parse_worker(sys.argv[2:]))
    from assistant.cli import main

    raise SystemExit(main())
