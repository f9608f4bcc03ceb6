"""Early warning and cascade pricing: features, labels, training on simulation, evaluation.

* :mod:`.features` — what a risk desk observes (volatility, order flow, depth, liquidation walls);
* :mod:`.labels` — what counts as a cascade, and its onset;
* :mod:`.family` / :mod:`.simulate` — scenario families and training data from the engine;
* :mod:`.models` — logistic regression and histogram gradient boosting, isotonic calibration,
  safe persistence (plain JSON / skops);
* :mod:`.evaluate` — splits, AUC and Brier with bootstrap CIs, reliability, lead times;
* :mod:`.realdata` — out-of-sample evidence on public market data;
* :mod:`.warn` — the score of one snapshot (``liqcascade warn``);
* :mod:`.premium` — the per-position cascade risk premium (``liqcascade price-risk``).

Heavy dependencies (scikit-learn, skops, arch, pyarrow, plotly) are imported inside functions.
"""
