"""Credit rules that are linear in the path counts, as sparse (target x path) matrices.

Shapley (simplified) and the heuristics all split each path's conversions over its touches with fixed
fractions, so credit = ``A @ conversions`` and value credit = ``A @ values``. The bootstrap reuses ``A``
with many reweighted count vectors in one sparse-dense product.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .paths import ParsedPaths

__all__ = ["credit_matrix", "linear_credit_frame"]


def credit_matrix(target: np.ndarray, path: np.ndarray, share: np.ndarray, n_targets: int, n_paths: int):
    """Sparse (n_targets, n_paths) matrix; duplicates (target, path) are summed."""
    return sp.coo_matrix((share, (target, path)), shape=(n_targets, n_paths)).tocsr()


def linear_credit_frame(parsed: ParsedPaths, matrices: dict[str, sp.csr_matrix]) -> pd.DataFrame:
    """Per-channel frame with ``<name>`` (conversions) and ``<name>_value`` columns for each matrix."""
    out = {"channel": parsed.channels}
    for name, a in matrices.items():
        out[name] = a @ parsed.conversions
        out[f"{name}_value"] = a @ parsed.values
    return pd.DataFrame(out)
