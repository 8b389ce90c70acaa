"""Where grid sets come from: the cached synthetic demo, or a site's imported file.

Generated data never goes into git: the demo is built on first use into the cache folder,
under a name that carries the generator version and seed, so a new generator or seed builds
anew and the same ones reuse the file. A file lock keeps two processes from building at once.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from geo.demo import DEMO_VERSION, DemoSpec, build_demo
from geo.grids import GridSet
from geo.io import load_canonical, write_grid_file


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "grid-dispatch"


def demo_path(cache_dir: Path, spec: DemoSpec) -> Path:
    return Path(cache_dir) / f"demo-grids-v{DEMO_VERSION}-seed{spec.seed}.gpkg"


def ensure_demo(cache_dir: Path, spec: DemoSpec | None = None) -> Path:
    """The demo grid file, built deterministically if it is not cached yet."""
    spec = spec or DemoSpec()
    path = demo_path(cache_dir, spec)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path.with_suffix(".lock")):
        if not path.exists():
            write_grid_file(build_demo(spec), path)
    return path


def load_grid_set(path: Path, *, synthetic: bool) -> GridSet:
    return GridSet.from_frame(load_canonical(path), synthetic=synthetic, source=str(path))


def demo_grid_set(cache_dir: Path, spec: DemoSpec | None = None) -> GridSet:
    return load_grid_set(ensure_demo(cache_dir, spec), synthetic=True)


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """One process at a time builds a cached file (others wait, then read it)."""
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
