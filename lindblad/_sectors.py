"""The building blocks of the exact references: superoperator terms ``coef * A rho B``
and the blocks (sectors) of a Liouvillian that conserves the ket-bra excitation
difference, each propagated exactly (:mod:`lindblad._propagate`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._propagate import propagate


@dataclass(frozen=True)
class _Term:
    """One superoperator term ``coef * A rho B``."""

    coef: complex
    left: sp.csr_matrix
    right: sp.csr_matrix


@dataclass
class _Sector:
    """A block of the Liouvillian: entries ``rho[ket[p], bra[p]]``, p < size."""

    m: int
    ket: np.ndarray
    bra: np.ndarray
    matrix: sp.csr_matrix

    @property
    def size(self) -> int:
        return self.ket.size

    @classmethod
    def build(cls, n_exc: np.ndarray, m: int, terms: list[_Term]) -> _Sector:
        dim = n_exc.size
        kk, ll = np.nonzero(n_exc[:, None] - n_exc[None, :] == m)
        lookup = np.full(dim * dim, -1, dtype=np.int64)
        lookup[kk * dim + ll] = np.arange(kk.size)
        rows, cols, vals = [], [], []
        src = np.arange(kk.size)
        for term in terms:
            # A |k'><l'| B = sum_{k,l} A[k,k'] B[l',l] |k><l|
            a = term.left.tocsc()
            b = term.right.tocsr()
            a_rows, a_vals, a_ptr = a.indices, a.data, a.indptr
            b_cols, b_vals, b_ptr = b.indices, b.data, b.indptr
            a_cnt = np.diff(a_ptr)[kk]
            b_cnt = np.diff(b_ptr)[ll]
            # expand every (A-column entry) x (B-row entry) pair
            n_pairs = a_cnt * b_cnt
            keep = n_pairs > 0
            if not np.any(keep):
                continue
            rep = np.repeat(np.arange(kk.size)[keep], n_pairs[keep])
            # local offsets inside each pair block
            starts = np.repeat(np.cumsum(n_pairs[keep]) - n_pairs[keep], n_pairs[keep])
            local = np.arange(rep.size) - starts
            bc = b_cnt[rep]
            ia = a_ptr[kk[rep]] + local // bc
            ib = b_ptr[ll[rep]] + local % bc
            tgt = lookup[a_rows[ia] * dim + b_cols[ib]]
            if np.any(tgt < 0):  # pragma: no cover - guards the symmetry assumption
                raise RuntimeError("a Liouvillian term does not conserve the excitation difference")
            rows.append(tgt)
            cols.append(src[rep])
            vals.append(term.coef * a_vals[ia] * b_vals[ib])
        matrix = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                               shape=(kk.size, kk.size))
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        return cls(m, kk, ll, matrix)

    def trace_weights(self, op: sp.spmatrix) -> np.ndarray:
        """``w`` with ``Tr[rho op] = w @ v`` for ``v = rho[ket, bra]``.

        ``w[p] = op[bra_p, ket_p]``.
        """
        return np.asarray(sp.csr_matrix(op)[self.bra, self.ket]).ravel()

    def propagate(self, v0: np.ndarray, t: np.ndarray) -> np.ndarray:
        """``exp(L_m t_k) v0`` for every time, shape ``(len(t), size)``: blocks up to
        :data:`DENSE_SECTOR_MAX` entries with dense propagators, larger ones with
        ``expm_multiply`` (:func:`lindblad._propagate.propagate`)."""
        return propagate(self.matrix, v0, t)
