"""Presentation: how results look, for every reader of them.

- `sim.present.format`: number formats (money, ratios, shares, counts, table cells) and
  short labels;
- `sim.present.tables`: Markdown tables;
- `sim.present.figures`: the figure style, figure and file helpers shared by the run report,
  the experiment reports and the workshop;
- `sim.present.console`: the terminal console and the KPI table printed after a run.

This layer knows no engine and writes no run: the run report (`sim.report`), the
experiments, the workshop and the CLI import it by these public names.
"""
