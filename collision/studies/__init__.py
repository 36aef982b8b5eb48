"""Studies built on the engines: what ``collision converge`` and ``collision figures`` run.

* :mod:`collision.studies.convergence`: error against the exact Lindblad reference as the
  time step shrinks, and Monte Carlo error as the number of trajectories grows
  (:mod:`collision.studies.convergence_plots` draws them).
* :mod:`collision.studies.paper`: the paper's Figs 2-7 and ``REPORT.md``, split into
  analysis helpers, computation, plots, CSV files and the report.
* :mod:`collision.studies.heat_statistics`: heat fluctuations against the correlations of
  Fig. 3 and the exchange fluctuation theorem (``python -m
  collision.studies.heat_statistics``; :mod:`collision.studies.heat_statistics_plots`).
* :mod:`collision.studies.memory`: a reservoir with memory (ancilla-ancilla collisions),
  from Markovian decay to revivals, and the cascade in it (``collision memory``;
  :mod:`collision.studies.memory_plots`).

The studies import the engines (:mod:`collision.model`, :mod:`collision.gaussian`) and
:mod:`lindblad`; no engine imports a study.  Only the ``*plots`` modules use matplotlib.
"""
