"""The searchers behind one interface (base, with typed settings in params): enumerative (with
resynthesis below a prefix), beam, stochastic and alphadev/, their workers on one pool."""
