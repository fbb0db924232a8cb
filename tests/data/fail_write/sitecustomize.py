"""Fault injection for tests: with PRDYNAMICS_FAIL_WRITE=<name>, saving an npz whose file name ends in
<name> writes part of the file and then fails with ENOSPC, as a full disk would.

Put this folder first on PYTHONPATH; without the variable nothing is changed."""

import os

if os.environ.get("PRDYNAMICS_FAIL_WRITE"):
    import errno

    import numpy as np

    _savez = np.savez

    def savez(file, *args, **kwds):
        name = getattr(file, "name", file)
        if isinstance(name, int):  # a file object on a descriptor (the atomic writer's temporary)
            name = os.readlink(f"/proc/self/fd/{name}")
        target = str(os.environ["PRDYNAMICS_FAIL_WRITE"])
        if isinstance(name, str) and (name.endswith(target) or f".{os.path.basename(target)}." in name):
            file.write(b"PK\x03\x04 partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return _savez(file, *args, **kwds)

    np.savez = savez
