"""The package's version: recorded in every run's summary and results store, and compared
with a Dask cluster's workers. A module of its own so that any layer can read it without
importing the `sim` facade (which imports the runner)."""

__version__ = "0.1.0"
