"""Experiments: strategy comparison, parameter sweeps and sensitivity analysis.

An experiment file (`experiments/*.toml`) names a base scenario, the factors to vary (dotted
scenario keys with a list of values or a range), a design (grid, lhs, sobol, morris),
replicates, the KPIs to keep and the analysis to run. `siyu sweep` runs it on an executor
(serial, a local process pool or a Dask cluster) into a results store; `siyu compare` runs
strategies with common random numbers and reports paired differences.
"""

from sim.experiments.spec import Experiment, load_experiment

__all__ = ["Experiment", "load_experiment"]
