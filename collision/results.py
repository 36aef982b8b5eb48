"""The result of a general collision-model run: expectation values and heat per stream.

:class:`Result` is what :meth:`collision.CollisionModel.run` returns, whatever the engine:
``t``; ``expect`` (name -> array over ``t``); ``heat`` (stream -> the energy that stream's
ancillas carry away per unit time over the step that starts at each saved time);
``final_state``; ``parameters``; and, for Monte Carlo runs, ``stderr`` (standard errors
with the same keys) and the mergeable ``statistics``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class ResultErrors:
    """Standard errors of a Monte Carlo :class:`Result` (same keys and shapes).

    For a non-Hermitian operator the error of the real and of the imaginary part are the
    real and imaginary parts of ``expect[name]``.
    """

    expect: dict[str, np.ndarray]
    heat: dict[str, np.ndarray]


@dataclass
class Result:
    """Expectation values and heat flows of a collision-model run.

    Attributes
    ----------
    t : ndarray, shape (n_t,)
        Saved times.
    expect : dict of str to ndarray, shape (n_t,)
        ``Tr[O rho(t)]`` for every operator of ``e_ops`` (real for Hermitian operators,
        complex otherwise).  A list ``e_ops`` is stored under the keys ``"0", "1", ...``;
        :attr:`expect_list` gives them back in order.
    heat : dict of str to ndarray, shape (n_t,)
        For every stream with a Hamiltonian: ``(Tr[H_A rho_A'] - Tr[H_A eta]) / dt``, the
        energy its ancilla carries away per unit time over the step that starts at ``t``
        (``rho_A'`` the outgoing ancilla's state).  Positive: energy into the reservoir.
    final_state : ndarray, shape (D, D), or None
        The state at ``t[-1]`` (trajectories: the average of ``|psi><psi|``).
    parameters : dict
        What produced the result: the model, the run's arguments and options.
    stderr : ResultErrors or None
        Standard errors (Monte Carlo only).
    partial : bool
        True when the run was interrupted (Ctrl-C) and covers the finished part.
    statistics : object or None
        Monte Carlo: the mergeable statistics (:mod:`collision.statistics`).
    """

    t: np.ndarray
    expect: dict[str, np.ndarray]
    heat: dict[str, np.ndarray]
    final_state: np.ndarray | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    stderr: ResultErrors | None = None
    partial: bool = False
    statistics: Any = field(default=None, repr=False, compare=False)

    __hash__ = None  # a mutable container of arrays

    def __eq__(self, other) -> bool:  # arrays make == ambiguous; identity is what is meant
        return self is other

    @property
    def expect_list(self) -> list[np.ndarray]:
        """The expectation values in the order of a list ``e_ops``."""
        return [self.expect[k] for k in self.expect]

    def __repr__(self) -> str:
        kind = "Monte Carlo" if self.stderr is not None else "exact"
        span = f"t = {self.t[0]:g} .. {self.t[-1]:g} ({self.t.size} times)" if self.t.size \
            else "no times"
        return (f"Result({kind}, {span}, expect: {list(self.expect)}, heat: "
                f"{list(self.heat)}{', partial' if self.partial else ''})")
