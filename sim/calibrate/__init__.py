"""Calibrating a scenario to a brand's own data.

- `data`: the brand data schema (order log; optional member events, daily ad spend and
  store traffic), its loaders (CSV, Parquet, the CDNOW text format) with one-line errors,
  and the per-customer summary (frequency, recency, T, mean spend) the models take;
- `btyd`: the buy-till-you-die models fitted by maximum likelihood: BG/NBD, MBG/NBD and
  Gamma-Gamma, with standard errors, expectations and P(alive);
- `clv`: the customer lifetime value those models imply (margin-based, discounted, unlimited
  horizon);
- `synthetic`: order logs drawn from the BG/NBD process with known parameters;
- `holdout`: out-of-sample validation (tracking of repeat transactions, conditional
  expectations by frequency) and its figures;
- `mapping`: the fit mapped onto the scenario's parameters, and the calibrated scenario file;
- `adjust`: the simulation-based adjustment of the mapped need rate (`--simulate`);
- `roundtrip`: a run's events as an order log, and the repeat-buying curve of a cohort;
- `recovery`: the synthetic round trip (known parameters run, fitted and mapped back);
- `sbc`: the simulation-based calibration against the repeat-buying curve (`--sbc-trials`);
- `draws`: parameter draws from a calibration for `siyu run` / `siyu compare`
  (`--calibration`);
- `report`: `calibrate()`, the whole pipeline behind `siyu calibrate`, and its report.
"""
