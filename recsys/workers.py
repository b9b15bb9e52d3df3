"""Worker processes that share one loaded model: forked after it is loaded, its pages shared copy-on-write.

``recsys serve --workers N`` loads the model once, readies what every request needs (the query readers,
the language detector), freezes the garbage collector's view of those objects (``gc.freeze``: a collection
then never writes to their pages) and forks N workers that accept on one listening socket. A page stays
shared until a worker writes to it, so N workers cost far less than N models. Each worker computes on one
thread: a thread pool started before a fork does not survive it, and N workers already use N cores. A
worker that dies is replaced; a model replaced on disk is loaded by each worker for itself
(``recsys.serving``), so after a change the workers hold their own copies of the new model until the
server is restarted.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import socket
import traceback
from collections.abc import Callable


def serve_forked(app, host: str, port: int, workers: int, ready: Callable[[], None]) -> None:
    """Serve ``app`` (ASGI) from ``workers`` forked processes until SIGINT or SIGTERM.

    ``ready`` runs once before the fork: whatever it loads is shared by every worker.
    """
    listener = _listening_socket(host, port)
    ready()
    gc.freeze()
    children = {_fork_worker(app, listener) for _ in range(workers)}
    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            _signal(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while children:
        try:
            pid, _ = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        children.discard(pid)
        if not stopping:  # a worker died: another takes its place
            children.add(_fork_worker(app, listener))


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener


def _fork_worker(app, listener: socket.socket) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _one_thread()
        import uvicorn

        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[listener])
    except BaseException:  # noqa: BLE001 - a worker must never return into the parent's loop
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def _one_thread() -> None:
    """Compute on one thread in a forked worker (torch's and FAISS's pools do not survive a fork)."""
    import faiss
    import torch

    torch.set_num_threads(1)
    faiss.omp_set_num_threads(1)


def _signal(pid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it has ended already
        os.kill(pid, number)
