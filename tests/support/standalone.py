"""The standalone bundle verifier (tools/verify_audit_bundle.py), loaded as a
module, with adapters that give its proof checks the appliance's signatures."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

PATH = Path(__file__).resolve().parents[2] / "tools" / "verify_audit_bundle.py"


def load() -> ModuleType:
    name = "verify_audit_bundle"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    verifier = load()
    try:
        reader = verifier.ProofReader(list(proof))
        computed = verifier.root_from_path(leaf, index, size, reader)
        reader.finish()
    except verifier.Rejected:
        return False
    return bool(computed == root)


def consistency(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
) -> bool:
    verifier = load()
    old = {"size": old_size, "root": old_root}
    new = {"size": new_size, "root": new_root}
    try:
        verifier.check_consistency(old, new, list(proof))
    except verifier.Rejected:
        return False
    return True
