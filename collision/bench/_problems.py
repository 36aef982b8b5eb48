"""The benchmark problems of DESIGN.md section 6, shared by every suite and by the peer.

* ``qubits``: 2-qubit cascade, qubit bath at T = 1, thermal start at T_S = 2,
  t in [0, 5], 501 points;
* ``oscillators``: 2 oscillators with cutoff 20, N_S = 1, N = 0, t in [0, 5], 501 points;

and, for the density engine against ``mesolve`` only (:func:`thermal_bath_oscillators`):

* ``oscillators, T=1``: the same with the reservoir at T = 1 (boson bath; the automatic
  bath cutoff keeps 19 ancilla levels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lindblad import CascadeMasterEquation, states

from ..model import CascadeCollisionModel


@dataclass(frozen=True)
class Problem:
    """One benchmark problem: a reference model and its initial state."""

    name: str
    model: CascadeMasterEquation
    rho0: np.ndarray
    times: np.ndarray


def problems() -> dict[str, Problem]:
    """The two problems of DESIGN.md section 6."""
    t = np.linspace(0.0, 5.0, 501)
    qb = CascadeMasterEquation("qubit", temperature=1.0)
    rho_q = states.product(*[states.thermal("qubit", 2.0)] * 2)
    osc = CascadeMasterEquation("oscillator", cutoff=20, temperature=0.0)
    t_s = 1.0 / math.log(2.0)  # N_S = 1
    rho_o = states.product(*[states.thermal("oscillator", t_s, 20)] * 2)
    return {"qubits": Problem("qubits", qb, rho_q, t),
            "oscillators": Problem("oscillators", osc, rho_o, t)}


def thermal_bath_oscillators() -> Problem:
    """The ``oscillators`` problem with the reservoir at T = 1 (issue 12: the density
    engine, whose cost grows with the number of ancilla levels, against ``mesolve``)."""
    osc = problems()["oscillators"]
    model = CascadeMasterEquation("oscillator", cutoff=20, temperature=1.0)
    return Problem("oscillators, T=1", model, osc.rho0, osc.times)


def collision_model(prob: Problem) -> CascadeCollisionModel:
    """The collision model with the same physics as a problem's reference."""
    me = prob.model
    return CascadeCollisionModel(me.system, me.n_systems, me.gamma, me.omega, me.temperature,
                                 me.cutoff, me.bath, cascade=me.cascade)
