"""Thread counts for PyTorch's side of the bench: torch.set_num_threads alone does not hold PyTorch to them.

Debian's python3-torch does its matrix products in OpenBLAS's pthread build, whose own thread pool starts one
thread per core whatever torch.set_num_threads says: measured on a 2-core machine with set_num_threads(1), an
LSTM forward pass (the bench's W3) ran at 1.99 CPU seconds per second and took 10.9 ms where one core takes
14.0 ms. And at two threads, OpenMP's workers and OpenBLAS's spin-wait against each other (W3 41 ms, W1 132
ms; 14.7 and 38.6 with passive waiting). So `pin_threads` sets the pools' sizes from the environment, which
the libraries read when they are loaded: call it before the first `import torch`.
"""
import ctypes
import os
import sys


def pin_threads(threads):
    """Holds OpenBLAS, OpenMP and MKL to `threads` threads, OpenMP's idle workers sleeping (before importing torch)."""
    if "torch" in sys.modules:
        raise RuntimeError("pin_threads: call it before importing torch (the thread pools read the environment at load)")
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"


def blas_threads():
    """The threads OpenBLAS's pool has in this process (None where torch uses no OpenBLAS)."""
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "libopenblas" in line})
    if not paths:
        return None
    return ctypes.CDLL(paths[0]).openblas_get_num_threads()
