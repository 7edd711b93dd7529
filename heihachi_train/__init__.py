"""Training code of the models this project ships: data rendering, training, evaluation.

Not part of the installed wheel and never imported by the runtime: it is run from a
checkout of the repository, e.g. ``python -m heihachi_train.drumnet.train --out DIR``.
"""
